// The unix suite's machine fixture: a real installation (scripts/install-unix-isolation.sh) with
// accounts named agor_<prefix>_*, a real daemon run AS the daemon user, real sudo and agor-priv.
//
// The installation's fixed paths are shared by the whole machine, so the suite never writes the real
// ones: it runs the installer, the daemon and everything they start inside a private mount namespace
// (namespace.ts) whose private directories live under the fixture's base dir. Accounts and groups are
// machine-wide (one /etc/passwd) and carry the unique prefix; cleanup() removes every one of them,
// the base dir and any process left running as them, and touches nothing else.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { packageRoot } from '../../daemon/version.js';
import { stringify } from 'yaml';
import { readGroups, readUsers } from '../../daemon/unix/os-state.js';
import { acquireUnixSuiteLock } from '../helpers/unix-suite-lock.js';
import { alive, processesOf } from '../helpers/proc.js';
import { processTree as descendants } from '../../daemon/executor/proc.js';
import { PrivateMounts } from './namespace.js';

export const ROOT = packageRoot();

/** Why the suite cannot run here, or null. With CI=true the suite fails on a reason instead of skipping. */
export function unixSuiteBlocker(): string | null {
  if (process.getuid?.() !== 0) return 'the unix suite needs root (it creates users, groups and a sudoers rule)';
  for (const tool of ['/usr/bin/sudo', '/usr/bin/setfacl', '/usr/bin/setpriv', '/usr/sbin/runuser', '/usr/bin/unshare', '/usr/bin/nsenter', '/usr/bin/git', '/usr/bin/bwrap']) {
    if (!fs.existsSync(tool)) return `${tool} is missing (apt-get install -y sudo acl util-linux git bubblewrap)`;
  }
  if (!fs.existsSync(path.join(ROOT, 'dist/priv/agor-priv.mjs'))) return 'dist/priv/agor-priv.mjs is not built (npm run build)';
  if (!fs.existsSync(path.join(ROOT, 'scripts/install-unix-isolation.sh'))) return 'scripts/install-unix-isolation.sh is missing';
  return null;
}

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export class UnixFixture {
  readonly prefix: string;
  readonly base: string;
  readonly daemonUser: string;
  readonly executorUser: string;
  readonly usersGroup: string;
  readonly worktreesRoot: string;
  readonly daemonHome: string;
  /** Where the daemon user reads the code from (the checkout, or a copy when it cannot reach it). */
  appRoot = ROOT;
  private readonly mounts = new PrivateMounts();
  /** Worktree groups this run saw being made (removed in cleanup even if the daemon did not). */
  readonly groupsSeen = new Set<string>();
  readonly log: string[] = [];

  constructor() {
    this.prefix = `t${crypto.randomBytes(3).toString('hex')}`;
    this.base = `/var/lib/agor-e2e-${this.prefix}`;
    this.daemonUser = this.person('d');
    this.executorUser = this.person('x');
    this.usersGroup = this.person('g');
    this.worktreesRoot = `${this.base}/data`;
    this.daemonHome = `${this.base}/home`;
  }

  /** agor_<prefix>_<name>: every account and group of this run. */
  person(name: string): string {
    return `agor_${this.prefix}_${name}`;
  }

  get nsPid(): number {
    return this.mounts.pid;
  }

  /** argv prefix that runs a command inside the private mount namespace. */
  inNs(argv: string[]): string[] {
    return this.mounts.inNs(argv);
  }

  /** Runs argv inside the namespace (as root unless `asUser`). */
  run(argv: string[], { asUser, input, env, timeoutMs = 120_000 }: { asUser?: string; input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): CommandResult {
    let full = argv;
    if (asUser) full = ['/usr/sbin/runuser', '-u', asUser, '--', '/usr/bin/env', '-i', 'PATH=/usr/local/bin:/usr/bin:/bin', 'LANG=C.UTF-8', ...Object.entries(env ?? {}).map(([k, v]) => `${k}=${v}`), ...argv];
    const [file, ...args] = this.inNs(full);
    const r: SpawnSyncReturns<string> = spawnSync(file!, args, { encoding: 'utf8', input: input ?? '', timeout: timeoutMs, cwd: '/' });
    const result = { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    this.log.push(`$ ${full.join(' ')}\n-> ${r.status} ${result.stderr.trim().slice(0, 300)}`);
    return result;
  }

  /** Creates the namespace with its three private directories. */
  async setupNamespace(): Promise<void> {
    fs.mkdirSync(this.base, { mode: 0o755 });
    fs.chmodSync(this.base, 0o755);
    await this.mounts.setup(`${this.base}/ns`);
  }

  /** scripts/install-unix-isolation.sh with this run's names (inside the namespace). */
  install(): CommandResult {
    return this.run([
      '/bin/bash', path.join(ROOT, 'scripts/install-unix-isolation.sh'),
      '--daemon-user', this.daemonUser,
      '--executor-user', this.executorUser,
      '--users-group', this.usersGroup,
      '--worktrees-root', this.worktreesRoot,
      '--daemon-home', this.daemonHome,
    ]);
  }

  /**
   * Makes the code readable by the daemon user. A checkout it cannot reach (CI clones under /root,
   * 0700) is bind-mounted, read-only and inside the namespace only, at a path it can traverse.
   */
  prepareApp(): void {
    const probe = this.run(['/usr/bin/test', '-r', path.join(ROOT, 'dist/test/unix/daemon-harness.js')], { asUser: this.daemonUser });
    if (probe.status === 0) return;
    const app = `${this.base}/app`;
    fs.mkdirSync(app, { mode: 0o755 });
    for (const argv of [['/usr/bin/mount', '--bind', ROOT, app], ['/usr/bin/mount', '-o', 'remount,bind,ro', app]]) {
      const r = this.run(argv);
      if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
    }
    this.appRoot = app;
    const again = this.run(['/usr/bin/test', '-r', path.join(app, 'dist/test/unix/daemon-harness.js')], { asUser: this.daemonUser });
    if (again.status !== 0) throw new Error(`the daemon user cannot read the code even at ${app}: make the checkout's files world-readable (chmod -R a+rX)`);
  }

  /** The repository the daemons clone: one commit (README.md "hello"), at `sourceRepo`. */
  get sourceRepo(): string {
    return `${this.base}/src/proj`;
  }

  makeSourceRepo(): void {
    const src = this.sourceRepo;
    fs.mkdirSync(src, { recursive: true, mode: 0o755 });
    const git = (...args: string[]) => {
      const r = spawnSync('git', args, { cwd: src, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: this.base, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x.invalid' } });
      assert.equal(r.status, 0, r.stderr);
    };
    git('init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(src, 'README.md'), 'hello\n');
    git('add', 'README.md');
    git('commit', '-qm', 'initial');
    // Owned by the daemon user: git refuses to serve a repository of another owner (safe.directory).
    spawnSync('chown', ['-R', `${this.daemonUser}:`, `${this.base}/src`]);
  }

  /**
   * A daemon as the daemon user in `mode`, with its own AGOR_HOME (0700, the daemon user's) and
   * `extra` merged into its config; started (init) with `owner` as the first account.
   */
  async startDaemon(agorHome: string, mode: 'insulated' | 'strict', stopGraceSeconds: number, owner: { email: string; password: string }, extra: Record<string, unknown> = {}): Promise<DaemonHarness> {
    fs.mkdirSync(agorHome, { mode: 0o700 });
    const config = {
      daemon: { host: '127.0.0.1', port: 0, data_dir: this.worktreesRoot },
      execution: { worktree_rbac: true, unix_user_mode: mode, executor_unix_user: this.executorUser, stop_grace_seconds: stopGraceSeconds },
      security: { allow_plaintext_secrets: true },
      ...extra,
    };
    const configPath = `${agorHome}/config.yaml`;
    fs.writeFileSync(configPath, stringify(config), { mode: 0o600 });
    spawnSync('chown', ['-R', `${this.daemonUser}:`, agorHome]);
    const h = new DaemonHarness(this, agorHome, configPath);
    await h.init(owner.email, owner.password);
    return h;
  }

  uid(name: string): number {
    const u = readUsers().get(name);
    if (!u) throw new Error(`no account ${name}`);
    return u.uid;
  }

  gid(group: string): number {
    const g = readGroups().get(group);
    if (!g) throw new Error(`no group ${group}`);
    return g.gid;
  }

  /** Pids of every process running as one of this run's accounts. */
  processesOfOurAccounts(): number[] {
    const uids = new Set<number>();
    for (const [name, u] of readUsers()) if (name.startsWith(`agor_${this.prefix}_`)) uids.add(u.uid);
    return processesOf(uids);
  }

  /** Removes everything this run made. Safe to call after any failure, and twice. */
  cleanup(): void {
    for (let round = 0; round < 3; round += 1) {
      const pids = this.processesOfOurAccounts();
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      spawnSync('sleep', ['0.3']);
    }
    if (this.mounts.active) {
      // The installer's own --uninstall removes what it recorded (inside the namespace).
      this.run(['/bin/bash', path.join(ROOT, 'scripts/install-unix-isolation.sh'), '--uninstall']);
      if (this.appRoot !== ROOT) this.run(['/usr/bin/umount', this.appRoot]);
    }
    const groups = readGroups();
    for (const [name, g] of groups) {
      const ours = name.startsWith(`agor_${this.prefix}_`) || this.groupsSeen.has(name) || (name.startsWith('agor_wt_') && g.members.some((m) => m.startsWith(`agor_${this.prefix}_`)));
      if (ours && name.startsWith('agor_wt_')) spawnSync('/usr/sbin/groupdel', ['--', name]);
    }
    for (const [name] of readUsers()) {
      if (name.startsWith(`agor_${this.prefix}_`)) spawnSync('/usr/sbin/userdel', ['-r', '--', name], { encoding: 'utf8' });
    }
    for (const [name] of readGroups()) {
      if (name.startsWith(`agor_${this.prefix}_`)) spawnSync('/usr/sbin/groupdel', ['--', name]);
    }
    this.mounts.teardown();
    fs.rmSync(this.base, { recursive: true, force: true });
  }
}

/**
 * A describe block of the unix suite with its fixture installed: under the suite lock, a private
 * namespace, the installer's accounts, the code readable by the daemon user and the source
 * repository (makeSourceRepo); all removed after. A machine that cannot run it skips (with CI=true:
 * fails). `body` gets the fixture; its own before/after hooks run after the install / the cleanup.
 */
export function unixSuite(name: string, body: (fx: UnixFixture) => void): void {
  const blocker = unixSuiteBlocker();
  const inCi = process.env.CI === 'true';
  if (blocker && !inCi) console.log(`# unix suite skipped: ${blocker} (with CI=true this is a failure)`);
  describe(name, { skip: blocker && !inCi ? blocker : false }, () => {
    if (blocker) {
      it('runs on this machine', () => assert.fail(`the unix suite cannot run: ${blocker}`));
      return;
    }
    const fx = new UnixFixture();
    let releaseLock: (() => void) | undefined;
    before(async () => {
      // Our installation lives in a private mount namespace, but other root suites may install
      // machine-wide: never overlap with them.
      releaseLock = await acquireUnixSuiteLock(`${name} (pid ${process.pid})`);
      await fx.setupNamespace();
      const installed = fx.install();
      assert.equal(installed.status, 0, `install-unix-isolation.sh failed:\n${installed.stdout}\n${installed.stderr}`);
      fx.prepareApp();
      fx.makeSourceRepo();
    });
    after(() => {
      try {
        fx.cleanup();
      } finally {
        releaseLock?.();
      }
    });
    body(fx);
  });
}

export interface HarnessReply {
  id?: number;
  ok: boolean;
  error?: string;
  refused?: boolean;
  [key: string]: unknown;
}

/** The daemon (test/unix/daemon-harness.ts) running as the daemon user inside the namespace. */
export class DaemonHarness {
  readonly child: ChildProcess;
  private nextId = 1;
  private waiting = new Map<number, (reply: HarnessReply) => void>();
  readonly stderr: string[] = [];
  url = '';
  /** The daemon's own pid (the harness process, below nsenter and runuser). */
  pid = 0;

  constructor(
    readonly fx: UnixFixture,
    readonly agorHome: string,
    readonly configPath: string,
  ) {
    const harness = path.join(fx.appRoot, 'dist/test/unix/daemon-harness.js');
    const argv = fx.inNs([
      '/usr/sbin/runuser', '-u', fx.daemonUser, '--',
      '/usr/bin/env', '-i', `HOME=${fx.daemonHome}`, 'PATH=/usr/local/bin:/usr/bin:/bin', `AGOR_HOME=${agorHome}`, 'LANG=C.UTF-8',
      process.execPath, harness, configPath,
    ]);
    this.child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], cwd: '/' });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => this.stderr.push(d));
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let reply: HarnessReply;
      try {
        reply = JSON.parse(line);
      } catch {
        this.stderr.push(`(stdout) ${line}\n`);
        return;
      }
      const resolve = this.waiting.get(reply.id as number);
      if (resolve) {
        this.waiting.delete(reply.id as number);
        resolve(reply);
      }
    });
    this.child.once('exit', () => {
      for (const [, resolve] of this.waiting) resolve({ ok: false, error: `the daemon exited; stderr: ${this.stderr.join('').slice(-2000)}` });
      this.waiting.clear();
    });
  }

  request(op: string, body: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<HarnessReply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve({ ok: false, error: `no answer to ${op} within ${timeoutMs} ms; stderr: ${this.stderr.join('').slice(-2000)}` });
      }, timeoutMs);
      this.waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.child.stdin!.write(JSON.stringify({ id, op, ...body }) + '\n');
    });
  }

  async init(email: string, password: string): Promise<void> {
    const reply = await this.request('init', { email, password });
    if (!reply.ok) throw new Error(`the daemon did not start: ${reply.error}`);
    this.url = reply.url as string;
    this.pid = reply.pid as number;
  }

  /** Closes stdin (the daemon shuts down) and waits. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    const timer = setTimeout(() => {
      try {
        if (this.pid) process.kill(this.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 15_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Pids of `pid` and all its live descendants. */
export function processTree(pid: number): number[] {
  return [pid, ...descendants(pid).map((p) => p.pid)];
}

/** Running (not a zombie). */
export const isAlive = alive;
