// THE spawn path for executors and terminals (DESIGN §2, §3). Every process that runs an agent or a
// shell for a user starts here, as the identity resolveExecutionIdentity() chose, and always inside
// a bubblewrap sandbox (daemon/priv/sandbox.ts):
//   daemon    (simple mode)       the daemon runs bwrap directly (unix/sandbox.ts), environment from an allow-list
//   insulated / strict            sudo -n <priv_path> exec --mode ... : agor-priv validates, switches
//                                 identity, builds the environment and the sandbox (sudo's env_reset drops ours)
// Stopping works the same way from the unprivileged daemon in every mode: SIGTERM (sudo relays it
// to its child, bwrap), then SIGKILL after a grace period; bwrap's death ends the sandbox's init and
// with it every process in the sandbox's PID namespace. The child's stdin is a pipe held by the
// daemon, so if the daemon dies (even kill -9) bwrap's --die-with-parent ends everything: no orphans.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { UnixUserMode } from '../config/schema.js';
import type { Runtime } from '../config/load.js';
import { whyRefusedEnvName } from '../crypto/env-names.js';
import { packageRoot } from '../version.js';
import type { ExecutionIdentity } from './identity.js';
import { gitVariables, type GitEnvironment } from './git-access.js';
import { SUDO_ENV } from './privileged.js';
import { BWRAP_PATH, gitPinEnvironment, sandboxSettingsOf, simpleSandbox, type SandboxSettings } from './sandbox.js';

export type SpawnProgram = 'executor' | 'shell';

export interface SpawnRequest {
  program: SpawnProgram;
  /** Absolute working directory (the worktree). */
  cwd: string;
  /** The worktree (simple mode: names its sandbox's private HOME and TMPDIR). */
  worktreeId?: string;
  /** A web terminal's shell on a PTY: keeps the PTY as its controlling terminal in the sandbox. */
  terminal?: boolean;
  /** Extra variables, simple mode only (names checked like secrets' names). Through agor-priv the
   * environment is agor-priv's clean one; credentials travel over the executor's pipe instead. */
  env?: Record<string, string>;
  /** Default: all three piped. stdin should stay a pipe the daemon holds (EOF = exit). */
  stdio?: StdioOptions;
  /** TERM for a terminal's shell, e.g. xterm-256color. */
  term?: string;
  /** Simple mode: the executor bundle to run with this Node (default dist/executor/agor-executor.mjs). */
  programPath?: string;
  /**
   * The worktree's pinned git locations (worktreeGitEnvironment(), unix/git-access.ts): the sandbox
   * binds the work tree and the git metadata read-write. A shell gets them exported as GIT_DIR /
   * GIT_COMMON_DIR / GIT_WORK_TREE (the executor gets them in run_task). Through agor-priv: its
   * --git-dir / --git-common-dir / --work-tree, which it validates.
   */
  git?: GitEnvironment;
}

