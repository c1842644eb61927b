import type { Application, HookContext } from '../../declarations.js';
import { parseInput } from '../validate.js';
import { WorktreesService, type BreakGlass } from './worktrees.class.js';
import { PERMISSION_FIELDS, worktreeCreateSchema, worktreePatchSchema, worktreeQuerySchema, worktreeRemoveQuerySchema, type PublicWorktree, type WorktreePatch } from './worktrees.schema.js';
import { worktreesMethods, worktreesPath } from './worktrees.shared.js';
import { recordSecurityEvent } from '../../audit/security-event.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [worktreesPath]: WorktreesService;
  }
}

/**
 * Permission changes are audited; an admin making one on a worktree it does not own (break-glass)
 * also gets a [SECURITY] line. Either way the event carries worktree_id, so its owners see it.
 */
async function auditPatch(ctx: HookContext<WorktreesService>): Promise<void> {
  const data = ctx.data as WorktreePatch;
  const changed = Object.fromEntries(PERMISSION_FIELDS.filter((f) => data[f] !== undefined).map((f) => [f, data[f]]));
  if (Object.keys(changed).length === 0) return;
  const breakGlass = (ctx.params as { breakGlass?: BreakGlass }).breakGlass;
  await recordSecurityEvent(ctx.app, {
    actor: ctx.params.user!,
    action: breakGlass ? 'worktree.break_glass' : 'worktree.access_changed',
    worktreeId: String(ctx.id),
    message: breakGlass && `${ctx.params.user!.email} (${ctx.params.user!.role}, not an owner) ${breakGlass.what} of worktree ${breakGlass.worktreeId}`,
    details: changed,
  });
}

const auditLifecycle = (action: 'worktree.created' | 'worktree.deleted') => async (ctx: HookContext<WorktreesService>) => {
  const worktree = ctx.result as PublicWorktree;
  await recordSecurityEvent(ctx.app, {
    actor: ctx.params.user!,
    action,
    worktreeId: worktree.id,
    details: { name: worktree.name, repo_id: worktree.repo_id, branch: worktree.branch },
  });
};

export function configureWorktrees(app: Application): void {
  app.use(worktreesPath, new WorktreesService(app), { methods: [...worktreesMethods] });
  app.service(worktreesPath).hooks({
    before: {
      find: [(ctx) => void (ctx.params.query = parseInput(worktreeQuerySchema, ctx.params.query ?? {}, 'query'))],
      create: [(ctx) => void (ctx.data = parseInput(worktreeCreateSchema, ctx.data))],
      patch: [(ctx) => void (ctx.data = parseInput(worktreePatchSchema, ctx.data) as never)],
      remove: [(ctx) => void (ctx.params.query = parseInput(worktreeRemoveQuerySchema, ctx.params.query ?? {}, 'query'))],
    },
    after: {
      create: [auditLifecycle('worktree.created')],
      patch: [auditPatch],
      remove: [auditLifecycle('worktree.deleted')],
    },
  });
}
