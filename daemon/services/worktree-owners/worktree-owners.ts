import { z } from 'zod';
import type { Application, HookContext } from '../../declarations.js';
import { parseInput } from '../validate.js';
import { recordSecurityEvent } from '../../audit/security-event.js';
import { WorktreeOwnersService } from './worktree-owners.class.js';
import { worktreeOwnersMethods, worktreeOwnersPath, type WorktreeOwner } from './worktree-owners.shared.js';
import type { BreakGlass } from '../worktrees/worktrees.class.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [worktreeOwnersPath]: WorktreeOwnersService;
  }
}

const ownerCreateSchema = z.strictObject({ user_id: z.string().min(1).max(64) });
const emptyQuery = z.strictObject({});

async function audit(ctx: HookContext<WorktreeOwnersService>, action: 'owner.added' | 'owner.removed'): Promise<void> {
  const owner = ctx.result as WorktreeOwner;
  const breakGlass = (ctx.params as { breakGlass?: BreakGlass }).breakGlass;
  await recordSecurityEvent(ctx.app, {
    actor: ctx.params.user!,
    action: breakGlass ? 'worktree.break_glass' : action,
    worktreeId: owner.worktree_id,
    target: { type: 'user', id: owner.user_id },
    message: breakGlass ? `${ctx.params.user!.email} (${ctx.params.user!.role}, not an owner) made itself an owner of worktree ${owner.worktree_id}` : undefined,
    details: { user_id: owner.user_id },
  });
}

export function configureWorktreeOwners(app: Application): void {
  app.use(worktreeOwnersPath, new WorktreeOwnersService(app), { methods: [...worktreeOwnersMethods] });
  app.service(worktreeOwnersPath).hooks({
    before: {
      find: [(ctx) => void parseInput(emptyQuery, ctx.params.query ?? {}, 'query')],
      create: [(ctx) => void (ctx.data = parseInput(ownerCreateSchema, ctx.data))],
    },
    after: {
      create: [(ctx) => audit(ctx, 'owner.added')],
      remove: [(ctx) => audit(ctx, 'owner.removed')],
    },
  });
}
