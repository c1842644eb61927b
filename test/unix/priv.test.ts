// The root suite of the privileged half of Unix isolation: scripts/install-unix-isolation.sh,
// sudoers/agor.sudoers and agor-priv, with real sudo, real accounts and real file modes.
// Everything it creates carries a unique prefix (agor_t<id>*, agor_wt_<id>*, /var/tmp/agor-test-<id>)
// and is removed in `after`, even when a test failed. The installation's fixed paths are private to
// this run (namespace.ts): every command runs inside its mount namespace, and the test reads those
// paths through hostPath(), so an installation already on the machine is neither seen nor touched.
// Needs root; with CI=true a skip is a failure.
import { after, before, describe, it, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pty from 'node-pty';
import { acquireUnixSuiteLock } from '../helpers/unix-suite-lock.js';
import { PrivateMounts } from './namespace.js';
import { procStat, processesWith } from '../../daemon/executor/proc.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const INSTALL = path.join(REPO, 'scripts/install-unix-isolation.sh');
const LIBEXEC = '/usr/local/libexec/agor';
const PRIV = `${LIBEXEC}/agor-priv`;
const PRIV_YAML = '/etc/agor/priv.yaml';
const SUDOERS = '/etc/sudoers.d/agor';
const TOOLS = ['/usr/bin/sudo', '/usr/sbin/visudo', '/usr/bin/setfacl', '/usr/bin/getfacl', '/usr/bin/setpriv', '/usr/sbin/runuser', '/usr/sbin/useradd', '/usr/bin/gpasswd'];

const isRoot = process.getuid?.() === 0;
const missingTools = TOOLS.filter((t) => !fs.existsSync(t));
const prerequisite = !isRoot
  ? 'the unix suite needs root (it creates users, groups and a sudoers rule)'
  : missingTools.length > 0
    ? `missing ${missingTools.join(', ')} (apt-get install -y sudo acl)`
    : null;

// ---------------------------------------------------------------------------------------------
// Names: everything this run creates starts with one of these prefixes.

const ID = crypto.randomBytes(3).toString('hex');
// "tp": the other unix suite uses agor_t<hex>_*, so the two can never match each other's prefix.
const PREFIX = `agor_tp${ID}`;
const GROUP_PREFIX = `agor_wt_${ID}`;
/** Worktree groups of this run: agor_wt_<id> + exactly 4 hex digits (other runs' groups differ in length or id). */
const OUR_GROUP = new RegExp(`^${GROUP_PREFIX}[0-9a-f]{4}$`);
const DAEMON = `${PREFIX}d`;
const EXECUTOR = `${PREFIX}x`;
const USERS_GROUP = `${PREFIX}u`;
const ALICE = `${PREFIX}a`;
const BOB = `${PREFIX}b`;
const SYSTEM_USER = `${PREFIX}s`; // uid < 1000
const UID0_USER = `${PREFIX}z`; // a second uid-0 account
const ROOTGROUP_USER = `${PREFIX}r`; // uid >= 1000 but member of group 0
const SHARED_UID_USER = `${PREFIX}c`; // a second account with alice's uid
const FOREIGN = `${PREFIX}f`; // an agor_* account someone else created
const SHADOWED = `${PREFIX}h`; // created by agor-priv, then put in shadow / disk
const LEGACY = `${PREFIX}l`; // made the way an earlier agor-priv made accounts, before the registry
const LEGACY2 = `${PREFIX}m`;
const LEGACY_DISK = `${PREFIX}k`; // like LEGACY, but also in disk
const G1 = `${GROUP_PREFIX}0001`;
const G2 = `${GROUP_PREFIX}0002`;
const G_SYSTEM = `${GROUP_PREFIX}ff00`; // gid < 1000
const G_MISSING = `${GROUP_PREFIX}dead`;
const TEST_DIR = `/var/tmp/agor-test-${ID}`;
const WT_ROOT = `${TEST_DIR}/worktrees`;
const DAEMON_HOME = `${TEST_DIR}/home`;
const SENTINEL = `AGOR_TEST_LEAK_${ID}`;

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

const ns = new PrivateMounts();
/** A path of the installation as the test process reaches it (inside the namespace). */
const host = (p: string): string => ns.hostPath(p);

/** Runs a command inside the namespace. */
function run(file: string, args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Result {
  const [nsenter, ...nsArgs] = ns.inNs([file, ...args]);
  const r = spawnSync(nsenter!, nsArgs, {
    input: options.input ?? '',
    env: options.env ?? { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(file: string, args: readonly string[], options?: { input?: string }): string {
  const r = run(file, args, options);
  assert.equal(r.status, 0, `${file} ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** agor-priv as the daemon user, through sudo, the way the daemon calls it. */
function priv(args: readonly string[], input?: string): Result {
  return run('/usr/sbin/runuser', ['-u', DAEMON, '--', '/usr/bin/sudo', '-n', PRIV, ...args], {
    input,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', [SENTINEL]: '1', NODE_OPTIONS: '--require /nonexistent.js' },
  });
}

function privOk(args: readonly string[], input?: string): string {
  const r = priv(args, input);
  assert.equal(r.status, 0, `agor-priv ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  assert.equal(r.stderr, '');
  return r.stdout;
}

function asDaemon(script: string): string {
  return ok('/usr/sbin/runuser', ['-u', DAEMON, '--', '/bin/sh', '-c', script]);
}

function install(extra: string[] = []): Result {
  return run('/bin/bash', [
    INSTALL,
    '--daemon-user', DAEMON,
    '--executor-user', EXECUTOR,
    '--users-group', USERS_GROUP,
    '--worktrees-root', WT_ROOT,
    '--daemon-home', DAEMON_HOME,
    ...extra,
  ]);
}

interface Passwd {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

function passwd(name: string): Passwd | null {
  const r = run('/usr/bin/getent', ['passwd', name]);
  if (r.status !== 0) return null;
  const f = r.stdout.trim().split(':');
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), gecos: f[4]!, home: f[5]!, shell: f[6]! };
}

function group(name: string): { gid: number; members: string[] } | null {
  const r = run('/usr/bin/getent', ['group', name]);
  if (r.status !== 0) return null;
  const f = r.stdout.trim().split(':');
  return { gid: Number(f[2]), members: f[3] ? f[3].split(',') : [] };
}

function mode(p: string): number {
  return fs.lstatSync(p).mode & 0o7777;
}

function acl(p: string): string {
  return ok('/usr/bin/getfacl', ['-p', '-n', '--omit-header', p]);
}

/** Owner, group, mode, ACL and content hash of each path, to prove nothing changed. */
function snapshot(paths: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of paths.filter((x) => fs.existsSync(host(x)) || fs.lstatSync(host(x), { throwIfNoEntry: false }))) {
    const st = fs.lstatSync(host(p));
    const hash = st.isFile() ? crypto.createHash('sha256').update(fs.readFileSync(host(p))).digest('hex') : '-';
    out[p] = `${st.uid}:${st.gid}:${(st.mode & 0o7777).toString(8)}:${st.isSymbolicLink() ? 'link' : acl(p).trim().replace(/\n/g, ',')}:${hash}`;
  }
  return out;
}

const started: ChildProcess[] = [];

/** argv that runs sudo as the daemon user inside the namespace (nsenter and setpriv exec in place: the pid is sudo's). */
function sudoAsDaemon(args: readonly string[]): string[] {
  const d = passwd(DAEMON)!;
  return ns.inNs(['/usr/bin/setpriv', '--reuid', String(d.uid), '--regid', String(d.gid), '--init-groups', '--', '/usr/bin/sudo', ...args]);
}

/** Starts agor-priv exec exactly as the daemon does: sudo spawned by a process running as the daemon user. */
function startExec(args: readonly string[]): { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
  const [file, ...argv] = sudoAsDaemon(['-n', PRIV, 'exec', ...args]);
  const child = spawn(file!, argv, {
    cwd: '/',
    env: { PATH: '/usr/bin:/bin', [SENTINEL]: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('close', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function parseEnv(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(line.slice(0, i))) env.set(line.slice(0, i), line.slice(i + 1));
  }
  return env;
}

/** What the identity's login shell reports: `id -u; id -g; id -G; pwd; echo ---; env`. */
const IDENTITY_SCRIPT = 'id -u; id -g; id -G; pwd; echo ---ENV---; env\n';

function parseIdentity(stdout: string): { uid: number; gid: number; groups: number[]; cwd: string; env: Map<string, string> } {
  const [head, envText] = stdout.split('---ENV---\n');
  const lines = head!.trim().split('\n');
  return {
    uid: Number(lines[0]),
    gid: Number(lines[1]),
    groups: lines[2]!.trim().split(/\s+/).map(Number).sort((a, b) => a - b),
    cwd: lines[3]!,
    env: parseEnv(envText ?? ''),
  };
}

/** The clean environment: only the allow-list, plus what a login shell itself adds. */
function assertCleanEnv(env: Map<string, string>, who: Passwd, term: string | undefined): void {
  assert.equal(env.get('HOME'), who.home);
  assert.equal(env.get('USER'), who.name);
  assert.equal(env.get('LOGNAME'), who.name);
  assert.equal(env.get('SHELL'), who.shell);
  assert.equal(env.get('LANG'), 'C.UTF-8');
  assert.equal(env.get('TERM'), term);
  assert.ok(env.get('PATH')!.startsWith('/usr/local/bin:/usr/bin:/bin'), env.get('PATH'));
  assert.equal(env.get('TMPDIR'), '/tmp');
  assert.equal(env.get('GIT_CONFIG_KEY_0'), 'submodule.recurse', 'git is pinned');
  const allowed = new Set(['HOME', 'USER', 'LOGNAME', 'SHELL', 'PATH', 'LANG', 'TERM', 'TMPDIR', 'PWD', 'OLDPWD', 'SHLVL', '_']);
  const extra = [...env.keys()].filter((k) => !allowed.has(k) && !/^GIT_CONFIG_(COUNT|KEY_\d+|VALUE_\d+)$/.test(k));
  assert.deepEqual(extra, [], `unexpected variables in the child's environment: ${extra.join(', ')}`);
}

// ---------------------------------------------------------------------------------------------

if (prerequisite !== null) {
  if (process.env.CI === 'true') {
    test('unix suite (agor-priv): prerequisites', () => {
      assert.fail(`${prerequisite}; with CI=true the unix suite must run, not skip`);
    });
  } else {
    console.log(`# unix suite (agor-priv) skipped: ${prerequisite}`);
    test('unix suite (agor-priv)', { skip: prerequisite }, () => {});
  }
} else {
  describe('unix suite: install script, sudoers and agor-priv (root)', () => {
    let releaseLock: (() => void) | undefined;
    let skipAll: string | null = null;
    let ready = false; // set once `before` made sure nothing it is about to replace is someone else's
    let firstInstall: Result | undefined;
    const cleanupLog: string[] = [];

    const guard = (t: TestContext): boolean => {
      if (skipAll !== null) {
        t.skip(skipAll);
        return true;
      }
      return false;
    };

    before(async () => {
      releaseLock = await acquireUnixSuiteLock(`test/unix/priv.test (pid ${process.pid})`);
      fs.mkdirSync(TEST_DIR, { mode: 0o755 });
      fs.chmodSync(TEST_DIR, 0o755);
      ready = true;
      await ns.setup(`${TEST_DIR}/ns`);
    });

    after(() => {
      for (const child of started) if (child.exitCode === null && child.signalCode === null && child.pid) child.kill('SIGKILL');
      try {
        if (!ready) return;
        // Homes of this run's accounts (uninstall keeps the daemon's and the executor's).
        const homes = run('/usr/bin/getent', ['passwd']).stdout.split('\n').map((l) => l.split(':')).filter((f) => f[0]!.startsWith(PREFIX)).map((f) => f[5]!);
        const un = run('/bin/bash', [INSTALL, '--uninstall']);
        cleanupLog.push(`uninstall exited ${un.status}: ${un.stdout}${un.stderr}`);
        // Every account and group carrying this run's prefix, and nothing else.
        const users = run('/usr/bin/getent', ['passwd']).stdout.split('\n').map((l) => l.split(':')[0]!).filter((n) => n.startsWith(PREFIX));
        for (const user of users) {
          const entry = passwd(user);
          const args = entry && entry.uid === 0 ? ['-f', user] : ['-f', '-r', user];
          const r = run('/usr/sbin/userdel', args);
          cleanupLog.push(`userdel ${args.join(' ')}: ${r.status} ${r.stderr.trim()}`);
        }
        const groups = run('/usr/bin/getent', ['group']).stdout.split('\n').map((l) => l.split(':')[0]!).filter((n) => n.startsWith(PREFIX) || OUR_GROUP.test(n));
        for (const g of groups) {
          const r = run('/usr/sbin/groupdel', [g]);
          cleanupLog.push(`groupdel ${g}: ${r.status} ${r.stderr.trim()}`);
        }
        for (const home of homes) {
          // Only directories named after one of this run's accounts.
          if (path.basename(home).startsWith(PREFIX) && fs.existsSync(home)) fs.rmSync(home, { recursive: true, force: true });
        }
        const left = [
          ...run('/usr/bin/getent', ['passwd']).stdout.split('\n').filter((l) => l.startsWith(PREFIX)),
          ...run('/usr/bin/getent', ['group']).stdout.split('\n').filter((l) => l.startsWith(PREFIX) || OUR_GROUP.test(l.split(':')[0]!)),
          ...homes.filter((h) => fs.existsSync(h)),
        ];
        // (The namespace's own directories go with it: --uninstall cannot remove mount points.)
        if (left.length > 0) {
          console.log(`# cleanup incomplete:\n${cleanupLog.join('\n')}\nleft: ${left.join('; ')}`);
        }
      } finally {
        ns.teardown();
        fs.rmSync(TEST_DIR, { recursive: true, force: true });
        releaseLock?.();
      }
    });

    it('installs from scratch; sudo lists exactly one command for the daemon user', (t) => {
      if (guard(t)) return;
      const t0 = Date.now();
      firstInstall = install();
      assert.equal(firstInstall.status, 0, `install failed: ${firstInstall.stderr}${firstInstall.stdout}`);
      t.diagnostic(`first install: ${Date.now() - t0} ms`);
      t.diagnostic(firstInstall.stdout.trim());

      const sudoList = ok('/usr/bin/sudo', ['-n', '-l', '-U', DAEMON]);
      const commands = sudoList
        .split(/may run the following commands on [^\n]*:\n/)[1]!
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      assert.deepEqual(commands, [`(root) NOPASSWD: ${PRIV}`], sudoList);
      assert.equal(run('/usr/sbin/visudo', ['-cf', SUDOERS]).status, 0);
      assert.equal(fs.readFileSync(host(SUDOERS), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).length, 4);

      for (const [p, m] of [
        [PRIV, 0o755],
        [`${LIBEXEC}/agor-priv.mjs`, 0o644],
        [LIBEXEC, 0o755],
        [PRIV_YAML, 0o644],
        [SUDOERS, 0o440],
      ] as const) {
        const st = fs.lstatSync(host(p));
        assert.equal(st.uid, 0, `${p} must be root-owned`);
        assert.equal(st.gid, 0, `${p} group`);
        assert.equal(st.mode & 0o7777, m, `${p} mode`);
      }
      // The launcher is bash without startup files, naming an absolute node, never env.
      const launcher = fs.readFileSync(host(PRIV), 'utf8');
      assert.match(launcher, /^#!\/bin\/bash -p\n/);
      assert.doesNotMatch(launcher, /env node|\/env /);
      assert.match(launcher, /\nplan=\$\(AGOR_PRIV_HANDOVER=1 '\/[^' ]+' '\/usr\/local\/libexec\/agor\/agor-priv\.mjs' "\$@"\)\n/, 'exec hands over through the plan');

      const d = passwd(DAEMON)!;
      const x = passwd(EXECUTOR)!;
      assert.ok(d.uid > 0 && d.uid < 1000, `the daemon user is a system account (uid ${d.uid})`);
      assert.equal(d.gecos, 'agor daemon');
      assert.equal(d.home, DAEMON_HOME);
      assert.equal(mode(DAEMON_HOME), 0o700);
      assert.ok(x.uid >= 1000, `executor uid ${x.uid}`);
      assert.equal(x.gecos, 'agor executor');
      assert.equal(mode(x.home), 0o700);
      assert.ok(group(USERS_GROUP));
      const root = fs.lstatSync(WT_ROOT);
      assert.equal(root.uid, d.uid);
      assert.equal(root.mode & 0o7777, 0o711);
      const yaml = fs.readFileSync(host(PRIV_YAML), 'utf8');
      assert.match(yaml, new RegExp(`^daemon_user: ${DAEMON}$`, 'm'));
      assert.match(yaml, new RegExp(`^worktrees_root: ${WT_ROOT}$`, 'm'));

      // The executor's run-time packages: a root-owned tree behind the node_modules symlink, which
      // the executor user resolves from the installed executor's folder, as Node will at run time.
      const link = fs.readlinkSync(host(`${LIBEXEC}/node_modules`));
      assert.match(link, /^runtime\/[0-9a-f]{16}\/node_modules$/);
      const runtime = path.dirname(path.join(LIBEXEC, link));
      for (const dir of [runtime, `${runtime}/node_modules`, `${runtime}/node_modules/@anthropic-ai`]) {
        const st = fs.lstatSync(host(dir));
        assert.deepEqual([st.uid, st.mode & 0o7777], [0, 0o755], dir);
      }
      const probe = run('/usr/sbin/runuser', ['-u', EXECUTOR, '--', process.execPath, '-e',
        `const r = require('module').createRequire('${LIBEXEC}/executor/chunks/x.mjs'); for (const p of ['@anthropic-ai/claude-agent-sdk', '@openai/codex/package.json', '@google/gemini-cli/package.json']) console.log(require('fs').realpathSync(r.resolve(p)));` +
        `const sdk = require('fs').realpathSync(r.resolve('@anthropic-ai/claude-agent-sdk')); const cli = require('module').createRequire(sdk).resolve('@anthropic-ai/claude-agent-sdk-' + process.platform + '-' + process.arch + '/claude'); require('fs').accessSync(cli, require('fs').constants.X_OK); console.log(cli);`]);
      assert.equal(probe.status, 0, probe.stderr);
      const resolved = probe.stdout.trim().split('\n');
      assert.equal(resolved.length, 4);
      for (const file of resolved) {
        assert.ok(file.startsWith(`${runtime}/node_modules/`), `${file} comes from the installed runtime`);
        assert.equal(fs.statSync(host(file)).uid, 0, `${file} is root's`);
        assert.equal(fs.statSync(host(file)).mode & 0o022, 0, `${file} is writable by root only`);
      }
      t.diagnostic(`runtime: ${fs.readFileSync(host(`${runtime}/packages.txt`), 'utf8').trim().split('\n').length} packages; ${/installed \S+runtime\S+ \(([^)]*)\)/.exec(firstInstall.stderr)?.[1] ?? firstInstall.stderr.trim()}`);
    });

    it('re-running the install script changes nothing', (t) => {
      if (guard(t)) return;
      const watched = [PRIV, `${LIBEXEC}/agor-priv.mjs`, PRIV_YAML, SUDOERS, WT_ROOT, DAEMON_HOME, '/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow', `${LIBEXEC}/node_modules`];
      const before = snapshot(watched);
      const runtimeBefore = fs.readlinkSync(host(`${LIBEXEC}/node_modules`));
      const runtimeIno = fs.statSync(host(`${LIBEXEC}/node_modules`)).ino;
      const ids = [passwd(DAEMON), passwd(EXECUTOR), group(USERS_GROUP)];
      const sudoBefore = ok('/usr/bin/sudo', ['-n', '-l', '-U', DAEMON]);
      const t0 = Date.now();
      const again = install();
      assert.equal(again.status, 0, `second install failed: ${again.stderr}${again.stdout}`);
      t.diagnostic(`re-install: ${Date.now() - t0} ms`);
      assert.match(again.stdout, new RegExp(`user ${DAEMON} \\(daemon\\): exists`));
      assert.match(again.stdout, new RegExp(`user ${EXECUTOR} \\(executor\\): exists`));
      assert.match(again.stdout, new RegExp(`group ${USERS_GROUP}: exists`));
      assert.deepEqual(snapshot(watched), before);
      assert.deepEqual([passwd(DAEMON), passwd(EXECUTOR), group(USERS_GROUP)], ids);
      assert.equal(ok('/usr/bin/sudo', ['-n', '-l', '-U', DAEMON]), sudoBefore);
      // The run-time packages of an unchanged checkout are reused, not copied again.
      assert.match(again.stderr, /install-executor-runtime: reused /);
      assert.equal(fs.readlinkSync(host(`${LIBEXEC}/node_modules`)), runtimeBefore);
      assert.equal(fs.statSync(host(`${LIBEXEC}/node_modules`)).ino, runtimeIno);
      assert.deepEqual(fs.readdirSync(host(`${LIBEXEC}/runtime`)), [path.basename(path.dirname(runtimeBefore))]);
    });

    it('ensure-user, ensure-group, set-group-members, remove-group', (t) => {
      if (guard(t)) return;
      for (const user of [ALICE, BOB, ALICE]) privOk(['ensure-user', '--user', user]);
      for (const user of [ALICE, BOB]) {
        const p = passwd(user)!;
        assert.ok(p.uid >= 1000 && p.gid >= 1000, `${user}: uid ${p.uid} gid ${p.gid}`);
        assert.equal(p.shell, '/bin/bash');
        assert.equal(p.gecos, 'agor user');
        assert.equal(mode(p.home), 0o700);
        assert.equal(fs.lstatSync(p.home).uid, p.uid);
        assert.ok(group(USERS_GROUP)!.members.includes(user));
        assert.equal(group(user)!.gid, p.gid, 'own primary group');
      }
      for (const g of [G1, G1, G2]) privOk(['ensure-group', '--group', g]);
      assert.ok(group(G1)!.gid >= 1000);
      privOk(['set-group-members', '--group', G1, '--members', `${ALICE},${DAEMON},${EXECUTOR}`]);
      assert.deepEqual(group(G1)!.members.sort(), [ALICE, DAEMON, EXECUTOR].sort());
      privOk(['set-group-members', '--group', G1, '--members', '']);
      assert.deepEqual(group(G1)!.members, []);
      privOk(['set-group-members', '--group', G1, '--members', `${ALICE},${DAEMON}`]);
      assert.deepEqual(group(G1)!.members.sort(), [ALICE, DAEMON].sort());
      privOk(['remove-group', '--group', G2]);
      assert.equal(group(G2), null);
      privOk(['remove-group', '--group', G2]);
    });

    it('prepare-worktree: group, setgid, ACLs and others none/read/write; symlinks untouched', (t) => {
      if (guard(t)) return;
      const wt = `${WT_ROOT}/repo/wt1`;
      asDaemon(
        `umask 077 && mkdir -p ${wt}/src/deep && echo a > ${wt}/README && echo b > ${wt}/src/deep/f && printf '#!/bin/sh\\n' > ${wt}/run.sh && chmod 700 ${wt}/run.sh ` +
          `&& ln -s /etc/passwd ${wt}/passwd-link && ln -s /etc ${wt}/etc-link && ln -s ${TEST_DIR} ${wt}/src/out-link && chmod 700 ${WT_ROOT}/repo`,
      );
      const watched = ['/etc/passwd', '/etc', TEST_DIR, `${wt}/passwd-link`, `${wt}/etc-link`];
      const before = snapshot(watched);
      const g1 = group(G1)!.gid;
      const dirs = [wt, `${wt}/src`, `${wt}/src/deep`];
      const files = [`${wt}/README`, `${wt}/src/deep/f`];

      for (const others of ['none', 'read', 'write'] as const) {
        privOk(['prepare-worktree', '--path', wt, '--group', G1, '--others', others]);
        const o = { none: 0, read: 0o5, write: 0o7 }[others];
        const of = { none: 0, read: 0o4, write: 0o6 }[others];
        for (const d of dirs) {
          const st = fs.lstatSync(d);
          assert.equal(st.gid, g1, `${d} group`);
          assert.equal(st.mode & 0o7777, 0o2770 | o, `${d} mode with --others ${others}`);
          const a = acl(d);
          assert.match(a, new RegExp(`^group:${g1}:rwx`, 'm'));
          assert.match(a, new RegExp(`^default:group:${g1}:rwx`, 'm'));
          assert.match(a, new RegExp(`^default:other::${{ none: '---', read: 'r-x', write: 'rwx' }[others]}`, 'm'));
        }
        for (const f of files) {
          const st = fs.lstatSync(f);
          assert.equal(st.gid, g1, `${f} group`);
          assert.equal(st.mode & 0o7777, 0o660 | of, `${f} mode with --others ${others}`);
          assert.match(acl(f), new RegExp(`^group:${g1}:rw-`, 'm'));
        }
        assert.equal(mode(`${wt}/run.sh`), 0o770 | (others === 'none' ? 0 : of | 1));
        // Parent chain: search only, added once, nothing else changed.
        assert.equal(mode(`${WT_ROOT}/repo`), 0o701);
        assert.equal(mode(WT_ROOT), 0o711);
        assert.deepEqual(snapshot(watched), before, 'symlink targets and the links themselves are untouched');
      }
      t.diagnostic(acl(wt).trim());
    });

    it('exec insulated: executor user, the worktree group only, clean environment, exit status', (t) => {
      if (guard(t)) return;
      const wt = `${WT_ROOT}/repo/wt1`;
      privOk(['prepare-worktree', '--path', wt, '--group', G1, '--others', 'none']);
      // The sandbox binds --cwd read-write (the worktree; with git locations, the work tree).
      const r = priv(['exec', '--mode', 'insulated', '--group', G1, '--cwd', wt, '--program', 'shell', '--term', 'xterm-256color'], `${IDENTITY_SCRIPT}echo shared > shared.txt\nexit 7\n`);
      assert.equal(r.status, 7, r.stderr);
      const who = parseIdentity(r.stdout);
      const x = passwd(EXECUTOR)!;
      const g1 = group(G1)!.gid;
      assert.equal(who.uid, x.uid);
      assert.equal(who.gid, g1);
      assert.deepEqual(who.groups, [g1]);
      assert.equal(who.cwd, wt);
      assertCleanEnv(who.env, x, 'xterm-256color');
      assert.equal(who.env.get(SENTINEL), undefined);
      // A file made by the executor stays group-writable for the next identity.
      const st = fs.lstatSync(`${wt}/shared.txt`);
      assert.equal(st.uid, x.uid);
      assert.equal(st.gid, g1);
      assert.match(acl(`${wt}/shared.txt`), /^mask::rw-/m);
    });

    it("exec strict: the person with its primary group and the worktree's group only; a non-member is refused", (t) => {
      if (guard(t)) return;
      const wt = `${WT_ROOT}/repo/wt1`;
      const r = priv(['exec', '--mode', 'strict', '--user', ALICE, '--group', G1, '--cwd', wt, '--program', 'shell'], `${IDENTITY_SCRIPT}echo alice >> shared.txt && cat shared.txt\n`);
      assert.equal(r.status, 0, r.stderr);
      const who = parseIdentity(r.stdout.replace(/shared\nalice\n$/, ''));
      const a = passwd(ALICE)!;
      assert.equal(who.uid, a.uid);
      assert.equal(who.gid, a.gid);
      // Two groups, not every group of the account (not agor_users): its own and the worktree's, which
      // the sandbox's user namespace does not map (shown as 65534) yet still lets it append below.
      assert.deepEqual(who.groups, [a.gid, 65534].sort((x, y) => x - y), 'its primary group and one unmapped group only');
      assert.ok(ok('/usr/bin/id', ['-G', ALICE]).trim().split(/\s+/).map(Number).includes(group(USERS_GROUP)!.gid), 'though the account is in agor_users');
      assert.equal(who.cwd, wt);
      assertCleanEnv(who.env, a, undefined);
      assert.match(r.stdout, /shared\nalice\n$/, 'alice appends to the file the executor created');

      // Bob is not in the group: refused before anything runs.
      const b = priv(['exec', '--mode', 'strict', '--user', BOB, '--group', G1, '--cwd', wt, '--program', 'shell'], 'id -u\n');
      assert.equal(b.status, 65, `${b.stdout}${b.stderr}`);
      assert.match(b.stderr, /^agor-priv: refused: .* is not a member of /);
      assert.doesNotMatch(b.stdout, /[0-9]/);
    });

    it('exec --program executor runs the installed executor bundle', async (t) => {
      if (guard(t)) return;
      const wt = `${WT_ROOT}/repo/wt1`;
      const installed = `${LIBEXEC}/executor/agor-executor.mjs`;
      if (!fs.existsSync(host(installed))) {
        // No executor built yet: install a stand-in (root-owned, like the real one) that reports who it is.
        fs.mkdirSync(host(`${LIBEXEC}/executor`), { mode: 0o755 });
        fs.writeFileSync(
          host(installed),
          `process.stdout.write(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), cwd: process.cwd(), env: process.env }) + '\\n');\n` +
            `process.stdin.resume(); process.stdin.on('end', () => { process.stdout.write('stdin closed\\n'); process.exit(0); });\n`,
          { mode: 0o644 },
        );
        const r = priv(['exec', '--mode', 'insulated', '--group', G1, '--cwd', wt, '--program', 'executor'], 'hello\n');
        assert.equal(r.status, 0, r.stderr);
        const [json, last] = r.stdout.trim().split('\n');
        const who = JSON.parse(json!) as { uid: number; gid: number; groups: number[]; cwd: string; env: Record<string, string> };
        assert.equal(who.uid, passwd(EXECUTOR)!.uid);
        assert.equal(who.gid, group(G1)!.gid);
        assert.deepEqual(who.groups, [group(G1)!.gid]);
        assert.equal(who.cwd, wt);
        assert.deepEqual(Object.keys(who.env).filter((k) => !k.startsWith('GIT_CONFIG_')).sort(), ['HOME', 'LANG', 'LOGNAME', 'PATH', 'SHELL', 'TMPDIR', 'USER']);
        assert.equal(who.env.PATH, '/usr/local/bin:/usr/bin:/bin');
        assert.equal(last, 'stdin closed', 'the executor sees EOF when the daemon closes its stdin');
        fs.rmSync(host(`${LIBEXEC}/executor`), { recursive: true });
        const missing = priv(['exec', '--mode', 'insulated', '--group', G1, '--cwd', wt, '--program', 'executor']);
        assert.equal(missing.status, 69, missing.stderr);
        assert.match(missing.stderr, /^agor-priv: unavailable: executor_path/);
      } else {
        const r = priv(['exec', '--mode', 'insulated', '--group', G1, '--cwd', wt, '--program', 'executor']);
        assert.doesNotMatch(r.stderr, /^agor-priv:/m, r.stderr);
      }
    });

    it('exec: SIGTERM from the daemon user to sudo ends the child; SIGKILL of sudo ends it too', async (t) => {
      if (guard(t)) return;
      const wt = `${WT_ROOT}/repo/wt1`;
      for (const [signal, expected] of [
        ['TERM', -1],
        ['KILL', null],
      ] as const) {
        const marker = `30${ID.replace(/[a-f]/g, '1')}${signal === 'TERM' ? 1 : 2}`;
        const p = startExec(['--mode', 'insulated', '--group', G1, '--cwd', wt, '--program', 'shell']);
        p.child.stdin!.write(`echo ready\nexec sleep ${marker}\n`);
        await waitFor(() => p.stdout().includes('ready') && processesWith(`sleep ${marker}`).length === 1, 'the child to start');
        const sleeper = processesWith(`sleep ${marker}`)[0]!;
        assert.equal(fs.statSync(`/proc/${sleeper}`).uid, passwd(EXECUTOR)!.uid);
        // The daemon user signals sudo (its real uid is the daemon's); sudo relays to bwrap (agor-priv
        // handed over by exec), whose death ends the sandbox; sudo then dies of the same signal.
        ok('/usr/sbin/runuser', ['-u', DAEMON, '--', '/bin/kill', `-${signal}`, String(p.child.pid)]);
        const code = await p.exit;
        if (expected !== null) assert.ok(code === expected || code === 128 + 15, `exit ${code}: ${p.stderr()}`);
        await waitFor(() => processesWith(`sleep ${marker}`).length === 0, `the child to end after SIG${signal} (pid ${sleeper})`, 5000);
        await waitFor(() => processesWith(`exec --mode insulated --group ${G1}`).every((pid) => procStat(pid) === null), 'agor-priv to exit', 5000);
        p.child.stdin!.destroy();
      }
      // Exit status of an ordinary exit passes through sudo.
      const r = priv(['exec', '--mode', 'insulated', '--group', G1, '--cwd', wt, '--program', 'shell'], 'exit 3\n');
      assert.equal(r.status, 3);
    });

    it("exec: the child's background processes, even in sessions of their own, end with it", async (t) => {
      if (guard(t)) return;
      const wt = `${WT_ROOT}/repo/wt1`;
      const shell = ['--mode', 'insulated', '--group', G1, '--cwd', wt, '--program', 'shell'];
      const mark = (n: number) => `4${ID.replace(/[a-f]/g, '1')}${n}`;
      const gone = (n: number) => processesWith(`sleep ${mark(n)}`).length === 0;

      // SIGTERM relayed by sudo reaches the background job too, not only the shell.
      const p = startExec(shell);
      p.child.stdin!.write(`sleep ${mark(1)} &\necho ready\nexec sleep ${mark(2)}\n`);
      await waitFor(() => p.stdout().includes('ready') && !gone(1) && !gone(2), 'the shell and its background job');
      assert.equal(fs.statSync(`/proc/${processesWith(`sleep ${mark(1)}`)[0]}`).uid, passwd(EXECUTOR)!.uid);
      ok('/usr/sbin/runuser', ['-u', DAEMON, '--', '/bin/kill', '-TERM', String(p.child.pid)]);
      assert.ok([-1, 128 + 15].includes((await p.exit)!), p.stderr());
      assert.ok(gone(1) && gone(2), 'nothing is left once sudo has exited');
      p.child.stdin!.destroy();

      // The child exits on its own: what it left behind is ended before agor-priv exits — a plain
      // background job, one that ignores SIGTERM (SIGKILL after the grace), and one that started a
      // session of its own while its parent was alive.
      const started = Date.now();
      const r = priv(['exec', ...shell], `sleep ${mark(3)} &\nsh -c 'trap "" TERM; sleep ${mark(4)}' &\n/usr/bin/setsid sleep ${mark(5)} &\nsleep 0.7\nexit 4\n`);
      assert.equal(r.status, 4, r.stderr);
      assert.deepEqual([gone(3), gone(4), gone(5)], [true, true, true], 'no background process outlives the exec');
      t.diagnostic(`exit with three background processes left behind: ${Date.now() - started} ms until sudo returned (the sandbox's PID namespace ends them all at once)`);
      // A shell without background processes returns at once.
      const quick = Date.now();
      assert.equal(priv(['exec', ...shell], 'exit 0\n').status, 0);
      t.diagnostic(`plain exit: ${Date.now() - quick} ms`);
    });

    it("exec on a PTY (a web terminal): the shell keeps job control, and its jobs end with it", async (t) => {
      if (guard(t)) return;
      const wt = `${WT_ROOT}/repo/wt1`;
      const mark = `5${ID.replace(/[a-f]/g, '1')}`;
      // As the daemon does it: node-pty (forkpty: a session of its own with the PTY as controlling
      // terminal) running sudo as the daemon user.
      const [sudoFile, ...sudoArgs] = sudoAsDaemon(['-n', PRIV, 'exec', '--mode', 'insulated', '--group', G1, '--cwd', wt, '--program', 'shell', '--term', 'xterm-256color']);
      const term = pty.spawn(sudoFile!, sudoArgs, {
        name: 'xterm-256color', cols: 80, rows: 24, cwd: '/', env: { PATH: '/usr/bin:/bin' },
      });
      let out = '';
      term.onData((chunk) => (out += chunk));
      const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
      try {
        term.write(`echo "flags=$-"; [ -t 0 ] && echo stdin-is-a-tty; sleep ${mark}1 & sleep ${mark}2 & echo "jobs=$(jobs -p | wc -l)"; echo started\r`);
        await waitFor(() => /\nstarted/.test(out) && processesWith(`sleep ${mark}1`).length === 1 && processesWith(`sleep ${mark}2`).length === 1, 'the interactive shell and its jobs', 15_000);
        assert.match(out, /flags=[a-zA-Z]*m/, 'job control (monitor mode) is on');
        assert.match(out, /stdin-is-a-tty/, 'the shell has the PTY as its terminal');
        assert.match(out, /jobs=2/);
        // A job in a process group of its own, in the terminal's session.
        const job = processesWith(`sleep ${mark}1`)[0]!;
        assert.equal(procStat(job)?.pgrp, job, 'the job leads its own process group');
        term.write('exit\r');
        assert.equal(await exited, 0, out);
        assert.deepEqual([processesWith(`sleep ${mark}1`), processesWith(`sleep ${mark}2`)], [[], []], 'the jobs ended with the shell');
      } finally {
        try {
          term.kill('SIGKILL');
        } catch {
          /* gone */
        }
      }
    });

    it('exec --git-dir/--git-common-dir/--work-tree: a shell gets the pinned git locations; hostile ones are refused', (t) => {
      if (guard(t)) return;
      const repo = `${WT_ROOT}/gitrepo`;
      const gwt = `${WT_ROOT}/gitwt`;
      const other = `${WT_ROOT}/otherrepo`;
      asDaemon(
        `set -e; export HOME=${TEST_DIR}; cd ${WT_ROOT}; for r in gitrepo otherrepo; do git init -q -b main $r; git -C $r -c user.name=d -c user.email=d@x.invalid commit -q --allow-empty -m init; done; ` +
          `git -C gitrepo worktree add -q ${gwt}; git -C otherrepo worktree add -q ${WT_ROOT}/otherwt; ln -s gitrepo ${WT_ROOT}/gitlink`,
      );
      privOk(['prepare-worktree', '--path', repo, '--group', G1, '--others', 'none']);
      privOk(['prepare-worktree', '--path', gwt, '--group', G1, '--others', 'none']);
      const common = `${repo}/.git`;
      const admin = `${common}/worktrees/gitwt`;
      const shell = (cwd = gwt) => ['exec', '--mode', 'insulated', '--group', G1, '--cwd', cwd, '--program', 'shell'];
      const pinned = (gitDir = admin, commonDir = common, workTree = gwt) => ['--git-dir', gitDir, '--git-common-dir', commonDir, '--work-tree', workTree];

      const r = priv([...shell(), ...pinned()], `set -e\nprintenv GIT_DIR GIT_COMMON_DIR GIT_WORK_TREE\nmkdir -p sub && echo x > sub/f.txt\ncd sub\ngit status --porcelain\ngit add f.txt\ngit -c user.name=x -c user.email=x@x.invalid commit -qm from-the-shell\ngit log --format=%s -1\n`);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), [admin, common, gwt, '?? sub/', 'from-the-shell']);
      // Without them, nothing of the kind is set.
      assert.equal(priv(shell(), 'printenv GIT_DIR; echo rc=$?\n').stdout, 'rc=1\n');
      // A worktree that is its own repository: all three name <work-tree>/.git and the work tree.
      const own = priv([...shell(repo), ...pinned(common, common, repo)], 'set -e\nprintenv GIT_DIR GIT_WORK_TREE\ngit log --format=%s -1\n');
      assert.equal(own.status, 0, own.stderr);
      assert.deepEqual(own.stdout.trim().split('\n'), [common, repo, 'init']);
      // --objects-dir: the borrowed object store is shown (read-only) though worktrees_root is hidden.
      const ownRepo = [...shell(repo), ...pinned(common, common, repo)];
      const borrowed = priv([...ownRepo, '--objects-dir', `${other}/.git/objects`], `test -d ${other}/.git/objects && echo shown; test -e ${other}/.git/config || echo rest-hidden; touch ${other}/.git/objects/x 2>/dev/null || echo read-only\n`);
      assert.equal(borrowed.status, 0, borrowed.stderr);
      assert.deepEqual(borrowed.stdout.trim().split('\n'), ['shown', 'rest-hidden', 'read-only']);

      const cases: Array<[string, string[], 64 | 65]> = [
        ['--git-dir alone', [...shell(), '--git-dir', admin], 65],
        ['--git-dir and --git-common-dir without --work-tree', [...shell(), '--git-dir', admin, '--git-common-dir', common], 65],
        ['--git-dir /etc', [...shell(), ...pinned('/etc')], 65],
        ['--git-common-dir /etc', [...shell(), ...pinned(admin, '/etc')], 65],
        ['--work-tree /etc', [...shell(), ...pinned(admin, common, '/etc')], 65],
        ['--git-dir with ..', [...shell(), ...pinned(`${common}/worktrees/gitwt/../../../../otherrepo/.git`)], 65],
        ['--git-dir = the common dir', [...shell(), ...pinned(common)], 65],
        ['--git-dir = <common>/worktrees', [...shell(), ...pinned(`${common}/worktrees`)], 65],
        ['--git-dir of another repository', [...shell(), ...pinned(`${other}/.git/worktrees/otherwt`)], 65],
        ['--git-dir through a symlink', [...shell(), ...pinned(`${WT_ROOT}/gitlink/.git/worktrees/gitwt`, `${WT_ROOT}/gitlink/.git`)], 65],
        ['--git-dir missing', [...shell(), ...pinned(`${common}/worktrees/nope`)], 65],
        ['--work-tree not holding --cwd', [...shell(), ...pinned(admin, common, repo)], 65],
        ['--work-tree inside the metadata', [...shell(`${common}/worktrees/gitwt`), ...pinned(admin, common, `${common}/worktrees`)], 65],
        ["own repository: another work tree's .git", [...shell(), ...pinned(common, common, gwt)], 65],
        ['own repository: another repository as common dir', [...shell(repo), ...pinned(common, `${other}/.git`, repo)], 65],
        ['own repository: .git of another repository', [...shell(repo), ...pinned(`${other}/.git`, `${other}/.git`, repo)], 65],
        ['--objects-dir without git locations', [...shell(), '--objects-dir', `${other}/.git/objects`], 65],
        ['--objects-dir with a linked worktree', [...shell(), ...pinned(), '--objects-dir', `${other}/.git/objects`], 65],
        ['--objects-dir /etc', [...ownRepo, '--objects-dir', '/etc'], 65],
        ['--objects-dir not an objects directory', [...ownRepo, '--objects-dir', `${other}/.git`], 65],
        ['--objects-dir inside the work tree', [...ownRepo, '--objects-dir', `${common}/objects`], 65],
        ['--objects-dir through a symlink', [...ownRepo, '--objects-dir', `${WT_ROOT}/gitlink/.git/objects`], 65],
        ['--git-dir= smuggling', [...shell(), `--git-dir=${admin}`, '--git-common-dir', common, '--work-tree', gwt], 64],
        ['repeated --git-dir', [...shell(), ...pinned(), '--git-dir', admin], 64],
        ['newline in --git-dir', [...shell(), ...pinned(`${admin}\n/etc`)], 64],
      ];
      const failures: string[] = [];
      for (const [what, args, expected] of cases) {
        const res = priv(args, 'echo ran\n');
        const lines = res.stderr.split('\n').filter(Boolean);
        const name = expected === 64 ? 'usage' : 'refused';
        if (res.status !== expected || lines.length !== 1 || !lines[0]!.startsWith(`agor-priv: ${name}: `) || res.stdout !== '') {
          failures.push(`${what}: exit ${res.status}, stderr ${JSON.stringify(res.stderr)}, stdout ${JSON.stringify(res.stdout)}`);
        }
      }
      t.diagnostic(`hostile git-location cases: ${cases.length}`);
      assert.deepEqual(failures, []);
    });

    it('refuses every hostile call with the documented exit code and changes nothing', (t) => {
      if (guard(t)) return;
      const wt = `${WT_ROOT}/repo/wt1`;
      // Accounts and groups that must never be used.
      ok('/usr/sbin/useradd', ['--system', '--no-create-home', '--shell', '/bin/bash', '--comment', 'agor test', SYSTEM_USER]);
      ok('/usr/sbin/useradd', ['-o', '-u', '0', '-N', '-g', String(group('nogroup')?.gid ?? 65534), '-M', '-d', `${TEST_DIR}/nonexistent`, '--comment', 'agor test', UID0_USER]);
      ok('/usr/sbin/useradd', ['-M', '-N', '-g', String(group('nogroup')?.gid ?? 65534), '-G', 'root', '-K', 'UID_MIN=1000', '--comment', 'agor test', ROOTGROUP_USER]);
      ok('/usr/sbin/useradd', ['-o', '-u', String(passwd(ALICE)!.uid), '-M', '-N', '-g', String(group('nogroup')?.gid ?? 65534), '-d', `${TEST_DIR}/nonexistent`, '--comment', 'agor test', SHARED_UID_USER]);
      ok('/usr/sbin/groupadd', ['--system', G_SYSTEM]);
      assert.ok(group(G_SYSTEM)!.gid < 1000);

      // Trees and decoys. The decoy belongs to an agor person (alice) outside worktrees_root: a
      // followed symlink would hand her files to another worktree's group.
      const decoy = `${TEST_DIR}/alice-private`;
      ok('/usr/bin/install', ['-d', '-o', ALICE, '-g', ALICE, '-m', '0700', decoy]);
      ok('/usr/bin/install', ['-o', ALICE, '-g', ALICE, '-m', '0600', '/dev/null', `${decoy}/secret`]);
      const rootSecret = `${TEST_DIR}/root-secret`;
      fs.writeFileSync(rootSecret, 'secret\n', { mode: 0o600 });
      asDaemon(
        `mkdir -p ${WT_ROOT}/inner/deep ${WT_ROOT}/hl ${WT_ROOT}/rootowned && ln -s /etc ${WT_ROOT}/swapped && ln -s ${WT_ROOT}/inner ${WT_ROOT}/link-in && ln -s ${decoy} ${WT_ROOT}/to-decoy ` +
          `&& ln -s ${decoy}/secret ${WT_ROOT}/inner/secret-link && ln -s /etc/shadow ${WT_ROOT}/inner/shadow-link && echo x > ${WT_ROOT}/inner/file`,
      );
      fs.linkSync(rootSecret, `${WT_ROOT}/hl/hardlink-to-root-file`); // only root can make this one
      fs.writeFileSync(`${WT_ROOT}/rootowned/planted-by-root`, 'x', { mode: 0o644 });

      const watched = ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow', '/etc/sudoers', '/etc', '/etc/ssl', PRIV, `${LIBEXEC}/agor-priv.mjs`, PRIV_YAML, SUDOERS, decoy, `${decoy}/secret`, rootSecret, `${WT_ROOT}/rootowned/planted-by-root`, `${WT_ROOT}/swapped`, `${WT_ROOT}/to-decoy`];
      const before = snapshot(watched);

      const ex = (...rest: string[]) => ['exec', ...rest];
      const strict = (user: string, cwd = wt) => ex('--mode', 'strict', '--user', user, '--group', G1, '--cwd', cwd, '--program', 'shell');
      const insulated = (g: string, cwd = wt) => ex('--mode', 'insulated', '--group', g, '--cwd', cwd, '--program', 'shell');
      const prep = (p: string, g = G1, others = 'none') => ['prepare-worktree', '--path', p, '--group', g, '--others', others];
      const cases: Array<[string, string[], 64 | 65]> = [
        // argv shape → 64
        ['no verb', [], 64],
        ['upper-case verb', ['ENSURE-USER', '--user', ALICE], 64],
        ['unknown verb', ['useradd', '--user', ALICE], 64],
        ['sudo-style option first', ['-u', 'root', 'ensure-user', '--user', ALICE], 64],
        ['--user=root smuggling', ['ensure-user', '--user=root'], 64],
        ['--user=root smuggling in exec', ex('--mode', 'strict', '--user=root', '--cwd', wt, '--program', 'shell'), 64],
        ['repeated --user', ['ensure-user', '--user', ALICE, '--user', 'root'], 64],
        ['repeated --cwd', ex('--mode', 'strict', '--user', ALICE, '--cwd', wt, '--cwd', '/etc', '--program', 'shell'), 64],
        ['repeated --program', [...strict(ALICE), '--program', 'executor'], 64],
        ['unknown flag --uid', ['ensure-user', '--uid', '0'], 64],
        ['unknown flag --env', [...strict(ALICE), '--env', 'LD_PRELOAD=/tmp/x.so'], 64],
        ['extra args after program', [...strict(ALICE), '-c', 'id'], 64],
        ['-- then args after program', [...strict(ALICE), '--', '-c', 'id'], 64],
        ['stray positional after program', [...strict(ALICE), 'extra'], 64],
        ['stray positional', ['ensure-user', ALICE], 64],
        ['missing value', ['ensure-user', '--user'], 64],
        ['missing required flag', ['prepare-worktree', '--path', wt, '--group', G1], 64],
        ['very long path', prep(`${wt}/${'a'.repeat(5000)}`), 64],
        ['very long user', ['ensure-user', '--user', `agor_${'a'.repeat(4100)}`], 64],
        ['newline in user', ['ensure-user', '--user', `${ALICE}\nroot`], 64],
        ['newline in path', prep(`${wt}\n/etc`), 64],
        ['CR in group', ['ensure-group', '--group', `${G1}\r`], 64],
        ['newline in term', [...strict(ALICE), '--term', 'xterm\nPATH=/tmp'], 64],
        ['escape sequence in members', ['set-group-members', '--group', G1, '--members', `${ALICE}\u001b[2J`], 64],
        // names → 65
        ['ensure-user root', ['ensure-user', '--user', 'root'], 65],
        ['ensure-user the users group name', ['ensure-user', '--user', USERS_GROUP], 65],
        ['ensure-user in the worktree-group namespace', ['ensure-user', '--user', G1], 65],
        ['ensure-user the daemon user', ['ensure-user', '--user', DAEMON], 65],
        ['ensure-user the executor user', ['ensure-user', '--user', EXECUTOR], 65],
        ['ensure-user a uid-0 account', ['ensure-user', '--user', UID0_USER], 65],
        ['ensure-user a system account', ['ensure-user', '--user', SYSTEM_USER], 65],
        ['ensure-user an account sharing a uid', ['ensure-user', '--user', SHARED_UID_USER], 65],
        ['ensure-user agor_$(id)', ['ensure-user', '--user', 'agor_$(id)'], 65],
        ['ensure-user agor_a;b', ['ensure-user', '--user', 'agor_a;b'], 65],
        ['ensure-user ../', ['ensure-user', '--user', 'agor_../../etc'], 65],
        ['ensure-group agor_wt_../x', ['ensure-group', '--group', 'agor_wt_../x'], 65],
        ['ensure-group agor_wt_zz', ['ensure-group', '--group', 'agor_wt_zz'], 65],
        ['ensure-group root', ['ensure-group', '--group', 'root'], 65],
        ['ensure-group agor_users', ['ensure-group', '--group', 'agor_users'], 65],
        ['ensure-group a system agor_wt group', ['ensure-group', '--group', G_SYSTEM], 65],
        ['members: root', ['set-group-members', '--group', G1, '--members', 'root'], 65],
        ['members: a uid-0 account', ['set-group-members', '--group', G1, '--members', UID0_USER], 65],
        ['members: a system account', ['set-group-members', '--group', G1, '--members', SYSTEM_USER], 65],
        ['members: an account sharing a uid', ['set-group-members', '--group', G1, '--members', SHARED_UID_USER], 65],
        ['members: a duplicate', ['set-group-members', '--group', G1, '--members', `${ALICE},${ALICE}`], 65],
        ['members: a missing account', ['set-group-members', '--group', G1, '--members', `${PREFIX}nobody`], 65],
        ['members: an empty entry', ['set-group-members', '--group', G1, '--members', `${ALICE},`], 65],
        ['members of a missing group', ['set-group-members', '--group', G_MISSING, '--members', ALICE], 65],
        ['members of a system group', ['set-group-members', '--group', G_SYSTEM, '--members', ALICE], 65],
        ['members of agor_users', ['set-group-members', '--group', 'agor_users', '--members', ALICE], 65],
        ['remove-group root', ['remove-group', '--group', 'root'], 65],
        ['remove-group agor_users', ['remove-group', '--group', 'agor_users'], 65],
        ['remove-group a system agor_wt group', ['remove-group', '--group', G_SYSTEM], 65],
        // paths → 65
        ['path with ..', prep(`${WT_ROOT}/../../../etc`), 65],
        ['path /etc', prep('/etc'), 65],
        ['path /etc/passwd', prep('/etc/passwd'), 65],
        ['path /', prep('/'), 65],
        ['path outside (decoy)', prep(decoy), 65],
        ['path = worktrees_root', prep(WT_ROOT), 65],
        ['relative path', prep('worktrees/repo/wt1'), 65],
        ['path swapped for a symlink to /etc', prep(`${WT_ROOT}/swapped`), 65],
        ['path through a symlink to /etc', prep(`${WT_ROOT}/swapped/ssl`), 65],
        ['path is a symlink to a decoy', prep(`${WT_ROOT}/to-decoy`), 65],
        ['path through a symlink inside the root', prep(`${WT_ROOT}/link-in/deep`), 65],
        ['path is a file', prep(`${WT_ROOT}/inner/file`), 65],
        ['path does not exist', prep(`${WT_ROOT}/missing`), 65],
        ['others all', prep(wt, G1, 'all'), 65],
        ['prepare with group agor_wt_zz', prep(wt, 'agor_wt_zz'), 65],
        ['prepare with a system group', prep(wt, G_SYSTEM), 65],
        ['prepare with a missing group', prep(wt, G_MISSING), 65],
        // exec → 65
        ['exec /bin/sh', ex('--mode', 'strict', '--user', ALICE, '--cwd', wt, '--program', '/bin/sh'), 65],
        ['exec bash', ex('--mode', 'strict', '--user', ALICE, '--cwd', wt, '--program', 'bash'), 65],
        ['exec node', ex('--mode', 'insulated', '--group', G1, '--cwd', wt, '--program', 'node'), 65],
        ['exec mode simple', ex('--mode', 'simple', '--user', ALICE, '--cwd', wt, '--program', 'shell'), 65],
        ['exec mode root', ex('--mode', 'root', '--cwd', wt, '--program', 'shell'), 65],
        ['strict as root', strict('root'), 65],
        ['strict as the daemon user', strict(DAEMON), 65],
        ['strict as the executor user', strict(EXECUTOR), 65],
        ['strict as a uid-0 account', strict(UID0_USER), 65],
        ['strict as a system account', strict(SYSTEM_USER), 65],
        ['strict as a member of group 0', strict(ROOTGROUP_USER), 65],
        ['strict as an account sharing a uid', strict(SHARED_UID_USER), 65],
        ['strict as a missing account', strict(`${PREFIX}nobody`), 65],
        ['strict without --group', ex('--mode', 'strict', '--user', ALICE, '--cwd', wt, '--program', 'shell'), 65],
        ['strict in a worktree group it is not a member of', ex('--mode', 'strict', '--user', BOB, '--group', G1, '--cwd', wt, '--program', 'shell'), 65],
        ['exec --network maybe', [...insulated(G1), '--network', 'maybe'], 65],
        ['insulated with --user', [...insulated(G1), '--user', ALICE], 65],
        ['insulated without --group', ex('--mode', 'insulated', '--cwd', wt, '--program', 'shell'), 65],
        ['insulated with agor_users', insulated('agor_users'), 65],
        ['insulated with a system group', insulated(G_SYSTEM), 65],
        ['insulated with a user primary group', insulated(ALICE), 65],
        ['exec cwd /etc', strict(ALICE, '/etc'), 65],
        ['exec cwd with ..', strict(ALICE, `${wt}/../../../../etc`), 65],
        ['exec cwd through a symlink to /etc', insulated(G1, `${WT_ROOT}/swapped`), 65],
        ['exec cwd /', insulated(G1, '/'), 65],
        ['exec cwd = worktrees_root', insulated(G1, WT_ROOT), 65],
        ['exec term with a semicolon', [...strict(ALICE), '--term', 'xterm;id'], 65],
      ];
      const failures: string[] = [];
      for (const [what, args, expected] of cases) {
        const r = priv(args, 'id\n');
        const lines = r.stderr.split('\n').filter(Boolean);
        const name = expected === 64 ? 'usage' : 'refused';
        if (r.status !== expected || lines.length !== 1 || !lines[0]!.startsWith(`agor-priv: ${name}: `) || r.stdout !== '') {
          failures.push(`${what}: exit ${r.status}, stderr ${JSON.stringify(r.stderr)}, stdout ${JSON.stringify(r.stdout)}`);
        }
      }
      const message = `hostile cases: ${cases.length} (${cases.filter((c) => c[2] === 64).length} usage, ${cases.filter((c) => c[2] === 65).length} refused)`;
      console.log(`# ${message}`);
      t.diagnostic(message);
      assert.deepEqual(failures, []);
      assert.ok(cases.length >= 50);

      // A hard link to a root file and a root-owned file inside a tree are left alone (and
      // reported); the rest of the tree is prepared (issue 13: a tightening never aborts).
      for (const [dir, why] of [[`${WT_ROOT}/hl`, /a file with 2 hard links: left unchanged/], [`${WT_ROOT}/rootowned`, /owned by uid 0, not one of this worktree's identities/]] as const) {
        const left = priv(prep(dir));
        assert.equal(left.status, 0, left.stderr);
        assert.match(JSON.parse(left.stdout).prepare_worktree.examples[0].why, why);
        assert.equal(fs.lstatSync(dir).gid, group(G1)!.gid);
      }
      // A symlink inside a legitimate tree is left alone, and so is its target.
      privOk(prep(`${WT_ROOT}/inner`));
      assert.equal(fs.lstatSync(`${WT_ROOT}/inner/file`).gid, group(G1)!.gid);
      assert.deepEqual(snapshot(watched), before, '/etc, the account databases, agor-priv and the decoys are unchanged');
    });

    it('runs only as accounts it created itself, and only when they have no group but agor\'s', (t) => {
      if (guard(t)) return;
      const wt = `${WT_ROOT}/repo/wt1`;
      const marker = (user: string) => host(`/etc/agor/accounts/${user}`);
      const refusedLine = (r: Result, pattern: RegExp, what: string) => {
        assert.equal(r.status, 65, `${what}: ${r.stderr}`);
        assert.match(r.stderr, /^agor-priv: refused: /, what);
        assert.match(r.stderr, pattern, what);
        assert.doesNotMatch(r.stdout, /root:|[0-9]/, `${what}: nothing ran`);
      };
      const strictShell = (user: string) => ['exec', '--mode', 'strict', '--user', user, '--group', G1, '--cwd', wt, '--program', 'shell'];

      // What ensure-user created is registered: root 0644, the uid it was created with.
      for (const user of [ALICE, BOB]) {
        const st = fs.lstatSync(marker(user));
        assert.deepEqual([st.uid, st.mode & 0o7777], [0, 0o644]);
        assert.equal(fs.readFileSync(marker(user), 'utf8'), `${passwd(user)!.uid}\n`);
      }

      // An agor_* account someone else made is refused by every verb that takes an account.
      ok('/usr/sbin/useradd', ['-M', '-U', '-K', 'UID_MIN=1000', '--comment', 'an administrator', FOREIGN]);
      refusedLine(priv(['ensure-user', '--user', FOREIGN]), /was not created by agor-priv/, 'ensure-user foreign');
      refusedLine(priv(strictShell(FOREIGN), 'id -u\n'), /was not created by agor-priv/, 'exec strict foreign');
      refusedLine(priv(['set-group-members', '--group', G1, '--members', `${ALICE},${FOREIGN}`]), /was not created by agor-priv/, 'members foreign');
      assert.equal(fs.existsSync(marker(FOREIGN)), false);

      // An account agor-priv created, later put in shadow (it would read /etc/shadow) or disk.
      privOk(['ensure-user', '--user', SHADOWED]);
      for (const [system, shown] of [['shadow', /member of group shadow/], ['disk', /member of group disk/]] as const) {
        ok('/usr/sbin/usermod', ['-a', '-G', system, SHADOWED]);
        refusedLine(priv(['ensure-user', '--user', SHADOWED]), shown, `ensure-user in ${system}`);
        refusedLine(priv(strictShell(SHADOWED), 'cat /etc/shadow; id -u\n'), shown, `exec strict in ${system}`);
        refusedLine(priv(['set-group-members', '--group', G1, '--members', SHADOWED]), shown, `members in ${system}`);
        ok('/usr/bin/gpasswd', ['-d', SHADOWED, system]);
      }
      assert.deepEqual(group(G1)!.members.sort(), [ALICE, DAEMON].sort(), 'no refused call changed the group');

      // A registered account deleted and made again (another uid) is not the one agor created.
      const aliceMarker = fs.readFileSync(marker(ALICE), 'utf8');
      fs.writeFileSync(marker(ALICE), `${passwd(ALICE)!.uid + 1}\n`);
      try {
        refusedLine(priv(strictShell(ALICE), 'id -u\n'), /the account was replaced/, 'exec strict replaced');
      } finally {
        fs.writeFileSync(marker(ALICE), aliceMarker);
      }

      // An account an earlier agor-priv made (no registry then) is adopted by ensure-user, and by a
      // re-run of the install script, only when it is exactly what ensure-user makes.
      const legacy = (user: string, extra: string[] = []) =>
        ok('/usr/sbin/useradd', ['-m', '-s', '/bin/bash', '-U', '-G', [USERS_GROUP, ...extra].join(','), '-c', 'agor user', '-K', 'UID_MIN=1000', '-K', 'GID_MIN=1000', user]);
      legacy(LEGACY);
      refusedLine(priv(strictShell(LEGACY), 'id -u\n'), /was not created by agor-priv/, 'exec strict legacy before adoption');
      privOk(['ensure-user', '--user', LEGACY]);
      assert.equal(fs.readFileSync(marker(LEGACY), 'utf8'), `${passwd(LEGACY)!.uid}\n`);
      privOk(['set-group-members', '--group', G1, '--members', `${ALICE},${DAEMON},${LEGACY}`]);
      const r = priv(strictShell(LEGACY), 'id -u\n');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), String(passwd(LEGACY)!.uid));
      privOk(['set-group-members', '--group', G1, '--members', `${ALICE},${DAEMON}`]);
      legacy(LEGACY2);
      legacy(LEGACY_DISK, ['disk']);
      const again = install();
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`registered ${LEGACY2}, an account an earlier agor-priv created`));
      assert.match(again.stdout, new RegExp(`did not register ${LEGACY_DISK}: agor-priv: refused: .*member of group disk`));
      assert.equal(fs.existsSync(marker(LEGACY2)), true);
      assert.equal(fs.existsSync(marker(LEGACY_DISK)), false);
      assert.equal(fs.existsSync(marker(FOREIGN)), false, 'an account that does not look like one of agor\'s is never adopted');
    });

    it('prepare-worktree tightens a tree 410 directories deep top-down and reports what it left; hard-linked and foreign files are never changed', (t) => {
      if (guard(t)) return;
      const deep = `${WT_ROOT}/repo/deep`;
      const levels = (n: number) => `${deep}${'/d'.repeat(n)}`;
      // An agent's tree (umask 000: everything open to others).
      asDaemon(`umask 000 && mkdir -p ${levels(410)} && echo x > ${levels(410)}/f`);
      const opened = priv(['prepare-worktree', '--path', deep, '--group', G1, '--others', 'read']);
      assert.equal(opened.status, 0, `a deep tree must not make prepare-worktree refuse: ${opened.stderr}`);
      const report = JSON.parse(opened.stdout).prepare_worktree;
      assert.equal(report.skipped, 1);
      assert.match(report.examples[0].why, /nested deeper than 400 directories: closed to others/);
      assert.deepEqual([mode(deep) & 0o7, mode(levels(399)) & 0o7, mode(levels(400)) & 0o7], [0o5, 0o5, 0o0], 'read down to the limit, closed at it');
      const tightened = priv(['prepare-worktree', '--path', deep, '--group', G1, '--others', 'none']);
      assert.equal(tightened.status, 0, tightened.stderr);
      assert.deepEqual([mode(deep) & 0o7, mode(levels(399)) & 0o7], [0, 0]);
      t.diagnostic(`deep tree: ${opened.stdout.trim().slice(0, 300)}`);

      // A file hard-linked in from elsewhere (another worktree's ref, say) keeps its group, mode and
      // ACL; a file of an account that is not this worktree's keeps them too, and the directory
      // holding it, which would give others more than asked, is closed to them instead.
      const wt = `${WT_ROOT}/repo/wt9`;
      const elsewhere = `${WT_ROOT}/elsewhere`;
      asDaemon(`mkdir -p ${wt}/open ${wt}/foreign ${elsewhere} && echo ref > ${elsewhere}/main && chmod 640 ${elsewhere}/main && ln ${elsewhere}/main ${wt}/open/main-link && echo y > ${wt}/open/plain`);
      ok('/usr/bin/install', ['-o', BOB, '-g', BOB, '-m', '0666', '/dev/null', `${wt}/foreign/bobs`]);
      const untouched = [`${elsewhere}/main`, `${wt}/foreign/bobs`];
      const before = snapshot(untouched);
      const r = priv(['prepare-worktree', '--path', wt, '--group', G1, '--others', 'read']);
      assert.equal(r.status, 0, r.stderr);
      const left = JSON.parse(r.stdout).prepare_worktree;
      assert.equal(left.skipped, 2);
      assert.deepEqual(left.examples.map((e: { why: string }) => e.why).sort(), [
        'a file with 2 hard links: left unchanged',
        `owned by uid ${passwd(BOB)!.uid}, not one of this worktree's identities: left unchanged`,
      ]);
      assert.deepEqual(left.closedExamples, [`${fs.realpathSync(WT_ROOT)}/repo/wt9/foreign`]);
      assert.deepEqual(snapshot(untouched), before, 'the hard-linked and the foreign file are unchanged');
      assert.equal(fs.lstatSync(`${wt}/open/plain`).gid, group(G1)!.gid, 'the rest of the tree is prepared');
      assert.equal(mode(`${wt}/open`) & 0o7, 0o5);
      assert.equal(mode(`${wt}/foreign`) & 0o7, 0, 'closed to others: bob\'s 0666 file is out of their reach');
    });

    it('only the daemon user may use the rule; agor-priv refuses to run when its files or config are not root\'s alone', (t) => {
      if (guard(t)) return;
      for (const user of [ALICE, EXECUTOR]) {
        const r = run('/usr/sbin/runuser', ['-u', user, '--', '/usr/bin/sudo', '-n', PRIV, 'ensure-group', '--group', G1]);
        assert.equal(r.status, 1, `${user} must not be allowed: ${r.stderr}`);
        assert.match(r.stderr, /password is required|not allowed|may not run/);
      }
      const d = passwd(DAEMON)!;
      const tamper: Array<[string, () => void, () => void, RegExp]> = [
        [`${PRIV_YAML} group-writable`, () => fs.chmodSync(host(PRIV_YAML), 0o664), () => fs.chmodSync(host(PRIV_YAML), 0o644), /priv\.yaml/],
        [`${PRIV_YAML} owned by the daemon user`, () => fs.chownSync(host(PRIV_YAML), d.uid, 0), () => fs.chownSync(host(PRIV_YAML), 0, 0), /priv\.yaml/],
        [`${PRIV_YAML} with an unknown key`, () => fs.appendFileSync(host(PRIV_YAML), 'worktrees_root_extra: /\n'), () => fs.writeFileSync(host(PRIV_YAML), fs.readFileSync(host(PRIV_YAML), 'utf8').replace('worktrees_root_extra: /\n', '')), /unknown key/],
        [`${PRIV_YAML} missing`, () => fs.renameSync(host(PRIV_YAML), host(`${PRIV_YAML}.moved`)), () => fs.renameSync(host(`${PRIV_YAML}.moved`), host(PRIV_YAML)), /priv\.yaml/],
        ['the bundle group-writable', () => fs.chmodSync(host(`${LIBEXEC}/agor-priv.mjs`), 0o664), () => fs.chmodSync(host(`${LIBEXEC}/agor-priv.mjs`), 0o644), /agor-priv\.mjs/],
        ['the bundle owned by the daemon user', () => fs.chownSync(host(`${LIBEXEC}/agor-priv.mjs`), d.uid, 0), () => fs.chownSync(host(`${LIBEXEC}/agor-priv.mjs`), 0, 0), /agor-priv\.mjs/],
        [`${LIBEXEC} writable by others`, () => fs.chmodSync(host(LIBEXEC), 0o757), () => fs.chmodSync(host(LIBEXEC), 0o755), /libexec\/agor/],
        ['worktrees_root writable by others', () => fs.chmodSync(WT_ROOT, 0o777), () => fs.chmodSync(WT_ROOT, 0o711), /worktrees_root/],
      ];
      for (const [what, breakIt, restore, pattern] of tamper) {
        breakIt();
        let r: Result;
        try {
          r = priv(['prepare-worktree', '--path', `${WT_ROOT}/repo/wt1`, '--group', G1, '--others', 'none']);
        } finally {
          restore();
        }
        assert.equal(r.status, 66, `${what}: ${r.stderr}`);
        assert.match(r.stderr, /^agor-priv: config: /, what);
        assert.match(r.stderr, pattern, what);
        assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, what);
      }
      privOk(['prepare-worktree', '--path', `${WT_ROOT}/repo/wt1`, '--group', G1, '--others', 'none']);
    });

    it('a directory flipped to and from a symlink while prepare-worktree runs never redirects it', async (t) => {
      if (guard(t)) return;
      const decoy = `${TEST_DIR}/alice-private`;
      const race = `${WT_ROOT}/race`;
      asDaemon(`mkdir -p ${race}/sub && echo x > ${race}/sub/f`);
      const before = snapshot([decoy, `${decoy}/secret`, '/etc', '/etc/passwd', '/etc/shadow']);
      const d = passwd(DAEMON)!;
      // As the daemon user: keep swapping race/ and race/sub for symlinks to the decoy.
      const flipper = spawn(
        process.execPath,
        [
          '-e',
          `const fs = require('fs'); const end = Date.now() + 6000;
           const swap = (p, target) => { try { fs.renameSync(p, p + '.real'); fs.symlinkSync(target, p); fs.unlinkSync(p); fs.renameSync(p + '.real', p); } catch {} };
           while (Date.now() < end) { swap(${JSON.stringify(race)}, ${JSON.stringify(decoy)}); swap(${JSON.stringify(`${race}/sub`)}, ${JSON.stringify(decoy)}); swap(${JSON.stringify(`${race}/sub/f`)}, ${JSON.stringify(`${decoy}/secret`)}); }`,
        ],
        { uid: d.uid, gid: d.gid, stdio: 'ignore', cwd: '/' },
      );
      started.push(flipper);
      const outcomes = new Map<string, number>();
      const deadline = Date.now() + 5000;
      let calls = 0;
      while (Date.now() < deadline) {
        const r = priv(['prepare-worktree', '--path', race, '--group', G1, '--others', 'write']);
        calls += 1;
        const key = r.status === 0 ? 'ok' : (r.stderr.split(':')[1] ?? '').trim() || String(r.status);
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        assert.ok(r.status === 0 || r.status === 65, `unexpected exit ${r.status}: ${r.stderr}`);
      }
      await new Promise<void>((resolve) => (flipper.exitCode !== null ? resolve() : flipper.once('exit', () => resolve())));
      t.diagnostic(`race: ${calls} prepare-worktree calls while flipping: ${JSON.stringify(Object.fromEntries(outcomes))}`);
      assert.deepEqual(snapshot([decoy, `${decoy}/secret`, '/etc', '/etc/passwd', '/etc/shadow']), before);
    });

    it('remove-tree: one worktree directory goes, as root, by a no-follow walk; symlinks, hard links and hostile paths never reach outside', (t) => {
      if (guard(t)) return;
      // Root's own files outside worktrees_root, reachable by a symlink or a hard link from the tree.
      const rootDecoy = `${TEST_DIR}/root-decoy`;
      fs.mkdirSync(rootDecoy, { recursive: true, mode: 0o755 });
      for (let i = 0; i < 5; i++) fs.writeFileSync(`${rootDecoy}/keep${i}`, `keep ${i}\n`);
      const rootFile = `${TEST_DIR}/root-file`;
      fs.writeFileSync(rootFile, 'root file\n', { mode: 0o600 });
      const tree = `${WT_ROOT}/rmrepo/wt`;
      asDaemon(`mkdir -p ${tree}/sub/deeper ${WT_ROOT}/rmrepo/other && echo x > ${tree}/sub/deeper/f && ln -s ${rootDecoy} ${tree}/to-decoy && ln -s ${rootDecoy} ${WT_ROOT}/rmrepo/decoy-link && echo y > ${WT_ROOT}/rmrepo/plain-file && echo z > ${WT_ROOT}/rmrepo/other/keep`);
      fs.linkSync(rootFile, `${tree}/hardlink-to-root-file`);
      ok('/usr/bin/install', ['-d', '-o', ALICE, '-g', ALICE, '-m', '0700', `${tree}/alices`]);
      ok('/usr/bin/install', ['-o', ALICE, '-g', ALICE, '-m', '0000', '/dev/null', `${tree}/alices/unreadable`]);
      const watched = [rootDecoy, ...Array.from({ length: 5 }, (_, i) => `${rootDecoy}/keep${i}`), rootFile, `${WT_ROOT}/rmrepo/other/keep`, `${WT_ROOT}/rmrepo/decoy-link`, `${WT_ROOT}/rmrepo/plain-file`, '/etc/passwd'];
      const before = snapshot(watched);
      const rm = (p: string) => ['remove-tree', '--path', p];
      const cases: Array<[string, string[], 64 | 65]> = [
        ['no --path', ['remove-tree'], 64],
        ['--path=', ['remove-tree', `--path=${tree}`], 64],
        ['repeated --path', [...rm(tree), '--path', '/etc'], 64],
        ['unknown flag', [...rm(tree), '--group', G1], 64],
        ['stray positional', [...rm(tree), 'extra'], 64],
        ['newline in path', rm(`${tree}\n/etc`), 64],
        ['/', rm('/'), 65],
        ['/etc', rm('/etc'), 65],
        ['relative', rm('rmrepo/wt'), 65],
        ['with ..', rm(`${WT_ROOT}/rmrepo/../../..`), 65],
        ['trailing slash', rm(`${tree}/`), 65],
        ['worktrees_root itself', rm(WT_ROOT), 65],
        ['an entry of worktrees_root itself', rm(`${WT_ROOT}/rmrepo`), 65],
        ['a symlink to a root directory', rm(`${WT_ROOT}/rmrepo/decoy-link`), 65],
        ['through a symlink to /etc', rm(`${WT_ROOT}/swapped/ssl`), 65],
        ['a file', rm(`${WT_ROOT}/rmrepo/plain-file`), 65],
        ['outside worktrees_root', rm(`${TEST_DIR}/home/x`), 65],
      ];
      const failures: string[] = [];
      for (const [what, args, expected] of cases) {
        const r = priv(args);
        const name = expected === 64 ? 'usage' : 'refused';
        if (r.status !== expected || !r.stderr.startsWith(`agor-priv: ${name}: `) || r.stderr.split('\n').filter(Boolean).length !== 1) failures.push(`${what}: exit ${r.status}, ${JSON.stringify(r.stderr)}`);
      }
      t.diagnostic(`hostile remove-tree calls: ${cases.length}`);
      assert.deepEqual(failures, []);
      assert.deepEqual(snapshot(watched), before, 'a refused call changes nothing');
      assert.ok(fs.existsSync(`${tree}/sub/deeper/f`));

      privOk(rm(tree));
      assert.equal(fs.existsSync(tree), false, "the tree, alice's unreadable files included, is gone");
      assert.equal(fs.readFileSync(rootFile, 'utf8'), 'root file\n');
      for (let i = 0; i < 5; i++) assert.equal(fs.readFileSync(`${rootDecoy}/keep${i}`, 'utf8'), `keep ${i}\n`);
      assert.ok(fs.existsSync(`${WT_ROOT}/rmrepo/other/keep`), 'the sibling worktree is untouched');
      privOk(rm(tree)); // already gone: nothing to do
    });

    it('remove-tree while the worktree\'s identity swaps a directory with a symlink to root\'s files (renameat2 exchange, bounded)', async (t) => {
      if (guard(t)) return;
      if (process.arch !== 'x64') return t.skip('the swapper uses the x86_64 renameat2 syscall number');
      const a = passwd(ALICE)!;
      const rootDecoy = `${TEST_DIR}/root-decoy-race`;
      fs.mkdirSync(rootDecoy, { recursive: true, mode: 0o755 });
      const names = Array.from({ length: 40 }, (_, i) => `f${i}`);
      for (const n of names) fs.writeFileSync(`${rootDecoy}/${n}`, `root's ${n}\n`);
      const before = snapshot([rootDecoy, ...names.map((n) => `${rootDecoy}/${n}`)]);
      let swaps = 0;
      for (let attempt = 0; attempt < 8; attempt++) {
        const tree = `${WT_ROOT}/racerepo/wt${attempt}`;
        asDaemon(`mkdir -p ${WT_ROOT}/racerepo`);
        ok('/usr/bin/install', ['-d', '-o', ALICE, '-g', ALICE, '-m', '0755', tree, `${tree}/d`]);
        ok('/usr/sbin/runuser', ['-u', ALICE, '--', '/bin/sh', '-c', `cd ${tree}/d && for n in ${names.join(' ')}; do echo mine > $n; done && for i in 1 2 3 4 5 6 7 8 9 10; do mkdir -p s$i/deeper; done && ln -s ${rootDecoy} ${tree}/l`]);
        const swapper = spawn('perl', ['-e', 'my ($a,$b,$n)=@ARGV; my $ok=0; $SIG{TERM}=sub{print "$ok\\n"; exit 0}; for (1..$n) { $ok++ if syscall(316,-100,$a,-100,$b,2)==0 } print "$ok\\n";', `${tree}/d`, `${tree}/l`, '3000000'], {
          uid: a.uid,
          gid: a.gid,
          cwd: '/',
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        started.push(swapper);
        let out = '';
        swapper.stdout!.on('data', (d) => (out += d));
        const closed = new Promise<void>((resolve) => swapper.once('close', () => resolve()));
        const r = priv(['remove-tree', '--path', tree]);
        if (swapper.exitCode === null) swapper.kill('SIGTERM');
        await closed;
        swaps += Number(out.trim()) || 0;
        assert.ok(r.status === 0 || r.status === 69, `attempt ${attempt}: exit ${r.status} ${r.stderr}`);
        if (fs.existsSync(tree)) privOk(['remove-tree', '--path', tree]);
        assert.deepEqual(snapshot([rootDecoy, ...names.map((n) => `${rootDecoy}/${n}`)]), before, `attempt ${attempt}: root's files outside are untouched`);
      }
      t.diagnostic(`swaps during 8 removals: ${swaps}`);
      assert.ok(swaps > 0, 'the swapper really swapped');
    });
  });
}
