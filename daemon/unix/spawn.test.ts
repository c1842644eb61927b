import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commandFor, simpleEnvironment, spawnAsIdentity, type SpawnSettings } from './spawn.js';
import { alive, processesWith } from '../../test/helpers/proc.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-spawn-test-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const sandbox = { network: true, agorHome: path.join(dir, 'agor-home'), hide: [], hideFiles: [] };
const simple: SpawnSettings = { mode: 'simple', sudoPath: '/usr/bin/sudo', privPath: '/usr/local/libexec/agor/agor-priv', stopGraceMs: 2000, sandbox };
const WT = 'wt-spawn-test';
const insulated: SpawnSettings = { ...simple, mode: 'insulated' };
const strict: SpawnSettings = { ...simple, mode: 'strict' };

function collect(stream: NodeJS.ReadableStream | null): () => string {
  let out = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (d: string) => (out += d));
  return () => out;
}

/** Waits for `pattern` in `out()`, at most 10 s. */
async function waitFor(out: () => string, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!pattern.test(out())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} (got ${JSON.stringify(out())})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// The shell tests run the daemon user's login shell: skip them when it is none (nologin, false).
const LOGIN_SHELL = os.userInfo().shell ?? '';
const noShell = /nologin|false$/.test(LOGIN_SHELL) || !LOGIN_SHELL ? `the login shell of ${os.userInfo().username} is ${LOGIN_SHELL || 'unset'}` : false;

describe('commandFor: the command line of each identity', () => {
  it('insulated and strict go through sudo -n agor-priv exec, never a shell, with no environment of ours', () => {
    const i = commandFor({ kind: 'insulated', user: 'agor_executor', group: 'agor_wt_0123456789ab' }, { program: 'executor', cwd: '/srv/wt/a' }, insulated);
    assert.equal(i.file, '/usr/bin/sudo');
    assert.deepEqual(i.args, ['-n', '/usr/local/libexec/agor/agor-priv', 'exec', '--mode', 'insulated', '--group', 'agor_wt_0123456789ab', '--cwd', '/srv/wt/a', '--program', 'executor']);
    assert.deepEqual(Object.keys(i.env).sort(), ['LANG', 'LC_ALL', 'PATH']);
    const s = commandFor({ kind: 'strict', user: 'agor_alice', group: 'agor_wt_0123456789ab' }, { program: 'shell', cwd: '/srv/wt/a', term: 'xterm-256color' }, strict);
    assert.deepEqual(s.args, ['-n', '/usr/local/libexec/agor/agor-priv', 'exec', '--mode', 'strict', '--user', 'agor_alice', '--group', 'agor_wt_0123456789ab', '--cwd', '/srv/wt/a', '--program', 'shell', '--term', 'xterm-256color']);
    const off = commandFor({ kind: 'insulated', user: 'agor_executor', group: 'agor_wt_0123456789ab' }, { program: 'executor', cwd: '/srv/wt/a' }, { ...insulated, sandbox: { ...sandbox, network: false } });
    assert.deepEqual(off.args.slice(-2), ['--network', 'off']);
  });
  it('fails closed: never the daemon user in insulated/strict, never an isolated identity in simple mode', () => {
    assert.throws(() => commandFor({ kind: 'daemon' }, { program: 'shell', cwd: dir }, insulated), /refusing to run as the daemon user/);
    assert.throws(() => commandFor({ kind: 'strict', user: 'agor_a', group: 'agor_wt_0123456789ab' }, { program: 'shell', cwd: dir }, simple), /needs unix_user_mode/);
    assert.throws(() => commandFor({ kind: 'daemon' }, { program: 'shell', cwd: dir }, simple), /worktree id is needed for the sandbox/);
  });
  it('refuses what agor-priv could not honour or should never see', () => {
    const id = { kind: 'strict', user: 'agor_alice', group: 'agor_wt_0123456789ab' } as const;
    assert.throws(() => commandFor(id, { program: 'shell', cwd: '/w', env: { ANTHROPIC_API_KEY: 'x' } }, strict), /over its pipe/);
    assert.throws(() => commandFor(id, { program: 'executor', cwd: '/w', programPath: '/tmp/x.mjs' }, strict), /simple mode only/);
    assert.throws(() => commandFor(id, { program: 'bash' as never, cwd: '/w' }, strict), /unknown program/);
    assert.throws(() => commandFor(id, { program: 'shell', cwd: 'relative' }, strict), /absolute/);
    assert.throws(() => commandFor(id, { program: 'shell', cwd: '/w', term: 'x;rm -rf /' }, strict), /TERM/);
  });
  it("pinned git locations: agor-priv flags, or the environment and the sandbox's binds in simple mode", () => {
    const git = { GIT_DIR: '/srv/repos/p/.git/worktrees/a', GIT_COMMON_DIR: '/srv/repos/p/.git', GIT_WORK_TREE: '/srv/wt/a' };
    const s = commandFor({ kind: 'insulated', user: 'agor_executor', group: 'agor_wt_0123456789ab' }, { program: 'shell', cwd: '/srv/wt/a', git }, insulated);
    assert.deepEqual(s.args.slice(-6), ['--git-dir', git.GIT_DIR, '--git-common-dir', git.GIT_COMMON_DIR, '--work-tree', git.GIT_WORK_TREE]);
    assert.deepEqual(Object.keys(s.env).sort(), ['LANG', 'LC_ALL', 'PATH'], 'nothing of it in sudo\'s environment');
    const local = { GIT_DIR: path.join(dir, 'repo/.git/worktrees/a'), GIT_COMMON_DIR: path.join(dir, 'repo/.git'), GIT_WORK_TREE: dir };
    fs.mkdirSync(local.GIT_DIR, { recursive: true });
    const d = commandFor({ kind: 'daemon' }, { program: 'shell', cwd: dir, worktreeId: WT, git: local }, simple);
    assert.equal(d.file, '/usr/bin/bwrap');
    assert.deepEqual([d.env.GIT_DIR, d.env.GIT_COMMON_DIR, d.env.GIT_WORK_TREE], [local.GIT_DIR, local.GIT_COMMON_DIR, local.GIT_WORK_TREE]);
    assert.ok(d.args.join(' ').includes(`--bind ${local.GIT_COMMON_DIR} ${local.GIT_COMMON_DIR}`), d.args.join(' '));
    const e = commandFor({ kind: 'daemon' }, { program: 'executor', cwd: dir, worktreeId: WT, git: local }, simple);
    assert.equal(e.env.GIT_DIR, undefined, 'the executor gets them in run_task');
    assert.equal(e.env.GIT_CONFIG_KEY_0, 'submodule.recurse', 'git is pinned for every identity');
    const id = { kind: 'strict', user: 'agor_alice', group: 'agor_wt_0123456789ab' } as const;
    assert.throws(() => commandFor(id, { program: 'shell', cwd: '/w', git: { ...git, GIT_DIR: 'relative' } }, strict), /invalid git location/);
    assert.throws(() => commandFor(id, { program: 'shell', cwd: '/w', git: { ...git, GIT_WORK_TREE: '/w\n--user root' } }, strict), /invalid git location/);
  });
});

