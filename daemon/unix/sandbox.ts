// The sandbox of a simple-mode executor or shell (the daemon runs bwrap itself, as the daemon user).
// The rule — what is hidden, what is bound back, the pinned git settings — is daemon/priv/sandbox.ts,
// shared with agor-priv, which builds the same sandbox for insulated/strict. Here only what simple
// mode adds: the daemon's own files are what must be hidden (AGOR_HOME, the data dir with every
// worktree, the config, database, keys and master secret wherever they were put), and the code the
// executor runs (the checkout and Node, which may sit under a hidden /root or /home) is bound back
// read-only. The private HOME and TMPDIR of each worktree live in <AGOR_HOME>/sandboxes/<worktree id>/.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Runtime } from '../config/load.js';
import { ALWAYS_HIDDEN, BWRAP_PATH, bwrapArgs, type SandboxSpec } from '../priv/sandbox.js';
import { packageRoot } from '../version.js';

export { BWRAP_PATH, gitPinEnvironment } from '../priv/sandbox.js';

export interface SandboxSettings {
  /** execution.sandbox_network */
  network: boolean;
  /** AGOR_HOME: hidden; holds sandboxes/<worktree id>/{home,tmp}. */
  agorHome: string;
  /** Directories hidden besides AGOR_HOME (the data dir: repositories and every worktree). */
  hide: string[];
  /** Files hidden (bound over with /dev/null): config, database, JWT key, master secret file... */
  hideFiles: string[];
}

export class SandboxUnavailable extends Error {
  override name = 'SandboxUnavailable';
}

const WORKTREE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** What simple mode hides, from the daemon's runtime (its paths) and environment. */
export function sandboxSettingsOf(runtime: Runtime, env: NodeJS.ProcessEnv = process.env): SandboxSettings {
  const { paths } = runtime;
  const files = [paths.configPath, paths.jwtKey, paths.pidFile, paths.logFile, paths.cliToken, runtime.databaseFile, `${runtime.databaseFile}-wal`, `${runtime.databaseFile}-shm`];
  if (env.AGOR_MASTER_SECRET_FILE) files.push(path.resolve(env.AGOR_MASTER_SECRET_FILE));
  return { network: runtime.config.execution.sandbox_network, agorHome: paths.home, hide: [runtime.dataDir], hideFiles: files };
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return fs.lstatSync(p).isFile();
  } catch {
    return false;
  }
}

function realOrSelf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/** Makes (or finds) a private directory of the daemon user, 0700, refusing a symlink on the way. */
function privateDir(p: string): string {
  fs.mkdirSync(p, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(p);
  if (!st.isDirectory() || st.uid !== (process.geteuid?.() ?? st.uid)) throw new SandboxUnavailable(`${p} is not a directory of the daemon user`);
  if ((st.mode & 0o777) !== 0o700) fs.chmodSync(p, 0o700);
  return p;
}

/** The code the executor loads: the checkout (dist/, node_modules wherever it really is) and Node. */
function codeDirs(programPath: string | undefined): string[] {
  const root = packageRoot();
  const dirs = [root, realOrSelf(root), realOrSelf(path.join(root, 'node_modules')), path.dirname(path.dirname(realOrSelf(process.execPath)))];
  if (programPath) dirs.push(path.dirname(realOrSelf(programPath)));
  return [...new Set(dirs)].filter((d) => d !== '/' && d !== '/usr' && isDir(d));
}

export interface SimpleSandboxRequest {
  program: 'executor' | 'shell';
  worktreeId: string;
  cwd: string;
  /** The worktree and, while worktrees share one, its repository's git metadata: bound read-write. */
  writable: string[];
  /** Shown read-only besides the code (a worktree's borrowed objects: the mirror's object store). */
  readOnly?: string[];
  programPath?: string;
  /** A web terminal's shell (keeps its PTY as controlling terminal). */
  terminal: boolean;
}

/** bwrap's argv up to `--`, and the HOME it shows, for a simple-mode child. */
export function simpleSandbox(request: SimpleSandboxRequest, settings: SandboxSettings): { args: string[]; home: string } {
  if (!WORKTREE_ID.test(request.worktreeId)) throw new SandboxUnavailable(`invalid worktree id ${JSON.stringify(request.worktreeId)} for a sandbox`);
  const home = os.userInfo().homedir;
  if (!path.isAbsolute(home) || home === '/' || !isDir(home)) throw new SandboxUnavailable(`the daemon user's home ${JSON.stringify(home)} is not a directory: the sandbox shows its private HOME there`);
  const base = path.join(settings.agorHome, 'sandboxes', request.worktreeId);
  privateDir(path.join(settings.agorHome, 'sandboxes'));
  const dirs = { home: privateDir(path.join(base, 'home')), tmp: privateDir(path.join(base, 'tmp')) };
  const hidden = [settings.agorHome, ...settings.hide].filter(isDir);
  const spec: SandboxSpec = {
    writable: request.writable.filter(isDir),
    readOnly: [...(request.program === 'executor' ? codeDirs(request.programPath) : []), ...(request.readOnly ?? []).filter(isDir)],
    hide: hidden,
    home: { source: dirs.home, target: home },
    tmp: dirs.tmp,
    cwd: request.cwd,
    network: settings.network,
    newSession: !request.terminal,
  };
  const args = bwrapArgs(spec);
  // Files outside the hidden directories (a --config elsewhere, a master secret file) are covered
  // by /dev/null. Inserted before the program's `--`.
  const files = settings.hideFiles.filter(isFile).filter((f) => ![...ALWAYS_HIDDEN, ...hidden].some((d) => f.startsWith(`${d}/`)));
  args.splice(args.length - 1, 0, ...files.flatMap((f) => ['--ro-bind', '/dev/null', f]));
  return { args, home };
}

/**
 * Whether bubblewrap can build a sandbox here (unprivileged user namespaces allowed, bwrap installed):
 * null when it can, else why not. The startup check and `agor doctor` ask this; without it no
 * executor or terminal can start (fail closed).
 */
export function probeSandbox(): string | null {
  if (!isFile(BWRAP_PATH)) return `${BWRAP_PATH} is missing (apt-get install -y bubblewrap)`;
  const r = spawnSync(BWRAP_PATH, ['--unshare-user', '--unshare-pid', '--unshare-ipc', '--die-with-parent', '--new-session', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--', '/bin/true'], {
    encoding: 'utf8',
    timeout: 15_000,
    env: { PATH: '/usr/bin:/bin', LANG: 'C' },
  });
  if (r.error) return `${BWRAP_PATH} could not run: ${r.error.message}`;
  if (r.status !== 0) return `${BWRAP_PATH} cannot make a sandbox here (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').pop() || 'no message'} — unprivileged user namespaces must be allowed (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu an AppArmor profile for bwrap)`;
  return null;
}
