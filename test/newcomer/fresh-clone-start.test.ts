// README's first command, as a new user runs it: `npm ci && npm start` in a fresh clone, with a
// fresh HOME (so ~/.agor is created there). Then the printed URL and password must give a board
// that loads and an agent that answers a prompt; and a second `npm start` must not build again.
//
// The clone is of this checkout's committed HEAD (in CI the checkout is itself a fresh clone; run
// locally, commit first). `npm ci` is replaced by a symlink to the checkout's node_modules, which
// `npm ci` installed from the same package-lock.json: the test checks that every package the clone's
// lockfile pins is installed there at that version (npm's own record, node_modules/.package-lock.json),
// which is what `npm ci` would produce, without minutes of copying or any network.
//
// Slow (a whole build on a cold dist/): a couple of minutes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { feathers } from '@feathersjs/feathers';
import restModule from '@feathersjs/rest-client';
import socketioClientModule from '@feathersjs/socketio-client';
import { io } from 'socket.io-client';
import { stringify } from 'yaml';
import { packageRoot } from '../../daemon/version.js';
import { cleanupTempDirs, makeRepo, plainEnv, tempDir } from '../../daemon/git/test-support.js';
import type { PublicTask } from '../../daemon/services/tasks/tasks.shared.js';
import type { PublicMessage } from '../../daemon/services/messages/messages.shared.js';

const rest = restModule as unknown as typeof restModule.default;
const socketioClient = socketioClientModule as unknown as typeof socketioClientModule.default;

const ROOT = packageRoot();
const IN_CI = process.env.CI === 'true';
const BUILD_MS = 10 * 60_000;
const skip = fs.existsSync(path.join(ROOT, '.git')) ? false : 'not a git checkout (nothing to clone)';
if (skip && IN_CI) throw new Error(`fresh-clone test cannot run in CI: ${skip}`);

/** `npm start` in the background, in its own process group (Ctrl-C in a terminal reaches the whole group). */
class NpmStart {
  readonly child: ChildProcess;
  output = '';
  private readonly closed: Promise<void>;
  private waiters: (() => void)[] = [];
  private ended = false;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.child = spawn('npm', ['start'], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (chunk: Buffer) => {
      this.output += chunk.toString();
      for (const w of this.waiters) w();
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    // 'close': every process holding the output pipes (npm, the start script, the daemon) is gone.
    this.closed = new Promise((resolve) =>
      this.child.once('close', () => {
        this.ended = true;
        resolve();
      }),
    );
    void this.closed.then(() => this.waiters.forEach((w) => w()));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first match of `pattern` in the output; fails if npm start ends first or after `ms`. */
  async waitFor(pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = pattern.exec(this.output);
      if (m) return m;
      if (!this.running) throw new Error(`npm start ended before printing ${pattern}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`npm start did not print ${pattern} within ${ms / 1000} s:\n${this.output}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters = [...this.waiters, () => (clearTimeout(timer), resolve())];
      });
      this.waiters = [];
    }
  }

  /**
   * Ctrl-C: SIGINT to the process group this test created (by its id), then wait until all of it
   * is gone; SIGKILL to that group if it has not ended after 30 s (the test then fails on its output).
   */
  async interrupt(): Promise<void> {
    const pid = this.child.pid;
    if (!pid || this.ended) return;
    // The group outlives npm itself while the daemon holds the pipes.
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pid, sig);
      } catch {
        /* the whole group is already gone */
      }
    };
    signal('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 30_000)));
    if ((await Promise.race([this.closed, late])) === 'late') {
      this.output += '\n[test] npm start did not end within 30 s of SIGINT; killed\n';
      signal('SIGKILL');
      await this.closed;
    }
    clearTimeout(timer);
  }
}

let tmp: string;
let clone: string;
let home: string;
let env: NodeJS.ProcessEnv;
const started: NpmStart[] = [];

