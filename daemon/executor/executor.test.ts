import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../version.js';
import { BASE_ENV_NAMES } from './env.js';
import { alive } from '../../test/helpers/proc.js';

const BUNDLE = path.join(packageRoot(), 'dist', 'executor', 'agor-executor.mjs');
const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-executor-test-'));
after(() => fs.rmSync(cwd, { recursive: true, force: true }));

interface Line {
  jsonrpc: '2.0';
  id?: number | string | null;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string };
}

/** The real executor bundle on pipes, and the test as its "daemon". */
function startExecutor(env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: os.homedir(), LANG: 'C.UTF-8' }) {
  const child = spawn(process.execPath, [BUNDLE], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] }) as ChildProcessWithoutNullStreams;
  const lines: Line[] = [];
  let stderr = '';
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const send = (value: unknown) => child.stdin.write((typeof value === 'string' ? value : JSON.stringify(value)) + '\n');
  const waitFor = async <T>(pick: () => T | undefined, what: string, ms = 10_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = pick();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stdout: ${JSON.stringify(lines)}; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const method = (m: string) => lines.filter((l) => l.method === m);
  return { child, lines, send, waitFor, exited, method, stderr: () => stderr };
}

let taskCounter = 0;
function runTask(command: string[], extra: Record<string, unknown> = {}, env: string[] = []) {
  taskCounter += 1;
  return {
    jsonrpc: '2.0',
    id: 1,
    method: 'run_task',
    params: { task_id: `task-${taskCounter}`, session_id: 's', cwd, agent: 'command', prompt: 'the prompt', resume: null, options: { command, env }, stop_grace_ms: 1000, ...extra },
  };
}

const node = (script: string) => [process.execPath, '-e', script];

