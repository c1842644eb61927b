// The daemon side of task execution (DESIGN §2, §8): a FIFO queue per session with one running task
// per session, limits per daemon and per prompting user, one executor process per task started as the
// session creator's identity, the creator's credentials handed over its pipe just in time, output
// persisted in batches and published through the services (so channels apply), the session's resume
// handle carried from one task to the next.
import type { Application } from '../declarations.js';
import type { AgorConfig } from '../config/schema.js';
import { nowIso } from '../db/database.js';
import type { MessageParams, RunTaskParams } from '../protocol/methods.js';
import type { MessageCreate } from '../services/messages/messages.schema.js';
import type { SessionRow } from '../services/sessions/sessions.schema.js';
import type { TaskRow } from '../services/tasks/tasks.schema.js';
import type { WorktreeRow } from '../services/worktrees/worktrees.schema.js';
import { gitVariables, worktreeGitEnvironmentOf, type GitEnvironment } from '../unix/git-access.js';
import { loadExecutionIdentity } from '../unix/identity.js';
import { spawnSettingsOf } from '../unix/spawn.js';
import { resolveAgent } from './agents.js';
import { deliverCredentials } from './credentials.js';
import { ExecutorConnection, type ExecutorOutcome } from './executor-connection.js';
import { INTERRUPTED, TaskStore } from './task-store.js';
import { ToolGate, withGateTimeout } from './tool-gate.js';
import { WriteQueue } from './write-queue.js';

/** Unwritten messages above which executors' output is no longer read until the queue drains. */
const HIGH_WATER = 5000;
/** How long a user's stop waits for the task to end before answering anyway. */
const STOP_WAIT_MARGIN_MS = 5000;

interface Waiting {
  taskId: string;
  sessionId: string;
  worktreeId: string;
  /** Who prompted: per-user limits count prompts, whoever's session they run in. */
  userId: string;
}

interface Running extends Waiting {
  connection?: ExecutorConnection;
  stopReason: string | null;
  /** The agent streamed a `usage` message itself (else done's usage is stored as one). */
  sawUsage: boolean;
  /** Settles once the task's final status is written and its slot released. */
  finished: Promise<void>;
}

export interface RunnerStartOptions {
  log?: (line: string) => void;
}

export class TaskRunner {
  private readonly store: TaskStore;
  private readonly messages: WriteQueue<MessageCreate>;
  /** The tool policy and its approvals (issue 16). */
  readonly toolGate: ToolGate;
  private waiting: Waiting[] = [];
  private readonly running = new Map<string, Running>();
  private readonly busySessions = new Set<string>();
  private readonly perUser = new Map<string, number>();
  private started = false;
  private stopping = false;
  private log: (line: string) => void = (line) => console.log(line);
  /** Simple mode only: a program to run instead of the executor bundle (tests). */
  executorProgramPath: string | undefined;

  constructor(private readonly app: Application) {
    this.store = new TaskStore(app);
    this.messages = new WriteQueue<MessageCreate>({ write: (batch) => this.writeMessages(batch), log: (line) => this.log(line) });
    this.toolGate = new ToolGate(app, this.store, async (message) => {
      this.messages.push(message);
      await this.messages.flush();
    });
  }

  private get config(): AgorConfig {
    return this.app.get('runtime').config;
  }

  private get db() {
    return this.app.get('db');
  }

  /** At daemon start: tasks a crash left running become failed/interrupted; queued ones are picked up. */
  async start({ log }: RunnerStartOptions = {}): Promise<void> {
    if (log) this.log = log;
    const interrupted = await this.store.failInterrupted();
    if (interrupted > 0) this.log(`[runner] ${interrupted} task(s) left running by a previous daemon are marked failed (${INTERRUPTED})`);
    await this.toolGate.cancelLeftovers();
    this.started = true;
    for (const task of await this.store.queued()) this.enqueue(task);
  }

  /** tasks.create (after): a new prompt waits its turn. */
  enqueue(task: Pick<TaskRow, 'id' | 'session_id' | 'worktree_id' | 'created_by' | 'status'>): void {
    if (!this.started || this.stopping || task.status !== 'queued') return;
    if (this.running.has(task.id) || this.waiting.some((w) => w.taskId === task.id)) return;
    this.waiting.push({ taskId: task.id, sessionId: task.session_id, worktreeId: task.worktree_id, userId: task.created_by });
    this.schedule();
  }

