import type { Command } from 'commander';
import type { Paginated } from '@feathersjs/feathers';
import { connect } from '../client.js';
import type { GlobalOptions } from '../context.js';
import { printObject, printRows } from '../output.js';
import { approvalsPath, type PublicApproval } from '../../daemon/services/approvals/approvals.shared.js';

const globalsOf = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

/** One line saying what the tool would do: the command, the path, or the input as JSON. */
export function approvalSummary(a: Pick<PublicApproval, 'input'>): string {
  const input = (a.input ?? {}) as Record<string, unknown>;
  const text = typeof input.command === 'string' ? input.command : typeof input.file_path === 'string' ? input.file_path : JSON.stringify(a.input);
  const line = text.replace(/\s+/g, ' ');
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

const show = (a: PublicApproval, json: boolean | undefined) =>
  printObject({ id: a.id, status: a.status, tool: a.tool, input: JSON.stringify(a.input), rule: a.rule, reason: a.reason, scope: a.scope, command_prefix: a.command_prefix, message: a.message, answered_by: a.answered_by }, json);

/** `agor approvals`, `agor approve <id>`, `agor deny <id>`: tool approvals (issue 16). */
export function registerApprovals(program: Command): void {
  program
    .command('approvals')
    .description('tool calls waiting for your answer (your sessions, and worktrees you own)')
    .option('--session <id>', 'only this session')
    .option('--all', 'every request you may see, answered or not, not only those waiting for you')
    .action(async (opts: { session?: string; all?: boolean }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const query = { $limit: 1000, ...(opts.all ? {} : { answerable: true }), ...(opts.session && { session_id: opts.session }) };
      const page = (await (await connect(globals)).app.service(approvalsPath).find({ query })) as Paginated<PublicApproval>;
      if (globals.json) return printRows(page.data as never, [], true);
      printRows(page.data.map((a) => ({ ...a, what: approvalSummary(a) })) as never, ['id', 'status', 'tool', 'what', 'session_id', 'created_at'], false);
    });
  program
    .command('approve <id>')
    .description('allow a waiting tool call (once, or with --for-session for the rest of the session)')
    .option('--for-session', 'also allow this tool (shell: this command prefix) for the rest of the session')
    .option('--prefix <words>', 'with --for-session, for a shell tool: the command prefix to allow (default: its first word)')
    .action(async (id: string, opts: { forSession?: boolean; prefix?: string }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const data = { decision: 'allow', scope: opts.forSession ? 'session' : 'once', ...(opts.prefix && { command_prefix: opts.prefix }) };
      show((await (await connect(globals)).app.service(approvalsPath).patch(id, data)) as PublicApproval, globals.json);
    });
  program
    .command('deny <id>')
    .description('deny a waiting tool call; the agent is told why')
    .option('--message <text>', 'what the agent is told')
    .action(async (id: string, opts: { message?: string }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const data = { decision: 'deny', ...(opts.message && { message: opts.message }) };
      show((await (await connect(globals)).app.service(approvalsPath).patch(id, data)) as PublicApproval, globals.json);
    });
}