describe('agor-executor (the bundle)', () => {
  it('says ready, streams stdout lines in order, reports exit status and the resume handle, exits', async () => {
    const ex = startExecutor();
    await ex.waitFor(() => ex.method('ready')[0], 'ready');
    ex.send(runTask(node(`let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{console.log('got:'+s.trim());for(let i=0;i<5;i++)console.log('line '+i);console.error('warning');console.log('AGOR_RESUME:conv-42');process.exit(2)})`)));
    const done = await ex.waitFor(() => ex.method('done')[0], 'done');
    assert.equal(await ex.exited, 0);
    assert.deepEqual(ex.lines.find((l) => l.id === 1)?.result, { accepted: true });
    const texts = ex.method('message').map((m) => m.params.message).filter((m) => m.type === 'text' && !m.content.stream).map((m) => m.content.text);
    assert.deepEqual(texts, ['got:the prompt', 'line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    assert.ok(ex.method('message').some((m) => m.params.message.content.stream === 'stderr' && m.params.message.content.text === 'warning'));
    assert.ok(ex.method('message').some((m) => m.params.message.type === 'error' && /exited with code 2/.test(m.params.message.content.message)));
    assert.equal(done.params.status, 'failed');
    assert.equal(done.params.resume, 'conv-42');
    assert.ok(!ex.method('message').some((m) => JSON.stringify(m).includes('AGOR_RESUME')), 'the resume line is not shown');
  });

  it('gives the agent only allow-listed variables plus the credentials it declared, asked for over the pipe', async () => {
    const ex = startExecutor({ PATH: process.env.PATH, HOME: os.homedir(), LANG: 'C.UTF-8', TERM: 'xterm', DAEMON_ONLY: 'leak', AGOR_MASTER_SECRET: 'leak', NODE_OPTIONS: '' });
    await ex.waitFor(() => ex.method('ready')[0], 'ready');
    ex.send(runTask(node('console.log(JSON.stringify(Object.keys(process.env).sort()))'), { resume: 'r-1' }, ['MY_TOKEN', 'OTHER_TOKEN']));
    const ask = await ex.waitFor(() => ex.method('get_credentials')[0], 'get_credentials');
    assert.deepEqual(ask.params, { names: ['MY_TOKEN', 'OTHER_TOKEN'] });
    // The daemon answers only what the user has: OTHER_TOKEN is absent.
    ex.send({ jsonrpc: '2.0', id: ask.id, result: { credentials: { MY_TOKEN: 'tok-value' } } });
    await ex.waitFor(() => ex.method('done')[0], 'done');
    const names = JSON.parse(ex.method('message')[0]!.params.message.content.text) as string[];
    const allowed = new Set<string>([...BASE_ENV_NAMES, 'MY_TOKEN', 'AGOR_RESUME']);
    assert.deepEqual(names.filter((n) => !allowed.has(n)), [], `unexpected variables: ${names}`);
    assert.ok(names.includes('MY_TOKEN') && names.includes('AGOR_RESUME') && names.includes('PATH'));
  });

  it("run_task's pinned git locations join the agent's environment; a malformed one refuses the task", async () => {
    const git = { GIT_DIR: `${cwd}/.git/worktrees/w`, GIT_COMMON_DIR: `${cwd}/.git`, GIT_WORK_TREE: cwd };
    const ex = startExecutor();
    await ex.waitFor(() => ex.method('ready')[0], 'ready');
    ex.send(runTask(node('const e=process.env;console.log(JSON.stringify([e.GIT_DIR,e.GIT_COMMON_DIR,e.GIT_WORK_TREE]))'), { git_env: git }));
    await ex.waitFor(() => ex.method('done')[0], 'done');
    assert.deepEqual(JSON.parse(ex.method('message')[0]!.params.message.content.text), [git.GIT_DIR, git.GIT_COMMON_DIR, git.GIT_WORK_TREE]);

    for (const bad of [{ ...git, GIT_DIR: 'relative' }, { ...git, GIT_CONFIG_GLOBAL: '/tmp/x' }, { GIT_DIR: git.GIT_DIR }]) {
      const ex2 = startExecutor();
      await ex2.waitFor(() => ex2.method('ready')[0], 'ready');
      ex2.send(runTask(node('console.log("ran")'), { git_env: bad }));
      const answer = await ex2.waitFor(() => ex2.lines.find((l) => l.id === 1), 'the run_task answer');
      assert.ok(answer.error, `refused: ${JSON.stringify(bad)}`);
      assert.equal(ex2.method('message').length, 0);
      ex2.child.stdin.end();
      await ex2.exited;
    }
  });

  it('answers malformed, oversized and wrong-typed lines with errors and still runs its task; refuses a second task', async () => {
    const ex = startExecutor();
    await ex.waitFor(() => ex.method('ready')[0], 'ready');
    ex.send('this is not json');
    ex.send('x'.repeat(2 * 1024 * 1024));
    ex.send({ jsonrpc: '2.0', id: 'a', method: 'run_task', params: { task_id: 1 } });
    ex.send({ jsonrpc: '2.0', id: 'b', method: 'format_disk', params: {} });
    ex.send({ jsonrpc: '2.0', id: 'c', method: 'run_task', params: { ...runTask(['/bin/true']).params, cwd: 'relative/path' } });
    ex.send({ jsonrpc: '2.0', method: 'stop', params: { reason: 42 } });
    await ex.waitFor(() => (ex.lines.filter((l) => l.error).length >= 5 ? true : undefined), 'five errors');
    // The notification with bad params is logged, not answered (notifications never are).
    assert.deepEqual(
      ex.lines.filter((l) => l.error).map((e) => [e.id, e.error!.code]),
      [
        [null, -32700],
        [null, -32600],
        ['a', -32602],
        ['b', -32601],
        ['c', -32602],
      ],
    );
    ex.send(runTask(node('console.log("fine")')));
    ex.send({ ...runTask(['/bin/true']), id: 2 });
    await ex.waitFor(() => ex.method('done')[0], 'done');
    assert.equal(ex.method('done')[0]!.params.status, 'completed');
    assert.equal(ex.lines.find((l) => l.id === 2)?.error?.code, -32000);
    assert.equal(await ex.exited, 0);
    assert.match(ex.stderr(), /unparseable line/);
  });

  it('stop: the agent gets SIGTERM; one that ignores it is killed after the grace period, with its children', async () => {
    const ex = startExecutor();
    await ex.waitFor(() => ex.method('ready')[0], 'ready');
    // Ignores SIGTERM and starts a grandchild in its process group.
    const script = `process.on('SIGTERM',()=>{});const c=require('child_process').spawn(process.execPath,['-e','setInterval(()=>{},1000)'],{stdio:'ignore'});console.log(process.pid+' '+c.pid);setInterval(()=>{},1000)`;
    ex.send(runTask(node(script), { stop_grace_ms: 300 }));
    const first = await ex.waitFor(() => ex.method('message')[0], 'pids');
    const pids = (first.params.message.content.text as string).split(' ').map(Number);
    assert.ok(pids.every(alive));
    const t0 = Date.now();
    ex.send({ jsonrpc: '2.0', method: 'stop', params: { reason: 'test' } });
    const done = await ex.waitFor(() => ex.method('done')[0], 'done');
    assert.equal(done.params.status, 'stopped');
    assert.ok(Date.now() - t0 >= 250, 'waited for the grace period');
    assert.equal(await ex.exited, 0);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(pids.filter(alive), [], 'agent and grandchild are gone');
  });

  it('a well-behaved agent stops at once; SIGTERM to the executor is a stop', async () => {
    const ex = startExecutor();
    await ex.waitFor(() => ex.method('ready')[0], 'ready');
    ex.send(runTask(node(`console.log(process.pid);setInterval(()=>{},1000)`), { stop_grace_ms: 10_000 }));
    const pid = Number((await ex.waitFor(() => ex.method('message')[0], 'pid')).params.message.content.text);
    const t0 = Date.now();
    ex.child.kill('SIGTERM');
    const done = await ex.waitFor(() => ex.method('done')[0], 'done');
    assert.equal(done.params.status, 'stopped');
    assert.ok(Date.now() - t0 < 5000);
    await ex.exited;
    assert.equal(alive(pid), false);
  });

  it('exits, killing its agent, when its input closes (the daemon died)', async () => {
    const ex = startExecutor();
    await ex.waitFor(() => ex.method('ready')[0], 'ready');
    ex.send(runTask(node(`process.on('SIGTERM',()=>{});console.log(process.pid);setInterval(()=>{},1000)`)));
    const pid = Number((await ex.waitFor(() => ex.method('message')[0], 'pid')).params.message.content.text);
    ex.child.stdin.end();
    assert.equal(await ex.exited, 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(pid), false);
  });

  it('a command that cannot start fails the task with a clear error', async () => {
    const ex = startExecutor();
    await ex.waitFor(() => ex.method('ready')[0], 'ready');
    ex.send(runTask(['/nonexistent/agent-cli']));
    const done = await ex.waitFor(() => ex.method('done')[0], 'done');
    assert.equal(done.params.status, 'failed');
    assert.match(done.params.error, /cannot start \/nonexistent\/agent-cli: ENOENT/);
  });
});

describe('executor imports', () => {
  it('executor and protocol sources import only each other, node: built-ins, zod and agent SDKs', () => {
    const root = path.join(packageRoot(), 'daemon');
    const allowedDirs = [path.join(root, 'executor'), path.join(root, 'protocol')];
    const allowedPackages = /^(node:|zod$|@anthropic-ai\/|@openai\/|@google\/)/;
    const files = allowedDirs.flatMap((dir) =>
      (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => path.join(dir, f)),
    );
    assert.ok(files.length >= 8);
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      for (const match of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        const spec = match[1]!;
        if (spec.startsWith('.')) {
          const target = path.resolve(path.dirname(file), spec);
          assert.ok(allowedDirs.some((d) => target.startsWith(d + path.sep)), `${path.relative(root, file)} imports ${spec}`);
        } else {
          assert.match(spec, allowedPackages, `${path.relative(root, file)} imports ${spec}`);
        }
      }
    }
  });
});
