// `agor prompt <session> "…" --wait`: sends the prompt over Socket.IO, streams the agent's output
// as it comes, and ends with an exit code saying how the task ended (exit-codes.ts).
import readline from 'node:readline';
import type { GlobalOptions } from './context.js';
import { connectLive, onSessionRemoved } from './live.js';
import { CliError } from './errors.js';
import { Follower } from './follow.js';
import { LogPrinter } from './log-printer.js';
import { EXIT } from './exit-codes.js';
import { findAll, resolveSession } from './lookup.js';
import { isFinished } from './render.js';
import { messagesPath, type PublicMessage } from '../daemon/services/messages/messages.shared.js';
import { tasksPath, type PublicTask } from '../daemon/services/tasks/tasks.shared.js';

const CODE_OF = { completed: EXIT.completed, failed: EXIT.failed, stopped: EXIT.stopped } as const;

export async function promptAndWait(globals: GlobalOptions, ref: string, prompt: string): Promise<number> {
  const live = await connectLive(globals);
  const tasks = live.app.service(tasksPath);
  let taskId: string | undefined;
  let settle!: (code: number) => void;
  let fail!: (error: Error) => void;
  const ended = new Promise<number>((resolve, reject) => ([settle, fail] = [resolve, reject]));
  ended.catch(() => undefined); // it may fail before it is awaited; the await below still sees it
  const printer = new LogPrinter({ json: globals.json, headers: false, split: true, who: (id) => id });
  let finished: PublicTask | undefined;
  const onTask = (t: PublicTask) => {
    if (!isFinished(t) || finished) return;
    finished = t;
    // Messages are written before the final status, but read once more so none is missed.
    follower
      .resync()
      .then(() => {
        printer.task(t);
        settle(CODE_OF[t.status as keyof typeof CODE_OF]);
      })
      .catch(fail);
  };
  const follower: Follower = new Follower(live, {
    wants: (e) => ('message' in e ? e.message.task_id === taskId : e.task.id === taskId),
    message: (m) => printer.message(m),
    task: onTask,
    resync: async () => {
      if (!taskId) return;
      const missed = await findAll<PublicMessage>(live.app, messagesPath, { task_id: taskId }, follower.delivered);
      for (const m of missed) follower.deliver(m);
      const current = (await tasks.get(taskId)) as PublicTask;
      // After this read's held events are released (it may have ended while we were away).
      if (isFinished(current)) setImmediate(() => onTask(current));
    },
    lost: fail,
  });
  const stopSignals = watchSignals(() => taskId, () => settle(EXIT.detached), async () => void (await tasks.patch(taskId!, { status: 'stopped' })));
  try {
    const session = await resolveSession(live.app, ref);
    onSessionRemoved(live, session.id, () => fail(new CliError(`Session "${session.title || session.id}" was deleted while its task ran`)));
    taskId = ((await tasks.create({ session_id: session.id, prompt })) as PublicTask).id;
    await follower.resync();
    return await ended;
  } finally {
    stopSignals();
    follower.close();
  }
}

/**
 * Ctrl-C on a terminal asks what to do; without one (a script), SIGINT and SIGTERM detach. Returns
 * the function that removes the handlers.
 */
function watchSignals(taskId: () => string | undefined, detach: () => void, stop: () => Promise<void>): () => void {
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  let asking: readline.Interface | undefined;
  const leave = () => {
    const id = taskId();
    if (id) process.stderr.write(`\nagor: stopped waiting; task ${id} goes on (stop it: agor task stop ${id})\n`);
    detach();
  };
  const ask = () => {
    if (!interactive || !taskId()) return leave();
    if (asking) return;
    asking = readline.createInterface({ input: process.stdin, output: process.stderr });
    asking.on('SIGINT', () => {
      asking?.close();
      leave();
    });
    asking.question('\nStop the task? [y] stop it  [n] keep waiting  [d] detach (it goes on): ', (answer) => {
      asking?.close();
      asking = undefined;
      const a = answer.trim().toLowerCase();
      if (a === 'y' || a === 'yes') {
        process.stderr.write('Stopping…\n');
        stop().catch((error: Error) => process.stderr.write(`agor: ${error.message}\n`));
      } else if (a === 'd') leave();
      else process.stderr.write('Still waiting (Ctrl-C asks again).\n');
    });
  };
  process.on('SIGINT', ask);
  process.on('SIGTERM', leave);
  return () => {
    process.off('SIGINT', ask);
    process.off('SIGTERM', leave);
    asking?.close();
  };
}