  /**
   * tasks.patch {status: 'stopped'} (after; the row already says stopped): a queued task leaves the
   * queue; a running one is asked to stop, and this resolves once its executor is gone (bounded).
   */
  async stopTask(taskId: string, reason = 'stopped by a user'): Promise<void> {
    this.waiting = this.waiting.filter((w) => w.taskId !== taskId);
    const entry = this.running.get(taskId);
    if (!entry) return;
    if (entry.stopReason === null) {
      entry.stopReason = reason;
      entry.connection?.stop(reason);
    }
    // A tool approval it waits for is answered "deny" (the agent stops anyway).
    await this.toolGate.cancelTask(taskId);
    const bound = this.config.execution.stop_grace_seconds * 1000 + STOP_WAIT_MARGIN_MS;
    await Promise.race([entry.finished, new Promise((r) => setTimeout(r, bound).unref())]);
  }

  /** A session or worktree is going away: its tasks stop (their rows are deleted with it). */
  async stopWhere(match: (entry: Waiting) => boolean, reason: string): Promise<void> {
    this.waiting = this.waiting.filter((w) => !match(w));
    await Promise.all([...this.running.values()].filter(match).map((e) => this.stopTask(e.taskId, reason)));
  }

  /** The tasks running now (rbac/running.ts re-checks them when access is taken away). */
  runningTasks(): Waiting[] {
    return [...this.running.values()].map(({ taskId, sessionId, worktreeId, userId }) => ({ taskId, sessionId, worktreeId, userId }));
  }

  /** The pid of a running task's executor (tests and diagnostics). */
  executorPid(taskId: string): number | undefined {
    return this.running.get(taskId)?.connection?.pid;
  }

