import type { Command } from 'commander';
import type { Application } from '@feathersjs/feathers';
import { connect } from '../client.js';
import type { GlobalOptions } from '../context.js';
import { confirm } from '../confirm.js';
import { printObject, printRows } from '../output.js';
import { emailsById, findAll, resolveSession, worktreeId } from '../lookup.js';
import { sessionsPath, type PublicSession } from '../../daemon/services/sessions/sessions.shared.js';
import { tasksPath, type PublicTask } from '../../daemon/services/tasks/tasks.shared.js';
import { worktreesPath, type PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';

const globalsOf = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();
const SESSION_REF = '<session> is an id, an id prefix, or a title unique among the sessions you may see.';

/** What a session is doing: archived, running, queued (prompts waiting), or idle. */
async function statusBySession(app: Application): Promise<Map<string, string>> {
  const [running, queued] = await Promise.all([findAll<PublicTask>(app, tasksPath, { status: 'running' }), findAll<PublicTask>(app, tasksPath, { status: 'queued' })]);
  const waiting = new Map<string, number>();
  for (const t of queued) waiting.set(t.session_id, (waiting.get(t.session_id) ?? 0) + 1);
  const status = new Map([...waiting].map(([id, n]) => [id, `queued (${n})`]));
  for (const t of running) status.set(t.session_id, 'running');
  return status;
}

export function registerSessions(program: Command): void {
  const session = program.command('session').description('agent sessions in worktrees');
  session
    .command('create <worktree>')
    .description('create a session in a worktree (id, repo/name or name); it runs as you')
    .option('--agent <agent>', 'claude-code | codex | gemini | a configured command agent', 'claude-code')
    .option('--title <title>', 'a title')
    .action(async (ref: string, opts: { agent: string; title?: string }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const { app } = await connect(globals);
      const data = { worktree_id: await worktreeId(app, ref), agent: opts.agent, ...(opts.title && { title: opts.title }) };
      printObject({ ...((await app.service(sessionsPath).create(data)) as PublicSession) }, globals.json);
    });
  session
    .command('list')
    .description('list sessions you may see, with what each is doing and who created it')
    .option('--worktree <worktree>', 'only this worktree (id, repo/name or name)')
    .option('--archived', 'also archived sessions')
    .action(async (opts: { worktree?: string; archived?: boolean }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const { app } = await connect(globals);
      const query = { ...(opts.worktree && { worktree_id: await worktreeId(app, opts.worktree) }), ...(!opts.archived && { archived: false }) };
      const [sessions, worktrees, emails, status] = await Promise.all([
        findAll<PublicSession>(app, sessionsPath, query),
        findAll<PublicWorktree>(app, worktreesPath),
        emailsById(app),
        statusBySession(app),
      ]);
      const worktreeName = new Map(worktrees.map((w) => [w.id, w.name]));
      const rows = sessions.map((s) => ({
        ...s,
        worktree: worktreeName.get(s.worktree_id) ?? s.worktree_id,
        status: s.archived ? 'archived' : (status.get(s.id) ?? 'idle'),
        creator: emails.get(s.created_by) ?? s.created_by,
      }));
      printRows(rows, ['id', 'title', 'worktree', 'agent', 'status', 'creator', 'created_at'], globals.json);
    });
  session
    .command('show <session>')
    .description('show one session')
    .addHelpText('after', `\n${SESSION_REF}`)
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const globals = globalsOf(cmd);
      printObject({ ...(await resolveSession((await connect(globals)).app, ref)) }, globals.json);
    });
  session
    .command('log <session>')
    .description("print a session's prompts and the agent's output; --follow keeps printing new output")
    .option('-f, --follow', 'keep printing new tasks and output until Ctrl-C (exit 0)')
    .addHelpText('after', `\n${SESSION_REF}\nWith --json: one object per line, {"task": …} when a task starts and when it ends, {"message": …} for each message.`)
    .action(async (ref: string, opts: { follow?: boolean }, cmd: Command) => {
      const { sessionLog } = await import('../session-log.js');
      await sessionLog(globalsOf(cmd), ref, Boolean(opts.follow));
    });
  session
    .command('fork <session>')
    .description('fork a session (the fork runs as you unless the worktree shares sessions)')
    .option('--title <title>', 'a title')
    .action(async (ref: string, opts: { title?: string }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const { app } = await connect(globals);
      const data = { fork_from: (await resolveSession(app, ref)).id, ...(opts.title && { title: opts.title }) };
      printObject({ ...((await app.service(sessionsPath).create(data)) as PublicSession) }, globals.json);
    });
  session
    .command('archive <session>')
    .description('archive a session: hidden from lists, kept with its history')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const globals = globalsOf(cmd);
      const { app } = await connect(globals);
      const target = await resolveSession(app, ref);
      printObject({ ...((await app.service(sessionsPath).patch(target.id, { archived: true })) as PublicSession) }, globals.json);
    });
  session
    .command('delete <session>')
    .description('delete a session with its tasks and output; asks first unless --yes')
    .option('-y, --yes', 'do not ask for confirmation (needed without a terminal)')
    .action(async (ref: string, opts: { yes?: boolean }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const { app } = await connect(globals);
      const target = await resolveSession(app, ref);
      await confirm(`Delete session "${target.title || target.id}" with its tasks and output?`, opts.yes);
      printObject({ ...((await app.service(sessionsPath).remove(target.id)) as PublicSession) }, globals.json);
    });
}
