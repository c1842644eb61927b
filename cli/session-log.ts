// `agor session log <session> [--follow]`: the conversation so far, then (with --follow) new
// tasks and output as they happen, until Ctrl-C. Following reads the history over the same
// Socket.IO connection whose events continue it, so nothing falls between the two.
import type { GlobalOptions } from './context.js';
import { CliError } from './errors.js';
import { Follower } from './follow.js';
import { LogPrinter } from './log-printer.js';
import { emailsById, findAll, resolveSession } from './lookup.js';
import { messagesPath, type PublicMessage } from '../daemon/services/messages/messages.shared.js';
import { tasksPath, type PublicTask } from '../daemon/services/tasks/tasks.shared.js';
import type { Application } from '@feathersjs/feathers';

/** Messages of a whole session can be many (a command agent's every line is one). */
const MAX_MESSAGES = 100_000;

async function printer(app: Application, json: boolean | undefined): Promise<LogPrinter> {
  const emails = await emailsById(app);
  return new LogPrinter({ json, headers: true, split: false, who: (id) => emails.get(id) ?? id });
}

export async function sessionLog(globals: GlobalOptions, ref: string, follow: boolean): Promise<void> {
  if (!follow) {
    const { connect } = await import('./client.js');
    const { app } = await connect(globals);
    const session = await resolveSession(app, ref);
    const [tasks, messages, out] = await Promise.all([
      findAll<PublicTask>(app, tasksPath, { session_id: session.id }),
      findAll<PublicMessage>(app, messagesPath, { session_id: session.id }, 0, MAX_MESSAGES),
      printer(app, globals.json),
    ]);
    out.history(tasks, messages, (m) => out.message(m));
    return;
  }
  const { connectLive, onSessionRemoved } = await import('./live.js');
  const live = await connectLive(globals);
  const session = await resolveSession(live.app, ref);
  const out = await printer(live.app, globals.json);
  let fail!: (error: Error) => void;
  const ended = new Promise<void>((resolve, reject) => {
    fail = reject;
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  ended.catch(() => undefined); // it may fail before it is awaited; the await below still sees it
  const follower: Follower = new Follower(live, {
    wants: (e) => ('message' in e ? e.message.session_id : e.task.session_id) === session.id,
    message: (m) => out.message(m),
    task: (t) => out.task(t),
    resync: async () => {
      const [tasks, messages] = await Promise.all([
        findAll<PublicTask>(live.app, tasksPath, { session_id: session.id }),
        findAll<PublicMessage>(live.app, messagesPath, { session_id: session.id }, follower.delivered, MAX_MESSAGES),
      ]);
      // The same pass at the start and after a reconnect: what was printed already is not again.
      out.history(tasks, messages, (m) => follower.deliver(m));
    },
    lost: fail,
  });
  onSessionRemoved(live, session.id, () => fail(new CliError(`Session "${session.title || session.id}" was deleted`)));
  try {
    await follower.resync();
    await ended;
  } finally {
    follower.close();
  }
}
