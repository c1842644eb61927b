// The runner in insulated and strict mode (root only, like the rest of the unix suite): prompts to a
// command agent run through the daemon's runner, sudo and agor-priv as the right identity, get the
// session creator's credentials over the pipe, and stop through sudo.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { stringify } from 'yaml';
import { DaemonHarness, isAlive, processTree, UnixFixture, unixSuiteBlocker } from './fixture.js';
import { acquireUnixSuiteLock } from '../helpers/unix-suite-lock.js';
import { BASE_ENV_NAMES } from '../../daemon/executor/env.js';

const blocker = unixSuiteBlocker();
const inCi = process.env.CI === 'true';
const OWNER = { email: 'owner@runner.unix.test', password: 'owner-password-1' };
const sha = (v: string) => crypto.createHash('sha256').update(v).digest('hex');

const AGENTS = {
  whoami: {
    type: 'command',
    command: [
      process.execPath,
      '-e',
      `const os=require('os'),fs=require('fs'),c=require('crypto');const user=os.userInfo().username;fs.writeFileSync('who.txt',user+'\\n');` +
        `const env={};for(const[k,v]of Object.entries(process.env))env[k]=c.createHash('sha256').update(v).digest('hex');` +
        `console.log(JSON.stringify({user,gid:process.getgid(),groups:process.getgroups(),cwd:process.cwd(),env}))`,
    ],
    env: ['MY_TOKEN'],
  },
  sleeper: { type: 'command', command: [process.execPath, '-e', `console.log(String(process.pid));setInterval(()=>{},1000)`] },
  // git as the executing identity, with only what run_task pins (GIT_DIR, GIT_COMMON_DIR, GIT_WORK_TREE).
  gitter: {
    type: 'command',
    command: [
      '/bin/sh',
      '-c',
      'set -e; me=$(id -un); printf "GIT_DIR=%s\\n" "$GIT_DIR"; echo "$me was here" >> README.md; mkdir -p sub; echo "$me" > "sub/$me.txt"; ' +
        'git status --porcelain; git add -A; git -c user.name=agent -c user.email=agent@x.invalid commit -qm "commit by $me"; git log --format=%s -1',
    ],
  },
  // A background job in a process group of its own (job control on, no setsid): the executor's own
  // clean-up (the command's process group) does not reach it; agor-priv's does.
  backgrounder: { type: 'command', command: ['/bin/bash', '-c', 'set -m; sleep 1000 >/dev/null 2>&1 & echo "$!"; sleep 1000 >/dev/null 2>&1 & echo "$!"; wait'] },
  leaver: { type: 'command', command: ['/bin/bash', '-c', 'set -m; sleep 1000 >/dev/null 2>&1 & echo "$!"'] },
};

