// Wires the runner into the app: tasks.create enqueues, tasks.patch {status: 'stopped'} stops,
// removing a session or worktree stops what runs in it. startDaemon starts it (after secrets are
// ready) and shuts it down before the database closes.
import type { Application, HookContext } from '../declarations.js';
import type { TaskRow } from '../services/tasks/tasks.schema.js';
import type { PublicApproval } from '../services/approvals/approvals.schema.js';
import { TaskRunner } from './runner.js';

declare module '../declarations.js' {
  interface AppSettings {
    runner: TaskRunner;
  }
}

export { TaskRunner } from './runner.js';

export function runnerOf(app: Application): TaskRunner {
  return app.get('runner');
}

export function configureRunner(app: Application): void {
  app.set('runner', new TaskRunner(app));
  app.service('tasks').hooks({
    after: {
      create: [(ctx: HookContext) => void runnerOf(ctx.app).enqueue(ctx.result as TaskRow)],
      // The row already says stopped (the service checked permission and wrote it); the answer
      // waits until a running task's executor is gone.
      patch: [async (ctx: HookContext) => runnerOf(ctx.app).stopTask((ctx.result as TaskRow).id)],
    },
  });
  // An answer to a tool approval resumes the tool request waiting for it.
  app.service('approvals').hooks({ after: { patch: [(ctx: HookContext) => runnerOf(ctx.app).toolGate.answered(ctx.result as PublicApproval)] } });
  app.service('sessions').hooks({
    after: { remove: [async (ctx: HookContext) => runnerOf(ctx.app).stopWhere((e) => e.sessionId === (ctx.result as { id: string }).id, 'the session was deleted')] },
  });
  app.service('worktrees').hooks({
    after: { remove: [async (ctx: HookContext) => runnerOf(ctx.app).stopWhere((e) => e.worktreeId === (ctx.result as { id: string }).id, 'the worktree was deleted')] },
  });
}
