// The daemon's side of one executor process: started through THE spawn path as the task's identity,
// spoken to only over its stdin/stdout (the protocol), its stderr logged. Resolves `outcome` once the
// process is gone, with what its `done` said, or a failure saying how it ended without one.
import type { z } from 'zod';
import { DAEMON_TO_EXECUTOR, EXECUTOR_TO_DAEMON, type DoneParams, type MessageParams, type RunTaskParams, type toolRequestParams } from '../protocol/methods.js';
import { RpcPeer } from '../protocol/peer.js';
import { LineReader } from '../protocol/line-reader.js';
import type { ExecutionIdentity } from '../unix/identity.js';
import { spawnAsIdentity, type SpawnSettings, type SpawnedProcess } from '../unix/spawn.js';
import type { GitEnvironment } from '../unix/git-access.js';

export interface ExecutorHandlers {
  onMessage(params: MessageParams): void;
  getCredentials(names: string[]): Promise<Record<string, string>>;
  toolRequest(params: z.output<typeof toolRequestParams>): Promise<{ behavior: 'allow' } | { behavior: 'deny'; message: string }>;
}

export interface ExecutorOutcome {
  status: 'completed' | 'failed' | 'stopped';
  resume: string | null;
  usage?: DoneParams['usage'];
  /** Why it failed, or how it ended without a `done`. */
  error?: string;
  /** The executor said `done` (vs. it died or was killed first). */
  reported: boolean;
}

export interface ExecutorStart {
  identity: ExecutionIdentity;
  settings: SpawnSettings;
  /** The worktree (its sandbox) and its git locations (what the sandbox binds). */
  worktreeId: string;
  git?: GitEnvironment;
  task: RunTaskParams;
  handlers: ExecutorHandlers;
  log(line: string): void;
  /** Simple mode only: run this program instead of the executor bundle (tests). */
  programPath?: string;
  /** No `ready` within this long: kill it (default 30 s). */
  readyTimeoutMs?: number;
  /** Called once the executor said `ready` (metrics: spawn time). */
  onReady?(): void;
}

/** How many stderr lines of one executor reach the daemon log. */
const MAX_STDERR_LINES = 200;
/** After `done`, how long the executor may take to exit on its own. */
const EXIT_AFTER_DONE_MS = 5000;

export class ExecutorConnection {
  readonly outcome: Promise<ExecutorOutcome>;
  private readonly proc: SpawnedProcess;
  private readonly peer: RpcPeer<typeof EXECUTOR_TO_DAEMON, typeof DAEMON_TO_EXECUTOR>;
  private done: DoneParams | null = null;
  private ready = false;
  private stopReason: string | null = null;
  private startError: string | null = null;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(private readonly start: ExecutorStart) {
    const { task, log } = start;
    const name = `executor for task ${task.task_id}`;
    this.proc = spawnAsIdentity(start.identity, { program: 'executor', cwd: task.cwd, worktreeId: start.worktreeId, ...(start.git && { git: start.git }), ...(start.programPath && { programPath: start.programPath }) }, start.settings);
    const child = this.proc.child;
    child.stdin!.on('error', () => undefined);
    this.peer = new RpcPeer({
      name: `${name} (pid ${child.pid ?? '?'})`,
      input: child.stdout!,
      write: (line) => (child.stdin!.writable ? child.stdin!.write(line) : false),
      incoming: EXECUTOR_TO_DAEMON,
      outgoing: DAEMON_TO_EXECUTOR,
      log,
    });

    let stderrLines = 0;
    const stderr = new LineReader({
      maxBytes: 4096,
      overflow: 'split',
      onLine: (line) => {
        stderrLines += 1;
        if (stderrLines <= MAX_STDERR_LINES) log(`[executor ${child.pid ?? '?'}] ${line}`);
        else if (stderrLines === MAX_STDERR_LINES + 1) log(`[executor ${child.pid ?? '?'}] (further stderr not logged)`);
      },
    });
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stderr!.on('end', () => stderr.end());

    const readyTimer = setTimeout(() => {
      if (this.ready) return;
      this.startError = `the executor did not start within ${(start.readyTimeoutMs ?? 30_000) / 1000} s`;
      void this.proc.stop(0);
    }, start.readyTimeoutMs ?? 30_000);
    readyTimer.unref();

    this.peer.onNotification('ready', () => {
      if (this.ready) return;
      this.ready = true;
      clearTimeout(readyTimer);
      start.onReady?.();
      if (this.stopReason !== null) {
        void this.proc.stop(0);
        return;
      }
      this.peer.request('run_task', task).catch((error: Error) => {
        this.startError = `the executor refused the task: ${error.message}`;
        void this.proc.stop(1000);
      });
    });
    this.peer.onNotification('message', (params) => {
      if (this.done || params.task_id !== task.task_id) return;
      start.handlers.onMessage(params);
    });
    this.peer.onNotification('done', (params) => {
      if (this.done || params.task_id !== task.task_id) return;
      this.done = params;
      // It exits by itself right after `done`; one that lingers is ended.
      this.killTimer = setTimeout(() => void this.proc.stop(1000), EXIT_AFTER_DONE_MS);
      this.killTimer.unref();
    });
    this.peer.onRequest('get_credentials', ({ names }) => {
      if (this.done) return { credentials: {} };
      return start.handlers.getCredentials(names).then((credentials) => ({ credentials }));
    });
    this.peer.onRequest('tool_request', (params) => start.handlers.toolRequest(params));

    this.outcome = this.proc.exited.then((status) => {
      clearTimeout(readyTimer);
      clearTimeout(this.killTimer);
      this.peer.close('executor exited');
      if (this.done) {
        const { status: s, resume, usage, error } = this.done;
        return { status: s, resume, usage, error, reported: true };
      }
      const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
      if (this.stopReason !== null) return { status: 'stopped', resume: null, error: `stopped (${this.stopReason}); the executor ${how}`, reported: false };
      return { status: 'failed', resume: null, error: this.startError ?? `the executor ${how} before finishing`, reported: false };
    });
  }

  get pid(): number | undefined {
    return this.proc.child.pid;
  }

  /** Pauses reading its output (the daemon's write queue is full). */
  pause(): void {
    this.peer.pause();
  }

  resume(): void {
    this.peer.resume();
  }

  /**
   * Asks the agent to stop (`stop`); the executor kills what it started after the grace period,
   * and is itself killed (SIGTERM, then SIGKILL) if it is still there a little later.
   */
  stop(reason: string): void {
    if (this.stopReason !== null) return;
    this.stopReason = reason;
    if (!this.ready) {
      void this.proc.stop(0);
      return;
    }
    try {
      this.peer.notify('stop', { reason: reason.slice(0, 500) });
    } catch {
      // the pipe is gone: the process is exiting anyway
    }
    const grace = this.start.task.stop_grace_ms;
    const backstop = setTimeout(() => void this.proc.stop(Math.min(grace, 2000)), grace + 2000);
    backstop.unref();
    void this.proc.exited.then(() => clearTimeout(backstop));
  }

  /** Ends it now (daemon shutdown after the grace period). */
  kill(): Promise<unknown> {
    this.stopReason ??= 'killed';
    return this.proc.stop(0);
  }
}
