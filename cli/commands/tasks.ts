import type { Command } from 'commander';
import type { Application } from '@feathersjs/feathers';
import { connect } from '../client.js';
import { CliError } from '../errors.js';
import type { GlobalOptions } from '../context.js';
import { printObject, printRows } from '../output.js';
import { emailsById, findAll, pickOne, sessionId, worktreeId } from '../lookup.js';
import { tasksPath, type PublicTask } from '../../daemon/services/tasks/tasks.shared.js';
import { TASK_STATUSES } from '../../daemon/services/tasks/tasks.schema.js';

const globalsOf = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

/** A queued or running task, by id or id prefix: the only ones stop and cancel act on. */
async function activeTask(app: Application, ref: string): Promise<PublicTask> {
  const active = [...(await findAll<PublicTask>(app, tasksPath, { status: 'running' })), ...(await findAll<PublicTask>(app, tasksPath, { status: 'queued' }))];
  const prefix = ref.toLowerCase();
  try {
    return pickOne('active task', ref, active, [(t) => t.id === prefix, (t) => prefix.length >= 4 && t.id.startsWith(prefix)], (t) => `${t.id}  ${t.status}  ${t.prompt.slice(0, 60)}`, 'a longer id prefix');
  } catch (error) {
    if (!(error as Error).message.startsWith('No active task')) throw error;
    // Not active: say what it is if it exists (the service answers "already completed" or "No task").
    return (await app.service(tasksPath).get(ref)) as PublicTask;
  }
}

export function registerTasks(program: Command): void {
  const task = program.command('task').description('prompts sent to sessions: list, stop, cancel');
  task
    .command('list')
    .description('list tasks you may see, oldest first')
    .option('--session <session>', 'only this session (id, id prefix or title)')
    .option('--worktree <worktree>', 'only this worktree (id, repo/name or name)')
    .option('--status <status>', TASK_STATUSES.join(' | '))
    .action(async (opts: { session?: string; worktree?: string; status?: string }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const { app } = await connect(globals);
      if (opts.status && !(TASK_STATUSES as readonly string[]).includes(opts.status)) throw new CliError(`--status must be one of ${TASK_STATUSES.join(', ')}`, 2);
      const query = {
        ...(opts.session && { session_id: await sessionId(app, opts.session) }),
        ...(opts.worktree && { worktree_id: await worktreeId(app, opts.worktree) }),
        ...(opts.status && { status: opts.status }),
      };
      const [tasks, emails] = await Promise.all([findAll<PublicTask>(app, tasksPath, query), emailsById(app)]);
      const rows = tasks.map((t) => ({ ...t, creator: emails.get(t.created_by) ?? t.created_by, prompt: globals.json ? t.prompt : t.prompt.replace(/\s+/g, ' ').slice(0, 50) }));
      printRows(rows, ['id', 'session_id', 'status', 'creator', 'created_at', 'prompt'], globals.json);
    });
  task
    .command('stop <task>')
    .description('stop a running task (a queued one is cancelled); by id or id prefix')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const globals = globalsOf(cmd);
      const { app } = await connect(globals);
      const target = await activeTask(app, ref);
      printObject({ ...((await app.service(tasksPath).patch(target.id, { status: 'stopped' })) as PublicTask) }, globals.json);
    });
  task
    .command('cancel <task>')
    .description('cancel a queued task before it runs (refused once it runs: use stop); by id or id prefix')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const globals = globalsOf(cmd);
      const { app } = await connect(globals);
      const target = await activeTask(app, ref);
      if (target.status === 'running') throw new CliError(`Task ${target.id} is already running: stop it with agor task stop ${target.id}`);
      printObject({ ...((await app.service(tasksPath).patch(target.id, { status: 'stopped' })) as PublicTask) }, globals.json);
    });
}
