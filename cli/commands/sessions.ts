import type { Command } from 'commander';
import type { Paginated } from '@feathersjs/feathers';
import { connect, type GlobalOptions } from '../context.js';
import { printObject, printRows } from '../output.js';
import { sessionsPath, type PublicSession } from '../../daemon/services/sessions/sessions.shared.js';
import { tasksPath } from '../../daemon/services/tasks/tasks.shared.js';

const globalsOf = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

export function registerSessions(program: Command): void {
  const session = program.command('session').description('agent sessions in worktrees');
  session
    .command('create <worktreeId>')
    .description('create a session; it runs as you')
    .option('--agent <agent>', 'claude-code | codex | gemini | a configured command agent', 'claude-code')
    .option('--title <title>', 'a title')
    .action(async (worktreeId: string, opts: { agent: string; title?: string }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const data = { worktree_id: worktreeId, agent: opts.agent, ...(opts.title && { title: opts.title }) };
      printObject({ ...((await connect(globals).app.service(sessionsPath).create(data)) as PublicSession) }, globals.json);
    });
  session
    .command('list')
    .description('list sessions you may see')
    .option('--worktree <id>', 'only this worktree')
    .action(async (opts: { worktree?: string }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const query = { $limit: 1000, ...(opts.worktree && { worktree_id: opts.worktree }) };
      const page = (await connect(globals).app.service(sessionsPath).find({ query })) as Paginated<PublicSession>;
      printRows(page.data as never, ['id', 'worktree_id', 'agent', 'title', 'created_by', 'created_at'], globals.json);
    });
  session
    .command('show <id>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const globals = globalsOf(cmd);
      printObject({ ...((await connect(globals).app.service(sessionsPath).get(id)) as PublicSession) }, globals.json);
    });
  session
    .command('fork <id>')
    .description('fork a session (the fork runs as you unless the worktree shares sessions)')
    .option('--title <title>', 'a title')
    .action(async (id: string, opts: { title?: string }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const data = { fork_from: id, ...(opts.title && { title: opts.title }) };
      printObject({ ...((await connect(globals).app.service(sessionsPath).create(data)) as PublicSession) }, globals.json);
    });
  program
    .command('prompt <sessionId> <text>')
    .description('send a prompt to a session (recorded as a task)')
    .action(async (sessionId: string, text: string, _o: unknown, cmd: Command) => {
      const globals = globalsOf(cmd);
      printObject({ ...((await connect(globals).app.service(tasksPath).create({ session_id: sessionId, prompt: text })) as Record<string, unknown>) }, globals.json);
    });
}
