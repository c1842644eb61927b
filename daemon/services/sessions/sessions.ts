import type { Application, HookContext } from '../../declarations.js';
import { parseInput } from '../validate.js';
import { recordSecurityEvent } from '../../audit/security-event.js';
import { SessionsService, type CrossIdentityFork } from './sessions.class.js';
import { sessionCreateSchema, sessionPatchSchema, sessionQuerySchema, type PublicSession } from './sessions.schema.js';
import { sessionsMethods, sessionsPath } from './sessions.shared.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [sessionsPath]: SessionsService;
  }
}

/** A fork that keeps running as another user (session sharing on): [SECURITY] line + audit event. */
async function logCrossIdentityFork(ctx: HookContext<SessionsService>): Promise<void> {
  const fork = (ctx.params as { crossIdentityFork?: CrossIdentityFork }).crossIdentityFork;
  if (!fork) return;
  const session = ctx.result as PublicSession;
  await recordSecurityEvent(ctx.app, {
    actor: ctx.params.user!,
    action: 'session.shared_fork',
    worktreeId: session.worktree_id,
    target: { type: 'session', id: session.id },
    message: `${ctx.params.user!.email} created session ${session.id} from ${fork.parentId}; it runs as its creator ${fork.parentCreator} (session sharing is on)`,
    details: { parent_session_id: fork.parentId, runs_as: fork.parentCreator },
  });
}

export function configureSessions(app: Application): void {
  app.use(sessionsPath, new SessionsService(app), { methods: [...sessionsMethods] });
  app.service(sessionsPath).hooks({
    before: {
      find: [(ctx) => void (ctx.params.query = parseInput(sessionQuerySchema, ctx.params.query ?? {}, 'query'))],
      create: [(ctx) => void (ctx.data = parseInput(sessionCreateSchema, ctx.data) as never)],
      patch: [(ctx) => void (ctx.data = parseInput(sessionPatchSchema, ctx.data) as never)],
    },
    after: { create: [logCrossIdentityFork] },
  });
}
