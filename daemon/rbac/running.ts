// Revoking access reaches what already runs (DESIGN §4; issue 13, break 5). A running task's
// executor runs as its session's creator and a terminal's shell as its user, both with the
// worktree's group: when a change of owners, tiers, a role or the disabled flag takes away what
// started them, they are ended at once — not at their next start. The rule is decide()'s, asked
// again for every running process: the creator must still be allowed to run their session
// (`session.prompt` on their own session: tier `session`), whoever prompted it must still be
// allowed to prompt it, and a terminal's user must still be allowed `terminal.open` (tier `all`).
import type { Application, HookContext } from '../declarations.js';
import { recordSecurityEvent } from '../audit/security-event.js';
import { terminalsOf } from '../terminal/manager.js';
import type { Role } from '../auth/roles.js';
import { policyOf } from './authorize.js';
import { decide, type Action, type SessionFacts, type Subject } from './decide.js';
import { factsOf, loadWorktreeAccess } from './scope.js';

/** What to re-check: everything running in a worktree, or everything a user runs or prompted. */
export type RunningScope = { worktreeId: string } | { userId: string };

export interface Ended {
  tasks: string[];
  terminals: string[];
}

/**
 * Re-asks decide() for every running task and terminal in `scope` and ends those it no longer
 * allows (tasks stop with the reason, terminals close); each ended task is audited, a terminal by
 * its own `terminal.closed` event. Resolves once every stop was requested, not when the processes
 * are gone (a task's executor gets its grace period to stop).
 */
export async function endWhatIsNoLongerAllowed(app: Application, scope: RunningScope, actor: { id: string; email: string } | null | undefined): Promise<Ended> {
  const db = app.get('db');
  const policy = policyOf(app);
  const subjects = new Map<string, Subject | null>();
  const subjectOf = async (userId: string): Promise<Subject | null> => {
    if (!subjects.has(userId)) {
      const row = (await db('users').where('id', userId).first('id', 'role', 'disabled')) as { id: string; role: Role; disabled: unknown } | undefined;
      subjects.set(userId, row && !row.disabled ? { id: row.id, role: row.role } : null);
    }
    return subjects.get(userId)!;
  };
  /** Why `userId` may no longer do `action`, or null when still allowed. */
  const whyNot = async (userId: string, worktreeId: string, action: Action, session?: SessionFacts): Promise<string | null> => {
    const subject = await subjectOf(userId);
    if (!subject) return 'the user was disabled or removed';
    const row = await loadWorktreeAccess(db, worktreeId, subject);
    if (!row) return 'the worktree was deleted';
    const decision = decide(subject, action, { worktree: factsOf(row), session }, policy);
    return decision.allow ? null : decision.notFound ? 'no access to the worktree any more' : decision.reason;
  };
  const inScope = (worktreeId: string, ...userIds: string[]) => ('worktreeId' in scope ? worktreeId === scope.worktreeId : userIds.includes(scope.userId));

  const ended: Ended = { tasks: [], terminals: [] };
  const runner = app.get('runner');
  for (const task of runner?.runningTasks() ?? []) {
    const session = (await db('sessions').where('id', task.sessionId).first('created_by')) as SessionFacts | undefined;
    const creator = session?.created_by;
    if (!inScope(task.worktreeId, task.userId, ...(creator ? [creator] : []))) continue;
    let why: string | null = session ? null : 'the session was deleted';
    if (!why && creator) why = await whyNot(creator, task.worktreeId, 'session.prompt', session);
    if (!why && creator !== task.userId) why = await whyNot(task.userId, task.worktreeId, 'session.prompt', session);
    if (!why) continue;
    const reason = `access revoked: ${why}`;
    ended.tasks.push(task.taskId);
    void runner.stopTask(task.taskId, reason).catch((e: Error) => console.error(`[rbac] stopping task ${task.taskId}: ${e.message}`));
    await recordSecurityEvent(app, {
      actor,
      action: 'task.stopped_access_revoked',
      worktreeId: task.worktreeId,
      target: { type: 'task', id: task.taskId },
      message: `task ${task.taskId} in worktree ${task.worktreeId} stopped: ${reason}`,
      details: { reason, session_id: task.sessionId, session_creator: creator ?? null, prompted_by: task.userId },
    }).catch((e: Error) => console.error(`[rbac] could not audit the stop of task ${task.taskId}: ${e.message}`));
  }

  const terminals = terminalsOf(app);
  for (const terminal of terminals.all()) {
    if (!inScope(terminal.worktreeId, terminal.user.id)) continue;
    const why = await whyNot(terminal.user.id, terminal.worktreeId, 'terminal.open');
    if (!why) continue;
    ended.terminals.push(terminal.id);
    void terminals.close(terminal, `access revoked: ${why}`);
  }
  return ended;
}

const after = (scopeOf: (ctx: HookContext) => RunningScope | undefined) => async (ctx: HookContext) => {
  const scope = scopeOf(ctx);
  if (scope) await endWhatIsNoLongerAllowed(ctx.app as Application, scope, ctx.params.user);
};

/**
 * Every change that can take access away re-checks what runs: a worktree's tiers (or its removal),
 * an owner removed, a user's role, disabled flag or removal.
 */
export function configureRunningRevocation(app: Application): void {
  const worktree = (ctx: HookContext) => ({ worktreeId: String(ctx.id) });
  app.service('worktrees').hooks({ after: { patch: [after(worktree)], remove: [after(worktree)] } });
  app.service('worktrees/:worktree_id/owners').hooks({
    after: { remove: [after((ctx) => (ctx.params.route?.worktree_id ? { worktreeId: String(ctx.params.route.worktree_id) } : undefined))] },
  });
  const user = (ctx: HookContext) => {
    const id = (ctx.result as { id?: string } | undefined)?.id;
    return id ? { userId: id } : undefined;
  };
  app.service('users').hooks({ after: { patch: [after(user)], remove: [after(user)] } });
}
