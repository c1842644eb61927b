import { Forbidden, MethodNotAllowed, NotFound, TooManyRequests, Unavailable } from '@feathersjs/errors';
import type { Id, Params } from '@feathersjs/feathers';
import type { Application } from '../../declarations.js';
import { allowOrThrow, ensureWorktreePermission, subjectOf } from '../../rbac/authorize.js';
import { loadExecutionIdentity } from '../../unix/identity.js';
import { terminalGitEnvironment, worktreeGitEnvironmentOf } from '../../unix/git-access.js';
import { shellCommandFor, spawnSettingsOf } from '../../unix/spawn.js';
import { describeIdentity, terminalsOf, TERMINAL_TERM, type Terminal } from '../../terminal/manager.js';
import { parseInput } from '../validate.js';
import { terminalCreateSchema, terminalInputSchema, terminalResizeSchema } from './terminals.schema.js';
import type { TerminalOpened } from './terminals.shared.js';

const notFound = (id: unknown) => new NotFound(`No terminal with id ${String(id).slice(0, 64)}`);

/**
 * Web terminals (Socket.IO only). Every call, in this order: the terminal must be enabled
 * (execution.allow_web_terminal), the caller a member or above, the call made over Socket.IO
 * (output streams to the opening socket; REST answers MethodNotAllowed). A terminal id answers
 * only to the connection that opened it; to anyone else it does not exist.
 */
export class TerminalsService {
  constructor(private readonly app: Application) {}

  private get execution() {
    return this.app.get('runtime').config.execution;
  }

  private guard(params: Params): void {
    if (!this.execution.allow_web_terminal) throw new Forbidden('The web terminal is disabled on this daemon (execution.allow_web_terminal: false)');
    const subject = subjectOf(params);
    allowOrThrow(subject, 'terminal.use');
    if (params.provider !== 'socketio' || !params.connection) throw new MethodNotAllowed('Terminals are available over Socket.IO only (their output streams to the opening connection)');
  }

  private mine(id: unknown, params: Params): Terminal {
    const terminal = terminalsOf(this.app).lookup(id, params.connection);
    if (!terminal) throw notFound(id);
    return terminal;
  }

  async create(data: unknown, params: Params): Promise<TerminalOpened> {
    this.guard(params);
    const request = parseInput(terminalCreateSchema, data);
    const row = await ensureWorktreePermission(this.app, params, 'terminal.open', request.worktree_id);
    const manager = terminalsOf(this.app);
    if (manager.closing) throw new Unavailable('The daemon is shutting down');
    const user = params.user!;
    if (manager.countFor(user.id) >= this.execution.max_terminals_per_user) {
      throw new TooManyRequests(`You have ${this.execution.max_terminals_per_user} terminals open (execution.max_terminals_per_user); close one first`);
    }
    if (manager.size >= this.execution.max_terminals) throw new TooManyRequests(`This daemon has ${this.execution.max_terminals} terminals open (execution.max_terminals); try again later`);
    const socket = manager.socketOf(params.connection!);
    if (!socket?.connected) throw new MethodNotAllowed('Terminals need a live Socket.IO connection');
    const worktree = await this.app.get('db')('worktrees').where('id', row.id ?? request.worktree_id).first('id', 'path');
    if (!worktree) throw new NotFound(`No worktree with id ${request.worktree_id}`);
    // THE identity decision and THE command line: the same as any executor or shell (unix/spawn.ts).
    const identity = await loadExecutionIdentity(this.app.get('db'), this.execution, user.id, worktree.id);
    // Another identity's git gets the worktree's pinned locations (agor-priv --git-dir ...).
    // Simple mode: the same locations, wherever the repository is, for the sandbox to bind.
    const git =
      identity.kind === 'daemon'
        ? await worktreeGitEnvironmentOf(this.app.get('db'), worktree.id).catch(() => undefined)
        : await terminalGitEnvironment(this.app.get('db'), worktree.id, this.app.get('runtime').dataDir);
    const command = shellCommandFor(identity, { cwd: worktree.path, worktreeId: worktree.id, term: TERMINAL_TERM, ...(git && { git }) }, spawnSettingsOf(this.app.get('runtime')));
    // Re-checked after the awaits: the limits hold under concurrent opens too.
    if (manager.countFor(user.id) >= this.execution.max_terminals_per_user || manager.size >= this.execution.max_terminals) throw new TooManyRequests('Too many terminals open');
    const terminal = manager.open({
      user: { id: user.id, email: user.email },
      worktreeId: worktree.id,
      connection: params.connection!,
      socket,
      identity,
      command,
      cols: request.cols,
      rows: request.rows,
    });
    return { id: terminal.id, runs_as: describeIdentity(identity) };
  }

  async input(data: unknown, params: Params): Promise<{ id: string }> {
    this.guard(params);
    const { id, data: keys } = parseInput(terminalInputSchema, data);
    terminalsOf(this.app).write(this.mine(id, params), keys);
    return { id };
  }

  async resize(data: unknown, params: Params): Promise<{ id: string; cols: number; rows: number }> {
    this.guard(params);
    const { id, cols, rows } = parseInput(terminalResizeSchema, data);
    terminalsOf(this.app).resize(this.mine(id, params), cols, rows);
    return { id, cols, rows };
  }

  async remove(id: Id | null, params: Params): Promise<{ id: string; code: number }> {
    this.guard(params);
    const terminal = this.mine(id, params);
    await terminalsOf(this.app).close(terminal, 'closed by its user');
    return { id: terminal.id, code: (await terminal.exited).code };
  }
}