/** Same versions as npm ci would install from `lockfile`: npm's record of node_modules agrees with it. */
function assertInstalledMatches(lockfile: string, nodeModules: string): void {
  const wanted = (JSON.parse(fs.readFileSync(lockfile, 'utf8')) as { packages: Record<string, { version?: string; optional?: boolean }> }).packages;
  const installed = (JSON.parse(fs.readFileSync(path.join(nodeModules, '.package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> }).packages;
  for (const [name, pkg] of Object.entries(installed)) assert.equal(pkg.version, wanted[name]?.version, `${name} installed at the version the lockfile pins`);
  // Optional packages for other platforms are skipped by npm ci too.
  const absent = Object.entries(wanted).filter(([name, pkg]) => name !== '' && !pkg.optional && !installed[name]);
  assert.deepEqual(absent.map(([name]) => name), [], 'every required package is installed');
}

before(() => {
  if (skip) return;
  tmp = tempDir('agor-fresh-clone-');
  clone = path.join(tmp, 'agor');
  home = path.join(tmp, 'home');
  const head = execFileSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
  if (dirty) console.log(`# fresh-clone test: uncommitted changes in ${ROOT} are not in the clone (it tests HEAD ${head.slice(0, 12)})`);
  execFileSync('git', ['clone', '--quiet', ROOT, clone], { env: plainEnv() });
  execFileSync('git', ['-C', clone, 'checkout', '--quiet', '--detach', head], { env: plainEnv() });
  const nodeModules = fs.realpathSync(path.join(ROOT, 'node_modules'));
  assertInstalledMatches(path.join(clone, 'package-lock.json'), nodeModules);
  fs.symlinkSync(nodeModules, path.join(clone, 'node_modules'));

  // The user's shell: their HOME, no AGOR_* variables, nothing inherited from the npm running this test.
  env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AGOR_') && !/^npm_/i.test(k)));
  env.HOME = home;
  // Before the first start, as a user would after reading config.example.yaml: a command agent, and
  // any free port (3030 may be taken on this machine).
  fs.mkdirSync(path.join(home, '.agor'), { recursive: true, mode: 0o700 });
  const config = { daemon: { port: 0 }, agents: { echo: { type: 'command', command: ['sed', '-u', 's/^/agent heard: /'] } } };
  fs.writeFileSync(path.join(home, '.agor/config.yaml'), stringify(config), { mode: 0o600 });
});

after(async () => {
  for (const s of started) await s.interrupt();
  cleanupTempDirs();
});

describe('npm start on a fresh clone (README: npm ci && npm start)', { skip }, () => {
  let url = '';
  let email = '';
  let password = '';

  it('builds, creates ~/.agor with a first owner, prints the URL and the password', { timeout: BUILD_MS + 60_000 }, async () => {
    const first = new NpmStart(clone, env);
    started.push(first);
    url = (await first.waitFor(/agor daemon listening on (http:\/\/\S+)/, BUILD_MS))[1]!;
    assert.match(first.output, /Building agor: daemon and CLI \(not built yet\); web UI \(not built yet\); agor-priv bundle \(not built yet\); executor bundle \(not built yet\)/);
    email = /First owner: (\S+)/.exec(first.output)![1]!;
    password = /Password:\s+(\S+)/.exec(first.output)![1]!;
    assert.ok(fs.statSync(path.join(home, '.agor/agor.db')).isFile(), '~/.agor is under the new HOME');
    for (const out of ['dist/cli/main.js', 'dist/ui/index.html', 'dist/executor/agor-executor.mjs', 'dist/priv/agor-priv.mjs']) assert.ok(fs.existsSync(path.join(clone, out)), out);
  });

  it('the printed password logs in, and / serves the board and its script', async () => {
    const auth = (await feathers().configure(rest(url).fetch(fetch)).service('authentication').create({ strategy: 'local', email, password })) as { accessToken: string };
    assert.ok(auth.accessToken);
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    const script = /<script[^>]+src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, `the page names its script: ${html.slice(0, 300)}`);
    const js = await fetch(`${url}${script}`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.ok((await js.text()).length > 10_000);
  });

  it('a prompt to the configured command agent completes with its answer', { timeout: 120_000 }, async () => {
    const auth = (await feathers().configure(rest(url).fetch(fetch)).service('authentication').create({ strategy: 'local', email, password })) as { accessToken: string };
    const api = feathers().configure(rest(url).fetch(fetch, { headers: { Authorization: `Bearer ${auth.accessToken}` } }));
    const repoDir = makeRepo(path.join(tmp, 'project'), { 'README.md': 'hello\n' });
    const repo = (await api.service('repos').create({ path: repoDir })) as { id: string };
    const worktree = (await api.service('worktrees').create({ repo_id: repo.id, name: 'first-steps' })) as { id: string };
    const session = (await api.service('sessions').create({ worktree_id: worktree.id, agent: 'echo' })) as { id: string };

    const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders: { Authorization: `Bearer ${auth.accessToken}` } });
    try {
      const live = feathers().configure(socketioClient(socket as never, { timeout: 10_000 }));
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      await live.service('authentication').create({ strategy: 'jwt', accessToken: auth.accessToken });
      const ended = new Promise<PublicTask>((resolve) => {
        live.service('tasks').on('patched', (t: PublicTask) => {
          if (t.session_id === session.id && ['completed', 'failed', 'stopped'].includes(t.status)) resolve(t);
        });
      });
      const task = (await api.service('tasks').create({ session_id: session.id, prompt: 'hello from a new user' })) as PublicTask;
      const done = await ended;
      assert.equal(done.id, task.id);
      assert.equal(done.status, 'completed', `the task ended ${done.status}: ${done.reason ?? ''}`);
      const messages = (await api.service('messages').find({ query: { task_id: task.id } })) as { data: PublicMessage[] };
      assert.deepEqual(
        messages.data.map((m) => (m.content as { text?: string }).text),
        ['agent heard: hello from a new user'],
      );
    } finally {
      socket.close();
    }
  });

  it('`agor` runs from the checkout (npx agor) and from the PATH after `npm link`', async () => {
    const version = (JSON.parse(fs.readFileSync(path.join(clone, 'package.json'), 'utf8')) as { version: string }).version;
    // --offline: nothing may come from the registry (a package there called agor is not this one).
    assert.equal(execFileSync('npx', ['--offline', 'agor', '--version'], { cwd: clone, env, encoding: 'utf8' }).trim(), version);
    const prefix = path.join(tmp, 'npm-global');
    execFileSync('npm', ['link', '--offline', '--no-audit', '--no-fund'], { cwd: clone, env: { ...env, npm_config_prefix: prefix }, encoding: 'utf8' });
    assert.equal(execFileSync(path.join(prefix, 'bin/agor'), ['--version'], { env, encoding: 'utf8' }).trim(), version);
  });

  it('Ctrl-C stops it; a second npm start with nothing changed does not build', { timeout: BUILD_MS }, async () => {
    const first = started[0]!;
    await first.interrupt();
    assert.match(first.output, /SIGINT received, shutting down/);
    assert.doesNotMatch(first.output, /did not end within/);
    const state = fs.readFileSync(path.join(clone, 'dist/.build-state.json'), 'utf8');
    const times = (files: string[]) => files.map((f) => fs.statSync(path.join(clone, f)).mtimeMs);
    const watched = ['dist/cli/main.js', 'dist/daemon/main.js', 'dist/ui/index.html', 'dist/executor/agor-executor.mjs', 'dist/priv/agor-priv.mjs'];
    const before = times(watched);

    const second = new NpmStart(clone, env);
    started.push(second);
    const again = (await second.waitFor(/agor daemon listening on (http:\/\/\S+)/, BUILD_MS))[1]!;
    assert.match(second.output, /Nothing to build: dist\/ is up to date with every source\./);
    assert.doesNotMatch(second.output, /Building agor/);
    assert.doesNotMatch(second.output, /First owner|Password:/, 'the password is printed once, at the first start only');
    assert.deepEqual(times(watched), before, 'no output was rewritten');
    assert.equal(fs.readFileSync(path.join(clone, 'dist/.build-state.json'), 'utf8'), state);
    assert.equal((await fetch(`${again}/`)).status, 200);
    await second.interrupt();
    assert.doesNotMatch(first.output + second.output, /ERR_STREAM_PREMATURE_CLOSE|Unhandled|TypeError/);
  });
});