async function call<T = any>(url: string, token: string | undefined, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}/${route}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = (await res.json().catch(() => ({}))) as any;
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${data.message}`);
  return data as T;
}

interface Person {
  id: string;
  unix: string | null;
  call<T = any>(method: string, route: string, body?: unknown): Promise<T>;
}

async function until<T>(pick: () => Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await pick();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

class Rig {
  h!: DaemonHarness;
  owner!: Person;
  repoId = '';
  constructor(
    readonly fx: UnixFixture,
    readonly mode: 'insulated' | 'strict',
  ) {}

  async start(): Promise<void> {
    const agorHome = `${this.fx.daemonHome}/agor-runner-${this.mode}`;
    fs.mkdirSync(agorHome, { mode: 0o700 });
    const config = {
      daemon: { host: '127.0.0.1', port: 0, data_dir: this.fx.worktreesRoot },
      execution: { worktree_rbac: true, unix_user_mode: this.mode, executor_unix_user: this.fx.executorUser, stop_grace_seconds: 2 },
      security: { allow_plaintext_secrets: true },
      agents: AGENTS,
    };
    fs.writeFileSync(`${agorHome}/config.yaml`, stringify(config), { mode: 0o600 });
    spawnSync('chown', ['-R', `${this.fx.daemonUser}:`, agorHome]);
    this.h = new DaemonHarness(this.fx, agorHome, `${agorHome}/config.yaml`);
    await this.h.init(OWNER.email, OWNER.password);
    this.owner = await this.login(OWNER.email, OWNER.password, '', null);
    this.repoId = (await this.owner.call('POST', 'repos', { url: `file://${this.fx.base}/src/proj`, name: `proj-runner-${this.mode}` })).id;
  }

  async login(email: string, password: string, id: string, unix: string | null): Promise<Person> {
    const { accessToken } = await call(this.h.url, undefined, 'POST', 'authentication', { strategy: 'local', email, password });
    return { id, unix, call: (method, route, body) => call(this.h.url, accessToken, method, route, body) };
  }

  async person(name: string, unix: boolean): Promise<Person> {
    const email = `${name}@runner.unix.test`;
    const password = `${name}-password-1`;
    const unixName = unix ? this.fx.person(`r${name}`) : null;
    const user = await this.owner.call('POST', 'users', { email, password, role: 'member', ...(unixName && { unix_username: unixName }) });
    return this.login(email, password, user.id, unixName);
  }

  async worktree(by: Person, name: string, others_can = 'none'): Promise<{ id: string; path: string; unix_group: string }> {
    const wt = await by.call('POST', 'worktrees', { repo_id: this.repoId, name, others_can, others_fs_access: 'none' });
    this.fx.groupsSeen.add(wt.unix_group);
    return wt;
  }

  /** Prompts a new `agent` session of `creator` (as `prompter`) and waits for the task to end. */
  async run(creator: Person, worktreeId: string, agent: string, prompter = creator): Promise<{ task: any; messages: any[] }> {
    const session = await creator.call('POST', 'sessions', { worktree_id: worktreeId, agent });
    const task = await prompter.call('POST', 'tasks', { session_id: session.id, prompt: 'who are you?' });
    const done = await until(async () => {
      const t = await creator.call('GET', `tasks/${task.id}`);
      return ['completed', 'failed', 'stopped'].includes(t.status) ? t : undefined;
    }, `task ${task.id}`);
    const messages = (await creator.call('GET', `messages?task_id=${task.id}`)).data;
    return { task: done, messages };
  }
}

