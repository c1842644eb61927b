// The runner in insulated and strict mode (root only, like the rest of the unix suite): prompts to a
// command agent run through the daemon's runner, sudo and agor-priv as the right identity, get the
// session creator's credentials over the pipe, and stop through sudo.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { isAlive, processTree, unixSuite, type UnixFixture } from './fixture.js';
import { Rig, until, type Person } from './rig.js';
import { processesOf } from '../helpers/proc.js';
import { isBaseEnvName } from '../../daemon/executor/env.js';
import { hostPidOf } from '../helpers/proc.js';

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

class RunnerRig extends Rig {
  constructor(fx: UnixFixture, mode: 'insulated' | 'strict') {
    super(fx, mode, { tag: 'runner', stopGraceSeconds: 2, config: { agents: AGENTS } });
  }

  /** Prompts a new `agent` session of `creator` (as `prompter`) and waits for the task to end. */
  runAgent(creator: Person, worktreeId: string, agent: string, prompter = creator): Promise<{ task: any; messages: any[] }> {
    return this.run(creator, worktreeId, { agent, prompt: 'who are you?', prompter });
  }
}

/** The gitter agent's run: completed, its commit on top, the pinned GIT_DIR used. */
function checkGitRun(run: { task: any; messages: any[] }, user: string, wtPath: string, stderr: string): void {
  const lines = run.messages.filter((m) => m.type === 'text').map((m) => String(m.content.text));
  assert.equal(run.task.status, 'completed', `${run.task.reason}\n${lines.join('\n')}\n${stderr.slice(-2000)}`);
  assert.match(lines[0]!, /^GIT_DIR=\/.+\/worktrees\/[^/]+\/[^/]+\/\.git$/, "the executor received its worktree's own repository");
  assert.ok(lines.some((l) => /^\?\? sub\//.test(l)), lines.join('\n'));
  assert.equal(lines.at(-1), `commit by ${user}`);
  const log = spawnSync('git', ['-c', 'safe.directory=*', '-C', wtPath, 'log', '--format=%an %s', '-1'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent' } });
  assert.equal(log.stdout.trim(), `agent commit by ${user}`, log.stderr);
}

function report(messages: any[]): { user: string; gid: number; groups: number[]; cwd: string; env: Record<string, string> } {
  return JSON.parse(messages.find((m) => m.type === 'text')!.content.text);
}

unixSuite('runner under unix isolation (real sudo, agor-priv, accounts)', (fx) => {
  describe('insulated', () => {
    const rig = new RunnerRig(fx, 'insulated');
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
      const { task, messages } = await rig.runAgent(alice, W.id, 'whoami');
      assert.equal(task.status, 'completed', `${task.reason} ${JSON.stringify(messages)} ${rig.h.stderr.join('').slice(-2000)}`);
      const r = report(messages);
      assert.equal(r.user, fx.executorUser);
      assert.equal(r.gid, fx.gid(W.unix_group));
      assert.deepEqual(r.groups, [fx.gid(W.unix_group)]);
      assert.equal(r.cwd, W.path);
      assert.equal(fs.readFileSync(path.join(W.path, 'who.txt'), 'utf8').trim(), fx.executorUser);
      // Beyond the allow-list: the worktree's pinned git locations (run_task) and the credential.
      assert.deepEqual(Object.keys(r.env).filter((n) => !isBaseEnvName(n)).sort(), ['GIT_COMMON_DIR', 'GIT_DIR', 'GIT_WORK_TREE', 'MY_TOKEN']);
      assert.equal(r.env.GIT_WORK_TREE, sha(W.path));
      assert.equal(r.env.MY_TOKEN, sha(value));
      assert.ok(!JSON.stringify(messages).includes(value));
    });

    it('stop travels through sudo and agor-priv: the task ends stopped and nothing it started is left', async () => {
      const session = await alice.call('POST', 'sessions', { worktree_id: W.id, agent: 'sleeper' });
      const task = await alice.call('POST', 'tasks', { session_id: session.id, prompt: 'sleep' });
      const first = await until(async () => (await alice.call('GET', `messages?task_id=${task.id}`)).data[0], 'the agent pid');
      // It prints its pid inside its sandbox; this is the same process as the host sees it.
      const agentPid = hostPidOf(Number(first.content.text), rig.h.pid)!;
      const tree = processTree(rig.h.pid).filter((p) => p !== rig.h.pid);
      assert.ok(tree.includes(agentPid), `the agent runs below the daemon (${tree.join(',')})`);
      const stopped = await alice.call('PATCH', `tasks/${task.id}`, { status: 'stopped' });
      assert.equal(stopped.status, 'stopped');
      await until(async () => (tree.some(isAlive) ? undefined : true), 'sudo, agor-priv, the executor and the agent to be gone', 10_000);
    });

    it('git status, add and commit work through the executor as the executor user', async () => {
      checkGitRun(await rig.runAgent(alice, W.id, 'gitter'), fx.executorUser, W.path, rig.h.stderr.join(''));
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
      const hostPids = pids.map((p: number) => hostPidOf(p, rig.h.pid)!);
      assert.ok(hostPids.every(isAlive));
      const stopped = await alice.call('PATCH', `tasks/${task.id}`, { status: 'stopped' });
      assert.equal(stopped.status, 'stopped');
      await until(async () => (processesOf(uid).length === 0 ? true : undefined), `every process of ${fx.executorUser} to end (${processesOf(uid).join(',')})`, 15_000);
      assert.ok(!hostPids.some(isAlive));
    });
  });

  describe('strict', () => {
    const rig = new RunnerRig(fx, 'strict');
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
      const a = await rig.runAgent(alice, S.id, 'whoami');
      assert.equal(a.task.status, 'completed', `${a.task.reason} ${rig.h.stderr.join('').slice(-2000)}`);
      assert.equal(report(a.messages).user, alice.unix);
      assert.equal(fs.readFileSync(path.join(S.path, 'who.txt'), 'utf8').trim(), alice.unix);
      const b = await rig.runAgent(bob, S.id, 'whoami');
      assert.equal(b.task.status, 'completed', b.task.reason);
      assert.equal(report(b.messages).user, bob.unix);
      assert.equal(fs.readFileSync(path.join(S.path, 'who.txt'), 'utf8').trim(), bob.unix);
      // Bob prompts Alice's session (tier prompt): it runs as Alice.
      const c = await rig.runAgent(alice, S.id, 'whoami', bob);
      assert.equal(c.task.status, 'completed', c.task.reason);
      assert.deepEqual([c.task.created_by, c.task.executed_as], [bob.id, alice.id]);
      assert.equal(report(c.messages).user, alice.unix);
    });

    it("git status, add and commit work through the executor as each creator's account", async () => {
      checkGitRun(await rig.runAgent(alice, S.id, 'gitter'), alice.unix!, S.path, rig.h.stderr.join(''));
      checkGitRun(await rig.runAgent(bob, S.id, 'gitter'), bob.unix!, S.path, rig.h.stderr.join(''));
    });

    it('a task that completes leaves no background job of its account behind', async () => {
      const uid = fx.uid(alice.unix!);
      const { task, messages } = await rig.runAgent(alice, S.id, 'leaver');
      assert.equal(task.status, 'completed', task.reason);
      const pid = Number(messages.find((m) => m.type === 'text')!.content.text);
      assert.ok(pid > 0);
      // (Its pid is the sandbox's: that nothing of the account is left is what counts.)
      await until(async () => (processesOf(uid).length === 0 ? true : undefined), `every process of ${alice.unix} to end (${processesOf(uid).join(',')})`, 15_000);
    });

    it('a creator without a Unix account: the task fails, saying why, and nothing runs', async () => {
      const { task, messages } = await rig.runAgent(carol, S.id, 'whoami');
      assert.equal(task.status, 'failed');
      assert.match(task.reason, /Strict mode runs every session as its creator's own Unix account/);
      assert.deepEqual(messages, []);
    });
  });
});
