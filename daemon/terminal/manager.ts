// Web terminals (issue 7, DESIGN §3, §6; seed 003 "Web Terminal Trust Boundary"). A terminal is a
// PTY (node-pty) running the login shell that THE spawn path (shellCommandFor, unix/spawn.ts) picks
// for the mode's identity. Its output goes to the one Socket.IO connection that opened it, emitted
// on that socket directly: never through a channel, so no other connection can ever receive it.
import crypto from 'node:crypto';
import * as pty from 'node-pty';
import type { RealTimeConnection } from '@feathersjs/feathers';
import type { Socket } from 'socket.io';
import type { Application } from '../declarations.js';
import type { ExecutionIdentity } from '../unix/identity.js';
import { recordSecurityEvent } from '../audit/security-event.js';
import { sessionMembers } from '../executor/proc.js';
import { terminalWireEvent, type TerminalEventData } from '../services/terminals/terminals.shared.js';

export const TERMINAL_TERM = 'xterm-256color';
const OUTPUT_EVENT = terminalWireEvent('output');
const EXIT_EVENT = terminalWireEvent('exit');
/**
 * Output batching: a small chunk with nothing pending (an echoed keystroke, a prompt) goes out at
 * once; a full PTY read (~4 KiB: a large `cat` is running) starts a batch that gathers chunks for up
 * to BATCH_MS or BATCH_BYTES, so the socket carries a few large events instead of thousands of 4 KiB
 * ones.
 */
const BATCH_MS = 4;
const BATCH_BYTES = 64 * 1024;
const BURST_CHUNK = 2048;
/**
 * Flow control: when this many output events wait in the connection's write buffer (the client or
 * the network does not keep up), the PTY is paused — the shell's writes block, as over a slow ssh
 * link — until the buffer is handed on. The daemon holds at most about this many batches per terminal.
 */
const MAX_BACKLOG_EVENTS = 16;

/** The engine.io connection under a socket: its packets not yet handed to the transport. */
interface EngineConnection {
  writeBuffer?: unknown[];
  once(event: 'drain', listener: () => void): unknown;
}

export interface TerminalOwner {
  id: string;
  email: string;
}

export interface Terminal {
  id: string;
  user: TerminalOwner;
  worktreeId: string;
  connection: RealTimeConnection;
  socket: Socket;
  identity: ExecutionIdentity;
  pty: pty.IPty;
  pid: number;
  idleTimer: NodeJS.Timeout;
  /** Resolves with the exit code once the shell exited. */
  exited: Promise<{ code: number; signal: number | undefined }>;
  closeReason?: string;
  /** Output paused by flow control (see MAX_BACKLOG_EVENTS). */
  paused: boolean;
}

export function describeIdentity(identity: ExecutionIdentity): string {
  if (identity.kind === 'daemon') return 'daemon user (simple mode)';
  if (identity.kind === 'insulated') return `${identity.user} (group ${identity.group})`;
  return identity.user;
}

/** Gathers output chunks into events (see BATCH_MS); flush() sends what is pending now. */
function outputBatcher(send: (data: string) => void): { push(chunk: string): void; flush(): void } {
  let pending: string[] = [];
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const data = pending.length === 1 ? pending[0]! : pending.join('');
    pending = [];
    bytes = 0;
    send(data);
  };
  const push = (chunk: string) => {
    pending.push(chunk);
    bytes += chunk.length;
    if (bytes >= BATCH_BYTES || (timer === undefined && chunk.length < BURST_CHUNK)) return flush();
    timer ??= setTimeout(flush, BATCH_MS);
  };
  return { push, flush };
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone, or not ours to signal */
  }
}

export class TerminalManager {
  private readonly terminals = new Map<string, Terminal>();
  private shuttingDown = false;

  constructor(private readonly app: Application) {}

  private get config() {
    return this.app.get('runtime').config.execution;
  }

  countFor(userId: string): number {
    let n = 0;
    for (const t of this.terminals.values()) if (t.user.id === userId) n += 1;
    return n;
  }

  all(): Terminal[] {
    return [...this.terminals.values()];
  }

  get size(): number {
    return this.terminals.size;
  }

  get closing(): boolean {
    return this.shuttingDown;
  }

  /** The socket.io socket behind a Feathers connection (the provider keeps the mapping private). */
  socketOf(connection: RealTimeConnection): Socket | undefined {
    const io = (this.app as unknown as { io?: { of(nsp: string): { sockets: Map<string, Socket> } } }).io;
    if (!io) return undefined;
    for (const socket of io.of('/').sockets.values()) {
      if ((socket as unknown as { feathers?: unknown }).feathers === connection) return socket;
    }
    return undefined;
  }

  /**
   * The terminal `id` if `connection` opened it. Anyone else (another user, another tab of the same
   * user) gets undefined, which the service turns into NotFound: ids are never confirmed.
   */
  lookup(id: unknown, connection: RealTimeConnection | undefined): Terminal | undefined {
    if (typeof id !== 'string' || !connection) return undefined;
    const t = this.terminals.get(id);
    return t && t.connection === connection ? t : undefined;
  }