/** Every process running as `uid` (from /proc). */
function processesOf(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const m = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${entry}/status`, 'utf8'));
      if (m && Number(m[1]) === uid && isAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** The gitter agent's run: completed, its commit on top, the pinned GIT_DIR used. */
function checkGitRun(run: { task: any; messages: any[] }, user: string, wtPath: string, stderr: string): void {
  const lines = run.messages.filter((m) => m.type === 'text').map((m) => String(m.content.text));
  assert.equal(run.task.status, 'completed', `${run.task.reason}\n${lines.join('\n')}\n${stderr.slice(-2000)}`);
  assert.match(lines[0]!, /^GIT_DIR=\/.+\/\.git\/worktrees\/[^/]+$/, 'the executor received the pinned admin dir');
  assert.ok(lines.some((l) => /^\?\? sub\//.test(l)), lines.join('\n'));
  assert.equal(lines.at(-1), `commit by ${user}`);
  const log = spawnSync('git', ['-c', 'safe.directory=*', '-C', wtPath, 'log', '--format=%an %s', '-1'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent' } });
  assert.equal(log.stdout.trim(), `agent commit by ${user}`, log.stderr);
}

function report(messages: any[]): { user: string; gid: number; groups: number[]; cwd: string; env: Record<string, string> } {
  return JSON.parse(messages.find((m) => m.type === 'text')!.content.text);
}

describe('runner under unix isolation (real sudo, agor-priv, accounts)', { skip: blocker && !inCi ? blocker : false }, () => {
  if (blocker) {
    it('runs on this machine', () => assert.fail(`the unix suite cannot run: ${blocker}`));
    return;
  }
  const fx = new UnixFixture();
  let releaseLock: (() => void) | undefined;

  before(async () => {
    releaseLock = await acquireUnixSuiteLock('test/unix/runner-modes.test.ts');
    await fx.setupNamespace();
    const installed = fx.install();
    assert.equal(installed.status, 0, `install-unix-isolation.sh failed:\n${installed.stdout}\n${installed.stderr}`);
    fx.prepareApp();
    const src = `${fx.base}/src/proj`;
    fs.mkdirSync(src, { recursive: true, mode: 0o755 });
    const git = (...args: string[]) => {
      const r = spawnSync('git', args, { cwd: src, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: fx.base, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x.invalid' } });
      assert.equal(r.status, 0, r.stderr);
    };
    git('init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(src, 'README.md'), 'hello\n');
    git('add', 'README.md');
    git('commit', '-qm', 'initial');
    spawnSync('chown', ['-R', `${fx.daemonUser}:`, `${fx.base}/src`]);
  });

  after(() => {
    try {
      fx.cleanup();
    } finally {
      releaseLock?.();
    }
  });

  describe('insulated', () => {
    const rig = new Rig(fx, 'insulated');
    let alice: Person;
    let W: { id: string; path: string; unix_group: string };
    before(async () => {
      await rig.start();
      alice = await rig.person('alice', false);
      W = await rig.worktree(alice, 'runner-ins');
    });
    after(() => rig.h?.stop());

    it("runs as the executor user in the worktree's group only, with the creator's credential over the pipe", async () => {
      const value = `ins-${crypto.randomBytes(10).toString('hex')}`;
      await alice.call('POST', 'user-secrets', { name: 'MY_TOKEN', value });
      const { task, messages } = await rig.run(alice, W.id, 'whoami');
      assert.equal(task.status, 'completed', `${task.reason} ${JSON.stringify(messages)} ${rig.h.stderr.join('').slice(-2000)}`);
      const r = report(messages);
      assert.equal(r.user, fx.executorUser);
      assert.equal(r.gid, fx.gid(W.unix_group));
      assert.deepEqual(r.groups, [fx.gid(W.unix_group)]);
      assert.equal(r.cwd, W.path);
      assert.equal(fs.readFileSync(path.join(W.path, 'who.txt'), 'utf8').trim(), fx.executorUser);
      // Beyond the allow-list: the worktree's pinned git locations (run_task) and the credential.
      assert.deepEqual(Object.keys(r.env).filter((n) => !(BASE_ENV_NAMES as readonly string[]).includes(n)).sort(), ['GIT_COMMON_DIR', 'GIT_DIR', 'GIT_WORK_TREE', 'MY_TOKEN']);
      assert.equal(r.env.GIT_WORK_TREE, sha(W.path));
      assert.equal(r.env.MY_TOKEN, sha(value));
      assert.ok(!JSON.stringify(messages).includes(value));
    });

    it('stop travels through sudo and agor-priv: the task ends stopped and nothing it started is left', async () => {
      const session = await alice.call('POST', 'sessions', { worktree_id: W.id, agent: 'sleeper' });
      const task = await alice.call('POST', 'tasks', { session_id: session.id, prompt: 'sleep' });
      const first = await until(async () => (await alice.call('GET', `messages?task_id=${task.id}`)).data[0], 'the agent pid');
      const agentPid = Number(first.content.text);
      const tree = processTree(rig.h.pid).filter((p) => p !== rig.h.pid);
      assert.ok(tree.includes(agentPid), `the agent runs below the daemon (${tree.join(',')})`);
      const stopped = await alice.call('PATCH', `tasks/${task.id}`, { status: 'stopped' });
      assert.equal(stopped.status, 'stopped');
      await until(async () => (tree.some(isAlive) ? undefined : true), 'sudo, agor-priv, the executor and the agent to be gone', 10_000);
    });

    it('git status, add and commit work through the executor as the executor user', async () => {
      checkGitRun(await rig.run(alice, W.id, 'gitter'), fx.executorUser, W.path, rig.h.stderr.join(''));
    });

    it('after stop, no process of the executing identity remains, not even a background job in its own process group', async () => {
      const uid = fx.uid(fx.executorUser);
      assert.deepEqual(processesOf(uid), [], 'nothing runs as the executor user before');
      const session = await alice.call('POST', 'sessions', { worktree_id: W.id, agent: 'backgrounder' });
      const task = await alice.call('POST', 'tasks', { session_id: session.id, prompt: 'sleep in the background' });
      const pids = await until(async () => {
        const texts = (await alice.call('GET', `messages?task_id=${task.id}`)).data.map((m: any) => Number(m.content.text));
        return texts.length === 2 ? texts : undefined;
      }, 'the background pids');
      assert.ok(pids.every(isAlive));
      const stopped = await alice.call('PATCH', `tasks/${task.id}`, { status: 'stopped' });
      assert.equal(stopped.status, 'stopped');
      await until(async () => (processesOf(uid).length === 0 ? true : undefined), `every process of ${fx.executorUser} to end (${processesOf(uid).join(',')})`, 15_000);
      assert.ok(!pids.some(isAlive));
    });
  });

  describe('strict', () => {
    const rig = new Rig(fx, 'strict');
    let alice: Person;
    let bob: Person;
    let carol: Person;
    let S: { id: string; path: string; unix_group: string };
    before(async () => {
      await rig.start();
      alice = await rig.person('alice', true);
      bob = await rig.person('bob', true);
      carol = await rig.person('carol', false);
      S = await rig.worktree(alice, 'runner-strict', 'prompt');
    });
    after(() => rig.h?.stop());

    it("each session runs as its creator's own account, whoever prompts it; two users share one worktree", async () => {
      const a = await rig.run(alice, S.id, 'whoami');
      assert.equal(a.task.status, 'completed', `${a.task.reason} ${rig.h.stderr.join('').slice(-2000)}`);
      assert.equal(report(a.messages).user, alice.unix);
      assert.equal(fs.readFileSync(path.join(S.path, 'who.txt'), 'utf8').trim(), alice.unix);
      const b = await rig.run(bob, S.id, 'whoami');
      assert.equal(b.task.status, 'completed', b.task.reason);
      assert.equal(report(b.messages).user, bob.unix);
      assert.equal(fs.readFileSync(path.join(S.path, 'who.txt'), 'utf8').trim(), bob.unix);
      // Bob prompts Alice's session (tier prompt): it runs as Alice.
      const c = await rig.run(alice, S.id, 'whoami', bob);
      assert.equal(c.task.status, 'completed', c.task.reason);
      assert.deepEqual([c.task.created_by, c.task.executed_as], [bob.id, alice.id]);
      assert.equal(report(c.messages).user, alice.unix);
    });

    it("git status, add and commit work through the executor as each creator's account", async () => {
      checkGitRun(await rig.run(alice, S.id, 'gitter'), alice.unix!, S.path, rig.h.stderr.join(''));
      checkGitRun(await rig.run(bob, S.id, 'gitter'), bob.unix!, S.path, rig.h.stderr.join(''));
    });

    it('a task that completes leaves no background job of its account behind', async () => {
      const uid = fx.uid(alice.unix!);
      const { task, messages } = await rig.run(alice, S.id, 'leaver');
      assert.equal(task.status, 'completed', task.reason);
      const pid = Number(messages.find((m) => m.type === 'text')!.content.text);
      assert.ok(pid > 0);
      await until(async () => (processesOf(uid).length === 0 ? true : undefined), `every process of ${alice.unix} to end (${processesOf(uid).join(',')})`, 15_000);
      assert.ok(!isAlive(pid));
    });

    it('a creator without a Unix account: the task fails, saying why, and nothing runs', async () => {
      const { task, messages } = await rig.run(carol, S.id, 'whoami');
      assert.equal(task.status, 'failed');
      assert.match(task.reason, /Strict mode runs every session as its creator's own Unix account/);
      assert.deepEqual(messages, []);
    });
  });
});
