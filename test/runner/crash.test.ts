// The daemon killed with SIGKILL mid-task (the CLI's foreground daemon, as a service manager runs
// it): no executor or agent outlives it, and the next start marks the task failed / interrupted
// and runs what was still queued.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { CLI, runCli } from '../helpers/cli.js';
import { cleanupTempDirs, makeRepo, tempDir } from '../helpers/worktree-fixture.js';
import { openDatabase } from '../../daemon/db/database.js';
import { alive, childrenOf, hostPidOf, nodeAgent, until } from './support.js';
import { cmdline } from '../helpers/proc.js';

const EMAIL = 'crash@test.local';
const PASSWORD = 'crash-password-1';
let base: string;
let env: Record<string, string>;
const started: ChildProcessWithoutNullStreams[] = [];

before(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-runner-crash-'));
  const home = path.join(base, 'agor');
  fs.mkdirSync(path.join(base, 'home'));
  fs.mkdirSync(home, { mode: 0o700 });
  const config = {
    daemon: { host: '127.0.0.1', port: 0 },
    execution: { stop_grace_seconds: 1 },
    agents: { sleeper: nodeAgent(`console.log('pid '+process.pid);setInterval(()=>{},1000)`) },
  };
  fs.writeFileSync(path.join(home, 'config.yaml'), stringify(config), { mode: 0o600 });
  env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: path.join(base, 'home'), AGOR_HOME: home };
  const init = await runCli(['init', '--email', EMAIL, '--password-stdin'], { env, stdin: PASSWORD });
  assert.equal(init.code, 0, init.stderr);
});

after(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  fs.rmSync(base, { recursive: true, force: true });
  cleanupTempDirs();
});

async function startDaemon(): Promise<{ child: ChildProcessWithoutNullStreams; url: string; output: () => string }> {
  const child = spawn(process.execPath, [CLI, 'daemon', 'start', '--foreground'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  started.push(child);
  child.stdin.end();
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const url = await until(() => {
    if (child.exitCode !== null) throw new Error(`the daemon exited: ${out}`);
    return /listening on (http:\/\/\S+)/.exec(out)?.[1];
  }, 'the daemon URL', 20_000);
  return { child, url, output: () => out };
}

function client(url: string, token?: string) {
  return async <T = any>(method: string, route: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
}

async function login(url: string) {
  const { accessToken } = await client(url)<{ accessToken: string }>('POST', '/authentication', { strategy: 'local', email: EMAIL, password: PASSWORD });
  return client(url, accessToken);
}

describe('daemon killed with SIGKILL mid-task', () => {
  it('leaves no executor or agent behind; the restart marks the task interrupted and runs the queued one', async () => {
    const first = await startDaemon();
    let api = await login(first.url);
    const repo = await api('POST', '/repos', { path: makeRepo(`${tempDir('agor-crash-repo-')}/project`) });
    const worktree = await api('POST', '/worktrees', { repo_id: repo.id, name: 'crash' });
    const session = await api('POST', '/sessions', { worktree_id: worktree.id, agent: 'sleeper' });
    const running = await api('POST', '/tasks', { session_id: session.id, prompt: 'run' });
    const queued = await api('POST', '/tasks', { session_id: session.id, prompt: 'later' });
    const message = await until(async () => (await api('GET', `/messages?task_id=${running.id}`)).data[0], 'the agent pid');
    const executors = childrenOf(first.child.pid!).filter((pid) => cmdline(pid).includes('agor-executor'));
    assert.equal(executors.length, 1, 'one executor (its sandbox), a child of the daemon');
    const executorPid = executors[0]!;
    const agentPid = hostPidOf(Number(message.content.text.split(' ')[1]), executorPid);
    assert.ok(alive(agentPid) && alive(executorPid));

    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    await until(() => !alive(executorPid) && !alive(agentPid), 'the executor and its agent to exit (stdin closed)', 10_000);

    const second = await startDaemon();
    api = await login(second.url);
    const interrupted = await api('GET', `/tasks/${running.id}`);
    assert.equal(interrupted.status, 'failed');
    assert.equal(interrupted.reason, 'interrupted');
    assert.ok(interrupted.finished_at);
    assert.match(second.output(), /1 task\(s\) left running by a previous daemon are marked failed \(interrupted\)/);
    // What was queued runs after the restart.
    await until(async () => (await api('GET', `/tasks/${queued.id}`)).status === 'running', 'the queued task to run');
    const again = await until(async () => (await api('GET', `/messages?task_id=${queued.id}`)).data[0], 'the second agent pid');
    const executor2 = childrenOf(second.child.pid!).find((pid) => cmdline(pid).includes('agor-executor'))!;
    const agent2 = hostPidOf(Number(again.content.text.split(' ')[1]), executor2);
    assert.ok(alive(agent2) && alive(executor2));

    // A clean shutdown (SIGTERM) stops running tasks too; they end failed / interrupted.
    second.child.kill('SIGTERM');
    const code = await new Promise((r) => second.child.once('exit', r));
    assert.equal(code, 0, second.output());
    assert.ok(!alive(agent2) && !alive(executor2), 'nothing left running');
    const db = await openDatabase(path.join(env.AGOR_HOME!, 'agor.db'));
    try {
      const row = await db('tasks').where('id', queued.id).first();
      assert.deepEqual([row.status, row.reason], ['failed', 'interrupted']);
    } finally {
      await db.destroy();
    }
  });
});