export interface SpawnSettings {
  mode: UnixUserMode;
  sudoPath: string;
  privPath: string;
  stopGraceMs: number;
  sandbox: SandboxSettings;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedProcess {
  child: ChildProcess;
  identity: ExecutionIdentity;
  /** The argv actually started (for logs; never holds a secret). */
  command: string[];
  /** Resolves once the process (sudo, in insulated/strict) has exited. */
  exited: Promise<ExitStatus>;
  /** SIGTERM, then SIGKILL after the grace period; resolves with the exit status. Idempotent. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

export function spawnSettingsOf(runtime: Runtime): SpawnSettings {
  const { execution } = runtime.config;
  return {
    mode: execution.unix_user_mode,
    sudoPath: execution.sudo_path,
    privPath: execution.priv_path,
    stopGraceMs: execution.stop_grace_seconds * 1000,
    sandbox: sandboxSettingsOf(runtime),
  };
}

export const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';
// The same rule as agor-priv's --term, so a TERM that works in simple mode works everywhere.
const TERM_PATTERN = /^[a-z0-9-]{1,32}$/;

/** The executor bundle (a later issue builds it); simple mode runs it with this Node. */
export function defaultExecutorPath(): string {
  return path.join(packageRoot(), 'dist', 'executor', 'agor-executor.mjs');
}

/**
 * The environment of a simple-mode child: a positive allow-list, never the daemon's own environment
 * (which may hold AGOR_MASTER_SECRET, AGOR_HOME, tokens...). Caller variables are checked by the
 * same rule as stored secrets' names (no LD_*, NODE_OPTIONS, GIT_*, PATH, HOME...).
 */
export function simpleEnvironment(request: Pick<SpawnRequest, 'env' | 'term'>): NodeJS.ProcessEnv {
  const me = os.userInfo();
  const env: NodeJS.ProcessEnv = {
    PATH: DEFAULT_PATH,
    HOME: me.homedir,
    USER: me.username,
    LOGNAME: me.username,
    SHELL: me.shell || '/bin/sh',
    LANG: 'C.UTF-8',
  };
  if (request.term) env.TERM = request.term;
  for (const [name, value] of Object.entries(request.env ?? {})) {
    const why = whyRefusedEnvName(name);
    if (why) throw new Error(`spawnAsIdentity: environment variable refused: ${why}`);
    if (typeof value !== 'string' || value.includes('\0')) throw new Error(`spawnAsIdentity: the value of ${name} must be a string without NUL`);
    env[name] = value;
  }
  return env;
}

function checkRequest(request: SpawnRequest): void {
  if (request.program !== 'executor' && request.program !== 'shell') throw new Error(`spawnAsIdentity: unknown program ${JSON.stringify(request.program)}`);
  if (typeof request.cwd !== 'string' || !path.isAbsolute(request.cwd)) throw new Error(`spawnAsIdentity: cwd must be an absolute path (got ${JSON.stringify(request.cwd)})`);
  if (request.term !== undefined && !TERM_PATTERN.test(request.term)) throw new Error(`spawnAsIdentity: invalid TERM ${JSON.stringify(request.term)}`);
  if (request.git !== undefined) {
    for (const value of [request.git.GIT_DIR, request.git.GIT_COMMON_DIR, request.git.GIT_WORK_TREE, ...(request.git.mirrorObjects !== undefined ? [request.git.mirrorObjects] : [])]) {
      if (typeof value !== 'string' || !path.isAbsolute(value) || /[\u0000-\u001f\u007f]/.test(value)) throw new Error(`spawnAsIdentity: invalid git location ${JSON.stringify(value)}`);
    }
  }
}

/** The command line for `identity` (exported for tests and the benchmark). */
export function commandFor(identity: ExecutionIdentity, request: SpawnRequest, settings: SpawnSettings): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
  checkRequest(request);
  if (identity.kind === 'daemon') {
    // Fail closed: an isolated daemon never runs user code as itself, whatever identity it is handed.
    if (settings.mode !== 'simple') throw new Error(`spawnAsIdentity: refusing to run as the daemon user in ${settings.mode} mode`);
    if (!fs.existsSync(request.cwd)) throw new Error(`spawnAsIdentity: the working directory ${request.cwd} does not exist`);
    if (!request.worktreeId) throw new Error('spawnAsIdentity: a worktree id is needed for the sandbox');
    const env = simpleEnvironment(request);
    const git = request.git;
    if (git && request.program === 'shell') Object.assign(env, gitVariables(git));
    const sandbox = simpleSandbox(
      {
        program: request.program,
        worktreeId: request.worktreeId,
        cwd: request.cwd,
        writable: git ? [git.GIT_WORK_TREE, git.GIT_COMMON_DIR] : [request.cwd],
        readOnly: git?.mirrorObjects ? [git.mirrorObjects] : [],
        ...(request.programPath && { programPath: request.programPath }),
        terminal: request.terminal === true,
      },
      settings.sandbox,
    );
    env.HOME = sandbox.home;
    env.TMPDIR = '/tmp';
    for (const assignment of gitPinEnvironment()) {
      const eq = assignment.indexOf('=');
      env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
    }
    const program = request.program === 'shell' ? [env.SHELL!, '-l'] : [process.execPath, request.programPath ?? defaultExecutorPath()];
    return { file: BWRAP_PATH, args: [...sandbox.args, ...program], env };
  }
  if (settings.mode === 'simple') throw new Error(`spawnAsIdentity: a ${identity.kind} identity needs unix_user_mode ${identity.kind}, not simple`);
  if (request.env && Object.keys(request.env).length > 0) {
    throw new Error('spawnAsIdentity: an environment cannot be passed through agor-priv (it builds a clean one); send what the process needs over its pipe');
  }
  if (request.programPath) throw new Error('spawnAsIdentity: programPath applies to simple mode only; agor-priv runs the installed executor');
  const who: string[] = identity.kind === 'insulated' ? ['--group', identity.group] : ['--user', identity.user, '--group', identity.group];
  const args = ['-n', settings.privPath, 'exec', '--mode', identity.kind, ...who, '--cwd', request.cwd, '--program', request.program];
  if (!settings.sandbox.network) args.push('--network', 'off');
  if (request.term) args.push('--term', request.term);
  if (request.git) args.push('--git-dir', request.git.GIT_DIR, '--git-common-dir', request.git.GIT_COMMON_DIR, '--work-tree', request.git.GIT_WORK_TREE);
  if (request.git?.mirrorObjects) args.push('--objects-dir', request.git.mirrorObjects);
  return { file: settings.sudoPath, args, env: { ...SUDO_ENV } };
}

/** The working directory the spawn path starts in: the worktree itself in simple mode, `/` for sudo (agor-priv chdirs). */
function startCwdFor(identity: ExecutionIdentity, cwd: string): string {
  return identity.kind === 'daemon' ? cwd : '/';
}

/**
 * The login shell a terminal runs as `identity`: exactly what spawnAsIdentity would start for
 * `program: 'shell'` (same identity decision, argv and clean environment), for a PTY (node-pty) to spawn.
 */
export function shellCommandFor(identity: ExecutionIdentity, request: { cwd: string; worktreeId: string; term?: string; git?: GitEnvironment }, settings: SpawnSettings): { file: string; args: string[]; env: NodeJS.ProcessEnv; cwd: string } {
  const { file, args, env } = commandFor(identity, { program: 'shell', cwd: request.cwd, worktreeId: request.worktreeId, terminal: true, ...(request.term !== undefined && { term: request.term }), ...(request.git && { git: request.git }) }, settings);
  return { file, args, env, cwd: startCwdFor(identity, request.cwd) };
}

/**
 * Starts the executor or a login shell as `identity`. Returns the ChildProcess (stdin/stdout/stderr
 * pipes by default) and stop(). The child leads its own process group, so terminal signals aimed at
 * the daemon do not reach it and, in simple mode, stop() reaches everything it started.
 */
export function spawnAsIdentity(identity: ExecutionIdentity, request: SpawnRequest, settings: SpawnSettings): SpawnedProcess {
  const { file, args, env } = commandFor(identity, request, settings);
  const child = spawn(file, args, {
    cwd: startCwdFor(identity, request.cwd),
    env,
    stdio: request.stdio ?? ['pipe', 'pipe', 'pipe'],
    detached: true,
    windowsHide: true,
  });
  const exited = new Promise<ExitStatus>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // A spawn failure (ENOENT...) emits 'error' and maybe no 'exit'.
    child.once('error', () => resolve({ code: child.exitCode ?? 127, signal: child.signalCode }));
  });
  let done = false;
  void exited.then(() => (done = true));

  // Simple mode: the whole group (the shell's own children too). Through sudo: sudo itself, which
  // relays the signal to its child (the daemon may not signal the other identity directly).
  const signal = (sig: NodeJS.Signals) => {
    if (done || child.pid === undefined) return;
    try {
      if (identity.kind === 'daemon') process.kill(-child.pid, sig);
      else process.kill(child.pid, sig);
    } catch {
      try {
        process.kill(child.pid, sig);
      } catch {
        /* already gone */
      }
    }
  };

  let stopping: Promise<ExitStatus> | undefined;
  const stop = (graceMs = settings.stopGraceMs) =>
    (stopping ??= (async () => {
      if (done) return exited;
      signal('SIGTERM');
      const timer = setTimeout(() => {
        // SIGKILL cannot be relayed by sudo: it ends sudo; closing stdin makes the executor (and a
        // shell reading commands) exit on EOF, and agor-priv ties its child's life to its parent.
        child.stdin?.destroy();
        signal('SIGKILL');
      }, graceMs);
      timer.unref();
      const status = await exited;
      clearTimeout(timer);
      return status;
    })());

  return { child, identity, command: [file, ...args], exited, stop };
}