describe('simple mode: a direct child with an allow-listed environment', () => {
  it("never passes on the daemon's environment", () => {
    process.env.AGOR_TEST_SECRET_MARKER = 'must-not-leak';
    try {
      const env = simpleEnvironment({ env: { ANTHROPIC_API_KEY: 'k' }, term: 'xterm' });
      assert.deepEqual(Object.keys(env).sort(), ['ANTHROPIC_API_KEY', 'HOME', 'LANG', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER']);
      const full = commandFor({ kind: 'daemon' }, { program: 'shell', cwd: dir, worktreeId: WT, env: { ANTHROPIC_API_KEY: 'k' } }, simple).env;
      assert.ok(!Object.keys(full).some((k) => k.startsWith('AGOR_')));
      assert.equal(full.TMPDIR, '/tmp');
      assert.equal(env.PATH, '/usr/local/bin:/usr/bin:/bin');
    } finally {
      delete process.env.AGOR_TEST_SECRET_MARKER;
    }
  });
  it('refuses variables that change how programs load', () => {
    for (const name of ['LD_PRELOAD', 'NODE_OPTIONS', 'GIT_DIR', 'PATH', 'HOME', 'AGOR_MASTER_SECRET', 'BASH_ENV']) {
      assert.throws(() => simpleEnvironment({ env: { [name]: 'x' } }), /refused/, name);
    }
  });
  it('runs the executor program with this Node; the child sees only the allow-list', async () => {
    const program = path.join(dir, 'fake-executor.mjs');
    fs.writeFileSync(program, "process.stdout.write(JSON.stringify({ cwd: process.cwd(), keys: Object.keys(process.env).sort() }) + '\\n');\n");
    process.env.AGOR_MASTER_SECRET_TEST_ONLY = 'x';
    const proc = spawnAsIdentity({ kind: 'daemon' }, { program: 'executor', cwd: dir, worktreeId: WT, programPath: program }, simple);
    delete process.env.AGOR_MASTER_SECRET_TEST_ONLY;
    const out = collect(proc.child.stdout);
    proc.child.stdin!.end();
    assert.deepEqual(await proc.exited, { code: 0, signal: null });
    const seen = JSON.parse(out());
    assert.equal(seen.cwd, fs.realpathSync(dir));
    assert.ok(!seen.keys.some((k: string) => k.startsWith('AGOR_')), seen.keys.join(','));
  });
  it('the login shell exits when its stdin closes (a dead daemon leaves no shell behind)', { skip: noShell }, async () => {
    const proc = spawnAsIdentity({ kind: 'daemon' }, { program: 'shell', cwd: dir, worktreeId: WT }, simple);
    const out = collect(proc.child.stdout);
    proc.child.stdin!.write('echo hello-from-shell\n');
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(alive(proc.child.pid!));
    proc.child.stdin!.end();
    const status = await proc.exited;
    assert.equal(status.code, 0);
    assert.match(out(), /hello-from-shell/);
  });
  it('stop(): SIGTERM ends the whole sandbox at once, background and setsid -f processes included', { skip: noShell }, async () => {
    const proc = spawnAsIdentity({ kind: 'daemon' }, { program: 'shell', cwd: dir, worktreeId: WT }, simple);
    const out = collect(proc.child.stdout);
    const marker = `30${process.pid}`;
    proc.child.stdin!.write(`trap '' TERM\nsleep ${marker} &\nsetsid -f sleep ${marker}1\necho ready\nwait\n`);
    await waitFor(out, /ready/);
    assert.equal(processesWith(`sleep ${marker}`).length, 2, 'both sleeps run');
    const t0 = Date.now();
    const status = await proc.stop(5000);
    assert.ok(Date.now() - t0 < 2000, 'ended by SIGTERM (the shell ignoring it does not matter), not after the grace period');
    assert.equal(status.signal, 'SIGTERM');
    for (let i = 0; i < 50 && processesWith(`sleep ${marker}`).length > 0; i += 1) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(processesWith(`sleep ${marker}`), [], 'nothing of the sandbox is left');
  });
  it('the sandbox shows the worktree, a private HOME and /tmp; not the daemon home, AGOR_HOME or the host /tmp', { skip: noShell }, async () => {
    const secretDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-spawn-secret-'));
    fs.writeFileSync(path.join(secretDir, 'jwt.key'), 'secret');
    fs.writeFileSync(path.join(sandbox.agorHome, 'agor.db'), 'db');
    fs.writeFileSync(path.join(dir, 'in-worktree.txt'), 'mine');
    const proc = spawnAsIdentity({ kind: 'daemon' }, { program: 'shell', cwd: dir, worktreeId: WT }, simple);
    const out = collect(proc.child.stdout);
    proc.child.stdin!.write(
      [
        `cat ${secretDir}/jwt.key 2>/dev/null || echo no-host-tmp`,
        `cat ${sandbox.agorHome}/agor.db 2>/dev/null || echo no-agor-home`,
        'cat in-worktree.txt; echo',
        'echo home=$HOME; touch ~/.kept && echo home-writable',
        'echo x > /tmp/t && echo tmp-writable',
        'touch /etc/x 2>/dev/null || echo etc-read-only',
        'echo pids=$(ls /proc | grep -c "^[0-9]")',
        'exit',
        '',
      ].join('\n'),
    );
    await proc.exited;
    fs.rmSync(secretDir, { recursive: true, force: true });
    const text = out();
    for (const expected of ['no-host-tmp', 'no-agor-home', 'mine', 'home-writable', 'tmp-writable', 'etc-read-only']) assert.match(text, new RegExp(expected), text);
    assert.ok(Number(/pids=(\d+)/.exec(text)?.[1]) < 10, `only the sandbox's own processes in /proc: ${text}`);
    assert.ok(fs.existsSync(path.join(sandbox.agorHome, 'sandboxes', WT, 'home', '.kept')), 'the private HOME is kept for the next run');
  });
});

describe('insulated/strict: stop() signals sudo (which relays), then SIGKILLs it', () => {
  it('with a stand-in for sudo that reports what it got', async () => {
    const fakeSudo = path.join(dir, 'fake-sudo');
    fs.writeFileSync(fakeSudo, `#!/bin/bash\necho "argv: $*"\ntrap 'echo got-TERM; exit 143' TERM\nwhile read -r line; do :; done\n`, { mode: 0o755 });
    const settings = { ...strict, sudoPath: fakeSudo };
    const proc = spawnAsIdentity({ kind: 'strict', user: 'agor_alice', group: 'agor_wt_0123456789ab' }, { program: 'shell', cwd: '/srv/wt/a' }, settings);
    const out = collect(proc.child.stdout);
    await waitFor(out, /argv:/);
    assert.match(out(), /argv: -n \/usr\/local\/libexec\/agor\/agor-priv exec --mode strict --user agor_alice --group agor_wt_0123456789ab --cwd \/srv\/wt\/a --program shell/);
    const status = await proc.stop(3000);
    assert.equal(status.code, 143);
    assert.match(out(), /got-TERM/);
  });
});