  open(args: {
    user: TerminalOwner;
    worktreeId: string;
    connection: RealTimeConnection;
    socket: Socket;
    identity: ExecutionIdentity;
    command: { file: string; args: string[]; env: NodeJS.ProcessEnv; cwd: string };
    cols: number;
    rows: number;
  }): Terminal {
    const { command } = args;
    const proc = pty.spawn(command.file, command.args, { name: TERMINAL_TERM, cols: args.cols, rows: args.rows, cwd: command.cwd, env: command.env as Record<string, string> });
    const id = crypto.randomUUID();
    let resolveExit!: (status: { code: number; signal: number | undefined }) => void;
    const exited = new Promise<{ code: number; signal: number | undefined }>((resolve) => (resolveExit = resolve));
    const terminal: Terminal = {
      id,
      user: args.user,
      worktreeId: args.worktreeId,
      connection: args.connection,
      socket: args.socket,
      identity: args.identity,
      pty: proc,
      pid: proc.pid,
      idleTimer: undefined as unknown as NodeJS.Timeout,
      exited,
      paused: false,
    };
    this.terminals.set(id, terminal);
    this.touch(terminal);
    const conn = (args.socket as unknown as { conn?: EngineConnection }).conn;
    const output = outputBatcher((data) => {
      if (!terminal.socket.connected) return;
      terminal.socket.emit(OUTPUT_EVENT, { id, data } satisfies TerminalEventData['output']);
      if (!terminal.paused && conn && (conn.writeBuffer?.length ?? 0) >= MAX_BACKLOG_EVENTS) {
        terminal.paused = true;
        proc.pause();
        conn.once('drain', () => this.resume(terminal));
      }
    });
    proc.onData(output.push);
    proc.onExit(({ exitCode, signal }) => {
      output.flush();
      clearTimeout(terminal.idleTimer);
      this.terminals.delete(id);
      // The shell is gone; anything it left in its session goes too.
      this.sweep(terminal, 'SIGKILL');
      if (terminal.socket.connected) terminal.socket.emit(EXIT_EVENT, { id, code: exitCode, signal: signal ?? null } satisfies TerminalEventData['exit']);
      // Resolved once recorded, so shutdown never closes the database under the audit write.
      void this.audit(terminal, 'terminal.closed', { reason: terminal.closeReason ?? 'the shell exited', exit_code: exitCode, signal: signal ?? null }).finally(() =>
        resolveExit({ code: exitCode, signal }),
      );
    });
    void this.audit(terminal, 'terminal.opened', { cols: args.cols, rows: args.rows });
    return terminal;
  }

  /** Lets output flow again (flow control; and before a close, so the PTY's exit is seen). */
  private resume(terminal: Terminal): void {
    if (!terminal.paused) return;
    terminal.paused = false;
    try {
      terminal.pty.resume();
    } catch {
      /* gone */
    }
  }

  /** Input or output of a user resets the idle timer. */
  touch(terminal: Terminal): void {
    clearTimeout(terminal.idleTimer);
    terminal.idleTimer = setTimeout(() => void this.close(terminal, 'idle timeout'), this.config.terminal_idle_seconds * 1000);
    terminal.idleTimer.unref();
  }

  write(terminal: Terminal, data: string): void {
    this.touch(terminal);
    terminal.pty.write(data);
  }

  resize(terminal: Terminal, cols: number, rows: number): void {
    this.touch(terminal);
    terminal.pty.resize(cols, rows);
  }

  /** Signals the shell's whole session (simple mode; node-pty setsid()s the shell, so its pid is the session id); through sudo, sudo itself relays. */
  private sweep(terminal: Terminal, signal: NodeJS.Signals): void {
    if (terminal.identity.kind === 'daemon') {
      signalQuietly(-terminal.pid, signal);
      for (const pid of sessionMembers(terminal.pid)) signalQuietly(pid, signal);
    } else {
      signalQuietly(terminal.pid, signal);
    }
  }

  /**
   * Closes the terminal: SIGHUP to the shell's session (a hangup, as when a terminal window
   * closes), then SIGKILL to everything left in it after the grace period. Resolves once the shell exited.
   */
  async close(terminal: Terminal, reason: string): Promise<void> {
    if (!this.terminals.has(terminal.id)) return void (await terminal.exited);
    terminal.closeReason ??= reason;
    clearTimeout(terminal.idleTimer);
    // A paused PTY would never report the shell's exit (node-pty waits for its output to end).
    this.resume(terminal);
    this.sweep(terminal, 'SIGHUP');
    this.sweep(terminal, 'SIGCONT');
    const grace = Math.min(this.config.stop_grace_seconds * 1000, 2000);
    const timer = setTimeout(() => {
      this.sweep(terminal, 'SIGKILL');
      try {
        terminal.pty.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }, grace);
    timer.unref();
    await terminal.exited;
    clearTimeout(timer);
  }

  /** Every terminal a connection opened (socket closed, logout, user revoked). */
  async closeConnection(connection: RealTimeConnection, reason: string): Promise<void> {
    await Promise.all([...this.terminals.values()].filter((t) => t.connection === connection).map((t) => this.close(t, reason)));
  }

  /** Daemon shutdown: every terminal, and everything under each shell. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all([...this.terminals.values()].map((t) => this.close(t, 'daemon shutdown')));
  }

  private async audit(terminal: Terminal, action: 'terminal.opened' | 'terminal.closed', details: Record<string, unknown>): Promise<void> {
    try {
      await recordSecurityEvent(this.app, {
        actor: terminal.user,
        action,
        worktreeId: terminal.worktreeId,
        target: { type: 'terminal', id: terminal.id },
        details: { ...details, runs_as: describeIdentity(terminal.identity), identity: terminal.identity, pid: terminal.pid },
      });
    } catch (error) {
      // The database may already be closed at shutdown; the log line keeps the record.
      console.warn(`[terminal] could not audit ${action} of ${terminal.id}: ${(error as Error).message}`);
    }
  }
}

const managers = new WeakMap<Application, TerminalManager>();

export function terminalsOf(app: Application): TerminalManager {
  let manager = managers.get(app);
  if (!manager) managers.set(app, (manager = new TerminalManager(app)));
  return manager;
}
