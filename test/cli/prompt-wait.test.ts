// `agor prompt --wait`, `agor session log [--follow]` and `agor task list|stop|cancel`, run as a
// user runs them (child processes, no terminal) against a real daemon whose runner runs command
// agents from its config.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { cleanupTempDirs, createWorktree, ownerActor, quickActor, registerRepo, tempDir, type Actor } from '../helpers/worktree-fixture.js';
import * as pty from 'node-pty';
import { CLI, runCli, startCli } from '../helpers/cli.js';
import { nodeAgent, until, withPrompt } from '../runner/support.js';
import type { PublicSession } from '../../daemon/services/sessions/sessions.shared.js';
import type { PublicTask } from '../../daemon/services/tasks/tasks.shared.js';
import type { PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';

const AGENTS = {
  // The prompt, then five lines 20 ms apart.
  streamer: nodeAgent(withPrompt(`console.log('prompt: '+prompt);let i=0;const t=setInterval(()=>{console.log('line '+i);if(++i===5){clearInterval(t)}},20)`)),
  failer: nodeAgent(`console.log('oops');console.error('bad things');process.exit(3)`),
  // Says it started, then runs until stopped.
  sleeper: nodeAgent(`console.log('sleeping in '+process.pid);setInterval(()=>{},1000)`),
};

let d: TestDaemon;
let alice: Actor;
let worktree: PublicWorktree;
let env: Record<string, string>;

before(async () => {
  d = await startTestDaemon({ execution: { stop_grace_seconds: 1 }, agents: AGENTS }, { runTasks: true });
  const owner = await ownerActor(d);
  alice = await quickActor(d, 'member', 'alice');
  const repo = await registerRepo(owner);
  worktree = await createWorktree(alice, repo.id);
  const { key } = (await alice.rest.service('api-keys').create({ name: 'cli' })) as { key: string };
  const home = tempDir('agor-cli-wait-home-');
  env = { HOME: home, AGOR_HOME: d.home, AGOR_URL: d.url, AGOR_API_KEY: key };
});

after(async () => {
  await d?.stop();
  cleanupTempDirs();
});

async function session(agent: string, title: string): Promise<PublicSession> {
  return (await alice.rest.service('sessions').create({ worktree_id: worktree.id, agent, title })) as PublicSession;
}

async function tasksOf(s: PublicSession): Promise<PublicTask[]> {
  return ((await alice.rest.service('tasks').find({ query: { session_id: s.id } })) as { data: PublicTask[] }).data;
}

const lines = (text: string) => text.split('\n').filter(Boolean);

describe('agor prompt --wait', () => {
  it('streams the output in order and exits 0 when the task completes (session by title)', async () => {
    const s = await session('streamer', 'counting session');
    const r = await runCli(['prompt', 'counting session', 'count please', '--wait'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout), ['prompt: count please', 'line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    assert.match(r.stderr, /completed/);
    const [task] = await tasksOf(s);
    assert.equal(task?.status, 'completed');
  });

  it('prints the output while the task runs, not only at the end', async () => {
    const s = await session('sleeper', 'live output');
    const wait = startCli(['prompt', s.id.slice(0, 8), 'sleep', '--wait'], env);
    await wait.waitFor(/sleeping in \d+/);
    const [task] = await tasksOf(s);
    assert.equal(task?.status, 'running', 'the output arrived while the task was still running');
    await alice.rest.service('tasks').patch(task!.id, { status: 'stopped' });
    const r = await wait.exited;
    assert.equal(r.code, 4, `a stopped task exits 4: ${r.stderr}`);
    assert.match(r.stderr, /stopped: stopped by a user/);
  });

  it('exits 3 when the task fails, with stderr of the agent on stderr', async () => {
    await session('failer', 'failing session');
    const r = await runCli(['prompt', 'failing session', 'go', '--wait'], env);
    assert.equal(r.code, 3, r.stderr);
    assert.deepEqual(lines(r.stdout), ['oops']);
    assert.match(r.stderr, /bad things/);
    assert.match(r.stderr, /failed: /);
  });

  it('exits 4 when someone stops the task with agor task stop (by id prefix)', async () => {
    const s = await session('sleeper', 'to be stopped');
    const wait = startCli(['prompt', s.id, 'sleep', '--wait'], env);
    await wait.waitFor(/sleeping in/);
    const [task] = await tasksOf(s);
    const stop = await runCli(['task', 'stop', task!.id.slice(0, 8), '--json'], env);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal((JSON.parse(stop.stdout) as PublicTask).status, 'stopped');
    const r = await wait.exited;
    assert.equal(r.code, 4, r.stderr);
  });

  it('without a terminal, SIGINT stops waiting (exit 130) and leaves the task running', async () => {
    const s = await session('sleeper', 'detached');
    const wait = startCli(['prompt', s.id, 'sleep', '--wait'], env);
    await wait.waitFor(/sleeping in/);
    wait.signal('SIGINT');
    const r = await wait.exited;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /stopped waiting; task \S+ goes on/);
    const [task] = await tasksOf(s);
    assert.equal(task?.status, 'running', 'detaching did not stop the task');
    await alice.rest.service('tasks').patch(task!.id, { status: 'stopped' });
  });

  it('--json prints one message per line, then the finished task', async () => {
    await session('streamer', 'json session');
    const r = await runCli(['prompt', 'json session', 'j', '--wait', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const objects = lines(r.stdout).map((l) => JSON.parse(l) as { message?: { content: { text: string } }; task?: PublicTask });
    assert.deepEqual(objects.filter((o) => o.message).map((o) => o.message!.content.text), ['prompt: j', 'line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    assert.equal(objects.at(-1)?.task?.status, 'completed');
  });

  it('"-" reads the prompt from stdin', async () => {
    await session('streamer', 'stdin session');
    const r = await runCli(['prompt', 'stdin session', '-', '--wait'], { env, stdin: 'from a pipe\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lines(r.stdout)[0], 'prompt: from a pipe');
  });

  it('the session deleted while its task runs: exit 1 with a sentence, not a wait forever', async () => {
    const s = await session('sleeper', 'deleted while running');
    const wait = startCli(['prompt', s.id, 'sleep', '--wait'], env);
    await wait.waitFor(/sleeping in/);
    await alice.rest.service('sessions').remove(s.id);
    const r = await wait.exited;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /agor: Session "deleted while running" was deleted while its task ran\n$/);
  });

  it('a session that does not exist: exit 1, one sentence, no task anywhere', async () => {
    const before = ((await alice.rest.service('tasks').find({ query: { $limit: 0 } })) as { total: number }).total;
    const r = await runCli(['prompt', 'no such session', 'x', '--wait'], env);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), 'agor: No session "no such session" that you may see');
    assert.equal(((await alice.rest.service('tasks').find({ query: { $limit: 0 } })) as { total: number }).total, before);
  });
});

/** `agor args` on a pseudo-terminal, as a person at a terminal runs it. */
function onTerminal(args: string[]) {
  const term = pty.spawn(process.execPath, [CLI, ...args], { env: { ...env, PATH: process.env.PATH ?? '/usr/bin:/bin' }, cols: 200, rows: 40 });
  let output = '';
  term.onData((d) => (output += d));
  const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
  const waitFor = (pattern: RegExp) => until(() => pattern.test(output), `${pattern} on the terminal; so far: ${JSON.stringify(output)}`, 30_000);
  return { term, exited, waitFor, output: () => output };
}

describe('agor prompt --wait on a terminal: Ctrl-C asks', () => {
  it('answering y stops the task (exit 4)', async () => {
    const s = await session('sleeper', 'tty stop');
    const run = onTerminal(['prompt', s.id, 'sleep', '--wait']);
    await run.waitFor(/sleeping in/);
    run.term.write('\x03');
    await run.waitFor(/Stop the task\? \[y\] stop it/);
    run.term.write('y\r');
    assert.equal(await run.exited, 4, run.output());
    const [task] = await tasksOf(s);
    assert.equal(task?.status, 'stopped');
  });

  it('answering n keeps waiting; d detaches (exit 130) and the task goes on', async () => {
    const s = await session('sleeper', 'tty detach');
    const run = onTerminal(['prompt', s.id, 'sleep', '--wait']);
    await run.waitFor(/sleeping in/);
    run.term.write('\x03');
    await run.waitFor(/Stop the task\?/);
    run.term.write('n\r');
    await run.waitFor(/Still waiting/);
    run.term.write('\x03');
    await until(() => run.output().split('Stop the task?').length === 3, 'asked a second time: still waiting after "n"');
    const [running] = await tasksOf(s);
    assert.equal(running?.status, 'running', '"n" left the task alone');
    run.term.write('d\r');
    assert.equal(await run.exited, 130, run.output());
    const [task] = await tasksOf(s);
    assert.equal(task?.status, 'running', 'detaching did not stop the task');
    await alice.rest.service('tasks').patch(task!.id, { status: 'stopped' });
  });
});

describe('agor session log', () => {
  it('prints each prompt with who sent it, the output and the outcome; --json one object per line', async () => {
    const s = await session('streamer', 'logged');
    assert.equal((await runCli(['prompt', s.id, 'first', '--wait'], env)).code, 0);
    const r = await runCli(['session', 'log', 'logged'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout).map((l) => l.replace(/^── \S+ /, '── ')), [
      `── ${alice.email}: first`,
      'prompt: first',
      'line 0',
      'line 1',
      'line 2',
      'line 3',
      'line 4',
      '── completed',
    ]);
    const json = await runCli(['session', 'log', s.id, '--json'], env);
    const objects = lines(json.stdout).map((l) => JSON.parse(l) as { message?: unknown; task?: PublicTask });
    assert.equal(objects.length, 6 + 2);
    assert.equal(objects[0]!.task?.prompt, 'first');
    assert.equal(objects.at(-1)!.task?.status, 'completed');
  });

  it('--follow prints the history, then output produced after it started, until SIGINT (exit 0)', async () => {
    const s = await session('streamer', 'followed');
    assert.equal((await runCli(['prompt', s.id, 'before', '--wait'], env)).code, 0);
    const follow = startCli(['session', 'log', s.id, '--follow'], env);
    await follow.waitFor(/── completed/);
    assert.ok(!follow.stdout().includes('after'), 'nothing from the later prompt yet');
    await alice.rest.service('tasks').create({ session_id: s.id, prompt: 'after' });
    await follow.waitFor(/prompt: after[\s\S]*line 4\n── completed\n$/);
    follow.signal('SIGINT');
    const r = await follow.exited;
    assert.equal(r.code, 0, r.stderr);
    const out = lines(r.stdout).map((l) => l.replace(/^── \S+ /, '── '));
    const second = out.indexOf(`── ${alice.email}: after`);
    assert.ok(second > out.indexOf('prompt: before'), 'the new task comes after the history');
    assert.deepEqual(out.slice(second), [`── ${alice.email}: after`, 'prompt: after', 'line 0', 'line 1', 'line 2', 'line 3', 'line 4', '── completed']);
    assert.equal(out.filter((l) => l === 'prompt: before').length, 1, 'history printed once');
  });
});

describe('agor session log --follow across a dropped connection', () => {
  it('reconnects and prints what came meanwhile, once and in order', async () => {
    const s = await session('streamer', 'dropped');
    assert.equal((await runCli(['prompt', s.id, 'one', '--wait'], env)).code, 0);
    const io = (d.app as unknown as { io: { sockets: { sockets: Map<string, { conn: { close(): void } }> } } }).io.sockets.sockets;
    const earlier = new Set(io.keys());
    const follow = startCli(['session', 'log', s.id, '--follow'], env);
    await follow.waitFor(/── completed/);
    const mine = [...io.entries()].filter(([id]) => !earlier.has(id));
    assert.equal(mine.length, 1, 'the follower has one connection');
    mine[0]![1].conn.close(); // a transport drop: the client reconnects by itself
    const task = (await alice.rest.service('tasks').create({ session_id: s.id, prompt: 'two' })) as PublicTask;
    await until(async () => ((await alice.rest.service('tasks').get(task.id)) as PublicTask).status === 'completed', 'second task done');
    await follow.waitFor(/prompt: two[\s\S]*line 4\n── completed\n$/);
    follow.signal('SIGINT');
    const r = await follow.exited;
    assert.equal(r.code, 0, r.stderr);
    const out = lines(r.stdout).map((l) => l.replace(/^── \S+ /, '── '));
    const second = out.indexOf(`── ${alice.email}: two`);
    assert.deepEqual(out.slice(second), [`── ${alice.email}: two`, 'prompt: two', 'line 0', 'line 1', 'line 2', 'line 3', 'line 4', '── completed']);
    assert.equal(out.filter((l) => l === 'prompt: one').length, 1, 'history not printed again');
  });
});

describe('agor session log --follow, when the session goes', () => {
  it('ends with exit 1 and a sentence once the session is deleted', async () => {
    const s = await session('streamer', 'short-lived log');
    assert.equal((await runCli(['prompt', s.id, 'hi', '--wait'], env)).code, 0);
    const follow = startCli(['session', 'log', s.id, '--follow'], env);
    await follow.waitFor(/── completed/);
    await alice.rest.service('sessions').remove(s.id);
    const r = await follow.exited;
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'agor: Session "short-lived log" was deleted\n');
  });
});

describe('agor task', () => {
  it('list shows status and creator; cancel takes a queued task, refuses a running one', async () => {
    const s = await session('sleeper', 'queue');
    const running = (await alice.rest.service('tasks').create({ session_id: s.id, prompt: 'one' })) as PublicTask;
    const queued = (await alice.rest.service('tasks').create({ session_id: s.id, prompt: 'two' })) as PublicTask;
    await until(async () => ((await alice.rest.service('tasks').get(running.id)) as PublicTask).status === 'running', 'first task running');

    const list = await runCli(['task', 'list', '--session', 'queue'], env);
    assert.equal(list.code, 0, list.stderr);
    const [header, ...rows] = lines(list.stdout);
    assert.match(header!, /^ID\s+SESSION_ID\s+STATUS\s+CREATOR\s+CREATED_AT\s+PROMPT$/);
    assert.deepEqual(rows.map((r) => r.split(/\s+/).slice(2, 4)), [
      ['running', alice.email],
      ['queued', alice.email],
    ]);

    const refused = await runCli(['task', 'cancel', running.id], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already running: stop it with agor task stop/);
    assert.equal(((await alice.rest.service('tasks').get(running.id)) as PublicTask).status, 'running', 'refused: nothing changed');

    const cancelled = await runCli(['task', 'cancel', queued.id.slice(0, 6), '--json'], env);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal((JSON.parse(cancelled.stdout) as PublicTask).reason, 'cancelled before it ran');

    const sessions = await runCli(['session', 'list', '--worktree', worktree.name], env);
    assert.match(sessions.stdout.split('\n').find((l) => l.includes(' queue '))!, /\brunning\b.*alice/);

    assert.equal((await runCli(['task', 'stop', running.id], env)).code, 0);
    const again = await runCli(['task', 'stop', running.id], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^agor: Task \S+ is already stopped\n$/);
  });
});