  /**
   * Daemon shutdown: nothing new starts; running tasks are asked to stop and killed after the grace
   * period; they end `failed` (interrupted). Queued tasks stay queued for the next start.
   */
  async shutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.waiting = [];
    const entries = [...this.running.values()];
    for (const entry of entries) {
      entry.stopReason ??= 'the daemon is shutting down';
      entry.connection?.stop(entry.stopReason);
    }
    await Promise.all(entries.map((e) => this.toolGate.cancelTask(e.taskId)));
    const grace = this.config.execution.stop_grace_seconds * 1000;
    const all = Promise.all(entries.map((e) => e.finished));
    const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), grace).unref())]);
    if (timedOut) {
      await Promise.all(entries.map((e) => e.connection?.kill()));
      await Promise.race([all, new Promise((r) => setTimeout(r, 2000).unref())]);
    }
    await this.messages.flush();
  }

  /** Metrics (daemon/http/metrics.ts): seconds from spawning an executor to its `ready`. */
  onExecutorReady: ((seconds: number) => void) | undefined;

  /** Tasks waiting for a slot (metrics). */
  get queueLength(): number {
    return this.waiting.length;
  }

  /** The config was reloaded: raised limits let waiting tasks start now. */
  reschedule(): void {
    this.schedule();
  }

  /** Starts every waiting task that may start, in FIFO order, one per session. */
  private schedule(): void {
    if (this.stopping) return;
    const { max_concurrent_tasks: maxTotal, max_tasks_per_user: maxPerUser } = this.config.execution;
    const blocked = new Set<string>();
    for (const entry of [...this.waiting]) {
      if (this.running.size >= maxTotal) return;
      if (blocked.has(entry.sessionId) || this.busySessions.has(entry.sessionId) || (this.perUser.get(entry.userId) ?? 0) >= maxPerUser) {
        // A session's later prompts never overtake its first.
        blocked.add(entry.sessionId);
        continue;
      }
      this.waiting.splice(this.waiting.indexOf(entry), 1);
      this.launch(entry);
    }
  }

  private launch(entry: Waiting): void {
    this.busySessions.add(entry.sessionId);
    this.perUser.set(entry.userId, (this.perUser.get(entry.userId) ?? 0) + 1);
    const running: Running = { ...entry, stopReason: null, sawUsage: false, finished: Promise.resolve() };
    this.running.set(entry.taskId, running);
    running.finished = this.run(running)
      .catch((error: Error) => this.log(`[runner] task ${entry.taskId}: ${error.stack ?? error.message}`))
      .finally(() => {
        this.running.delete(entry.taskId);
        this.busySessions.delete(entry.sessionId);
        const n = (this.perUser.get(entry.userId) ?? 1) - 1;
        if (n > 0) this.perUser.set(entry.userId, n);
        else this.perUser.delete(entry.userId);
        this.schedule();
      });
  }

  private async run(entry: Running): Promise<void> {
    const task = await this.store.markRunning(entry.taskId);
    if (!task) return; // cancelled (or deleted) before its turn
    let outcome: ExecutorOutcome;
    try {
      const prepared = await this.prepare(task);
      if (entry.stopReason !== null) {
        outcome = { status: 'stopped', resume: null, reported: false };
      } else {
        const spawnedAt = performance.now();
        const connection = new ExecutorConnection({
          identity: prepared.identity,
          settings: spawnSettingsOf(this.app.get('runtime')),
          task: prepared.runTask,
          worktreeId: task.worktree_id,
          ...(prepared.git && { git: prepared.git }),
          handlers: {
            onMessage: (params) => this.onMessage(task, entry, params),
            getCredentials: (names) => deliverCredentials(this.app, this.log, { task, session: prepared.session, profile: prepared.profile, names }),
            toolRequest: (params) => this.toolGate.request({ task, sessionId: prepared.session.id, worktreePath: prepared.runTask.cwd, agent: prepared.runTask.agent }, params),
          },
          log: this.log,
          programPath: this.executorProgramPath,
          onReady: () => this.onExecutorReady?.((performance.now() - spawnedAt) / 1000),
        });
        entry.connection = connection;
        if (entry.stopReason !== null) connection.stop(entry.stopReason);
        outcome = await connection.outcome;
      }
    } catch (error) {
      outcome = { status: 'failed', resume: null, error: (error as Error).message, reported: false };
    }
    // The executor is gone: nothing can still wait for an approval.
    await this.toolGate.cancelTask(task.id);
    if (outcome.usage && !entry.sawUsage) this.messages.push({ task_id: task.id, type: 'usage', content: outcome.usage });
    await this.messages.flush();
    if (outcome.resume) {
      await this.db('sessions').where('id', task.session_id).update({ resume_handle: outcome.resume, updated_at: nowIso() });
    }
    const [status, reason] = this.finalStatus(entry, outcome);
    await this.store.finish(task.id, status, reason);
  }

  private finalStatus(entry: Running, outcome: ExecutorOutcome): ['completed' | 'failed' | 'stopped', string | null] {
    // The daemon stopping a task (shutdown) is an interruption, not a user's stop.
    if (this.stopping && entry.stopReason !== null) return ['failed', INTERRUPTED];
    if (entry.stopReason !== null && outcome.status !== 'completed') return ['stopped', entry.stopReason];
    if (outcome.status === 'completed') return ['completed', null];
    if (outcome.status === 'stopped') return ['stopped', outcome.error ?? 'stopped'];
    return ['failed', outcome.error ?? 'the agent failed'];
  }

  /** Everything the executor needs, checked before any process exists. */
  private async prepare(task: TaskRow) {
    const session = await this.db<SessionRow>('sessions').where('id', task.session_id).first();
    if (!session) throw new Error(`session ${task.session_id} no longer exists`);
    const worktree = await this.db<WorktreeRow>('worktrees').where('id', task.worktree_id).first('id', 'path');
    if (!worktree) throw new Error(`worktree ${task.worktree_id} no longer exists`);
    const profile = resolveAgent(this.config, session.agent);
    if (!profile) throw new Error(`the session's agent "${session.agent}" is not configured on this daemon (agents in config.yaml)`);
    // The session's frozen creator runs it, whoever prompted (DESIGN §4).
    const identity = await loadExecutionIdentity(this.db, this.config.execution, session.created_by, task.worktree_id);
    const runTask: RunTaskParams = {
      task_id: task.id,
      session_id: session.id,
      cwd: worktree.path,
      agent: profile.kind,
      prompt: task.prompt,
      resume: session.resume_handle ?? null,
      options: withGateTimeout(profile.kind, profile.options, this.config.policy.ask_timeout_seconds),
      stop_grace_ms: Math.round(this.config.execution.stop_grace_seconds * 1000),
    };
    // Another identity's git must not trust the worktree's `.git` file (it can rewrite it) nor need
    // safe.directory: it gets the locations from the repository's own records. In every mode the
    // sandbox binds the git metadata they name (while worktrees share their repository's).
    let git: GitEnvironment | undefined;
    try {
      git = await worktreeGitEnvironmentOf(this.db, task.worktree_id);
      if (identity.kind !== 'daemon') runTask.git_env = gitVariables(git);
    } catch (error) {
      this.log(`[runner] task ${task.id}: no pinned git locations for worktree ${task.worktree_id} (git may not work for the agent): ${(error as Error).message}`);
    }
    return { session, profile, identity, runTask, git };
  }

  private onMessage(task: TaskRow, entry: Running, { message }: MessageParams): void {
    if (message.type === 'usage') entry.sawUsage = true;
    this.messages.push({ task_id: task.id, type: message.type, content: message.content, ...(message.raw !== undefined && { raw: message.raw }) });
    if (this.messages.pending > HIGH_WATER && entry.connection) {
      const connection = entry.connection;
      connection.pause();
      void this.messages.flush().then(() => connection.resume());
    }
  }

  /** One transaction per batch; if it fails (a task deleted meanwhile), the rest are kept one by one. */
  private async writeMessages(batch: MessageCreate[]): Promise<void> {
    const service = this.app.service('messages');
    try {
      await service.create(batch);
    } catch {
      for (const message of batch) await service.create(message).catch(() => undefined);
    }
  }
}
