// The runner end to end through a real daemon: command agents from config, real executors through
// the spawn path (simple mode), official Feathers clients over REST and Socket.IO.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { cleanupTempDirs, createWorktree, findAll, newActor, ownerActor, registerRepo, type Actor } from '../helpers/worktree-fixture.js';
import { dbFiles, valuesFoundIn } from '../helpers/secrets.js';
import { isBaseEnvName } from '../../daemon/executor/env.js';
import type { PublicSession } from '../../daemon/services/sessions/sessions.shared.js';
import type { PublicTask } from '../../daemon/services/tasks/tasks.shared.js';
import type { PublicMessage } from '../../daemon/services/messages/messages.shared.js';
import type { PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';
import { alive, allCmdlines, environNames, hostPidOf, nodeAgent, until, withPrompt } from './support.js';

const sha = (v: string) => crypto.createHash('sha256').update(v).digest('hex');

const AGENTS = {
  // Streams: the prompt, then five lines 20 ms apart.
  streamer: nodeAgent(withPrompt(`console.log('prompt: '+prompt);let i=0;const t=setInterval(()=>{console.log('line '+i);if(++i===5){clearInterval(t)}},20)`)),
  failer: nodeAgent(`console.log('oops');console.error('bad things');process.exit(3)`),
  // Prints its pid, then runs until stopped.
  sleeper: nodeAgent(`console.log('pid '+process.pid);setInterval(()=>{},1000)`),
  // 'start <prompt>', 150 ms, 'end <prompt>'.
  slow: nodeAgent(withPrompt(`console.log('start '+prompt);setTimeout(()=>console.log('end '+prompt),150)`)),
  resumer: nodeAgent(withPrompt(`console.log('resume-in: '+(process.env.AGOR_RESUME||'none'));console.log('AGOR_RESUME:after-'+prompt)`)),
  // Names of its environment and a hash of each value (never a value), then lingers for a /proc scan.
  envdump: {
    ...nodeAgent(
      `const c=require('crypto');const e={};for(const[k,v]of Object.entries(process.env))e[k]=c.createHash('sha256').update(v).digest('hex');console.log(JSON.stringify(e));console.log('pid '+process.pid);setTimeout(()=>{},1500)`,
    ),
    env: ['MY_TOKEN', 'OTHER_TOKEN'],
  },
};

let d: TestDaemon;
let owner: Actor;
let alice: Actor; // creates the sessions
let bob: Actor; // no view on alice's private worktree
let carol: Actor; // may prompt alice's sessions in the shared worktree
let wtPrivate: PublicWorktree;
let wtShared: PublicWorktree;

before(async () => {
  d = await startTestDaemon(
    { execution: { worktree_rbac: true, stop_grace_seconds: 1, max_concurrent_tasks: 3, max_tasks_per_user: 1 }, agents: AGENTS },
    { runTasks: true },
  );
  owner = await ownerActor(d);
  [alice, bob, carol] = await Promise.all([newActor(d, 'member', 'alice'), newActor(d, 'member', 'bob'), newActor(d, 'member', 'carol')]);
  const repo = await registerRepo(owner);
  wtPrivate = await createWorktree(alice, repo.id, { others_can: 'none' });
  wtShared = await createWorktree(alice, repo.id, { others_can: 'prompt' });
});

after(async () => {
  await d?.stop();
  cleanupTempDirs();
});

async function session(actor: Actor, worktree: PublicWorktree, agent: string): Promise<PublicSession> {
  return (await actor.rest.service('sessions').create({ worktree_id: worktree.id, agent })) as PublicSession;
}

async function prompt(actor: Actor, s: PublicSession, text = 'hello'): Promise<PublicTask> {
  return (await actor.rest.service('tasks').create({ session_id: s.id, prompt: text })) as PublicTask;
}

async function settled(actor: Actor, taskId: string, ms = 15_000): Promise<PublicTask> {
  return until(async () => {
    const t = (await actor.rest.service('tasks').get(taskId)) as PublicTask;
    return ['completed', 'failed', 'stopped'].includes(t.status) ? t : undefined;
  }, `task ${taskId} to finish`, ms);
}

async function messagesOf(actor: Actor, taskId: string): Promise<PublicMessage[]> {
  return findAll<PublicMessage>(actor.rest, 'messages', { task_id: taskId });
}

const texts = (messages: PublicMessage[]) => messages.filter((m) => m.type === 'text').map((m) => (m.content as { text: string }).text);

/** Events about `worktreeId` a socket received since `from`. */
function eventsAbout(actor: Actor, worktreeId: string, from = 0) {
  return actor.socket.events.slice(from).filter((e) => JSON.stringify(e.args).includes(worktreeId));
}

describe('runner: command agents', () => {
  it('streams output in order, persisted and published to the worktree channel only', async () => {
    const marks = [alice, bob, owner, carol].map((a) => a.socket.events.length);
    const s = await session(alice, wtPrivate, 'streamer');
    const t = await prompt(alice, s, 'count please');
    const done = await settled(alice, t.id);
    assert.equal(done.status, 'completed', done.reason ?? '');
    assert.equal(done.reason, null);
    assert.ok(done.started_at && done.finished_at && done.started_at <= done.finished_at);
    const stored = await messagesOf(alice, t.id);
    assert.deepEqual(texts(stored), ['prompt: count please', 'line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    assert.deepEqual(stored.map((m) => m.id), [...stored.map((m) => m.id)].sort((a, b) => a - b));

    // Alice's socket: the same messages, in order, and the task's transitions in order.
    await until(() => alice.socket.events.filter((e) => e.event === 'messages created' && (e.args[0] as PublicMessage).task_id === t.id).length === stored.length, 'socket messages');
    const live = alice.socket.events.filter((e) => e.event === 'messages created' && (e.args[0] as PublicMessage).task_id === t.id).map((e) => e.args[0] as PublicMessage);
    assert.deepEqual(live.map((m) => m.id), stored.map((m) => m.id));
    await until(() => alice.socket.events.some((e) => e.event === 'tasks patched' && (e.args[0] as PublicTask).id === t.id && (e.args[0] as PublicTask).status === 'completed'), 'completed event');
    const statuses = alice.socket.events.filter((e) => (e.event === 'tasks patched' || e.event === 'tasks created') && (e.args[0] as PublicTask).id === t.id).map((e) => (e.args[0] as PublicTask).status);
    assert.deepEqual(statuses, ['queued', 'running', 'completed']);
    // Nobody without view on the worktree heard anything about it: not bob, not the owner (no implicit access), not carol.
    await d.barrier([bob, owner, carol].map((a) => a.socket));
    for (const [i, actor] of [bob, owner, carol].entries()) assert.deepEqual(eventsAbout(actor, wtPrivate.id, marks[i + 1]), [], `${actor.email} heard nothing`);
    assert.equal(((await bob.rest.service('messages').find({ query: { task_id: t.id } })) as { total: number }).total, 0);
  });

  it('a non-zero exit fails the task, with its output and an error message kept', async () => {
    const s = await session(alice, wtPrivate, 'failer');
    const t = await prompt(alice, s);
    const done = await settled(alice, t.id);
    assert.equal(done.status, 'failed');
    assert.match(done.reason ?? '', /exited with code 3/);
    const stored = await messagesOf(alice, t.id);
    assert.deepEqual(texts(stored), ['oops', 'bad things']);
    assert.deepEqual(stored.find((m) => m.type === 'text' && (m.content as { stream?: string }).stream === 'stderr')?.content, { text: 'bad things', stream: 'stderr' });
    assert.match((stored.find((m) => m.type === 'error')?.content as { message: string }).message, /exited with code 3/);
  });

  it('stop mid-run: the task ends stopped, and its executor and agent are gone when the patch answers', async () => {
    const s = await session(alice, wtPrivate, 'sleeper');
    const t = await prompt(alice, s);
    const first = await until(async () => (await messagesOf(alice, t.id))[0], 'the agent pid');
    // The executor's pid is its sandbox's outside (bwrap); the agent prints its pid inside the sandbox.
    const executorPid = d.app.get('runner').executorPid(t.id)!;
    const agentPid = hostPidOf(Number((first.content as { text: string }).text.split(' ')[1]), executorPid);
    assert.ok(alive(agentPid) && alive(executorPid), 'both running');
    const stopped = (await alice.rest.service('tasks').patch(t.id, { status: 'stopped' })) as PublicTask;
    assert.equal(stopped.status, 'stopped');
    assert.equal(stopped.reason, 'stopped by a user');
    assert.equal(alive(agentPid), false, 'the agent is gone');
    assert.equal(alive(executorPid), false, 'the executor is gone');
    await new Promise((r) => setTimeout(r, 200));
    const after = (await alice.rest.service('tasks').get(t.id)) as PublicTask;
    assert.equal(after.status, 'stopped', 'stays stopped');
  });

  it('a queue of three prompts runs in order, one at a time; a queued one can be cancelled', async () => {
    const s = await session(alice, wtPrivate, 'slow');
    const [t1, t2, t3, t4] = [await prompt(alice, s, 'one'), await prompt(alice, s, 'two'), await prompt(alice, s, 'three'), await prompt(alice, s, 'four')];
    const cancelled = (await alice.rest.service('tasks').patch(t3.id, { status: 'stopped' })) as PublicTask;
    assert.equal(cancelled.status, 'stopped');
    assert.equal(cancelled.reason, 'cancelled before it ran');
    const done = [await settled(alice, t1.id), await settled(alice, t2.id), await settled(alice, t4.id)];
    assert.deepEqual(done.map((t) => t.status), ['completed', 'completed', 'completed']);
    for (let i = 1; i < done.length; i++) assert.ok(done[i - 1]!.finished_at! <= done[i]!.started_at!, `task ${i} started after task ${i - 1} finished`);
    const c = (await alice.rest.service('tasks').get(t3.id)) as PublicTask;
    assert.equal(c.status, 'stopped');
    assert.equal(c.started_at, null, 'never started');
    assert.deepEqual(await messagesOf(alice, t3.id), []);
    const all = await findAll<PublicMessage>(alice.rest, 'messages', { session_id: s.id });
    assert.deepEqual(texts(all), ['start one', 'end one', 'start two', 'end two', 'start four', 'end four']);
  });

  it('a follow-up prompt receives the resume handle the previous task returned', async () => {
    const s = await session(alice, wtPrivate, 'resumer');
    const t1 = await prompt(alice, s, 'first');
    assert.equal((await settled(alice, t1.id)).status, 'completed');
    const t2 = await prompt(alice, s, 'second');
    assert.equal((await settled(alice, t2.id)).status, 'completed');
    assert.deepEqual(texts(await messagesOf(alice, t1.id)), ['resume-in: none']);
    assert.deepEqual(texts(await messagesOf(alice, t2.id)), ['resume-in: after-first']);
    const row = await d.app.get('db')('sessions').where('id', s.id).first('resume_handle');
    assert.equal(row.resume_handle, 'after-second');
    const publicSession = (await alice.rest.service('sessions').get(s.id)) as Record<string, unknown>;
    assert.equal('resume_handle' in publicSession, false, 'the handle is not part of the public record');
  });

  it('limits: one running task per prompting user (max_tasks_per_user: 1); other users still run', async () => {
    const [s1, s2] = [await session(alice, wtPrivate, 'sleeper'), await session(alice, wtPrivate, 'sleeper')];
    const a1 = await prompt(alice, s1);
    const a2 = await prompt(alice, s2);
    await until(async () => ((await alice.rest.service('tasks').get(a1.id)) as PublicTask).status === 'running', 'a1 running');
    const sb = await session(carol, wtShared, 'streamer');
    const c1 = await prompt(carol, sb);
    assert.equal((await settled(carol, c1.id)).status, 'completed', 'carol is not held up by alice');
    assert.equal(((await alice.rest.service('tasks').get(a2.id)) as PublicTask).status, 'queued', 'alice waits for her own task');
    await alice.rest.service('tasks').patch(a1.id, { status: 'stopped' });
    await until(async () => ((await alice.rest.service('tasks').get(a2.id)) as PublicTask).status === 'running', 'a2 runs once a1 is stopped');
    await alice.rest.service('tasks').patch(a2.id, { status: 'stopped' });
  });

  it("credentials: the session creator's, only the ones the agent lists, over the pipe only; audited by name", async () => {
    const mine = `alice-token-${crypto.randomBytes(12).toString('hex')}`;
    const unlisted = `alice-unlisted-${crypto.randomBytes(12).toString('hex')}`;
    const carols = `carol-token-${crypto.randomBytes(12).toString('hex')}`;
    await alice.rest.service('user-secrets').create({ name: 'MY_TOKEN', value: mine });
    await alice.rest.service('user-secrets').create({ name: 'UNLISTED_TOKEN', value: unlisted });
    await carol.rest.service('user-secrets').create({ name: 'MY_TOKEN', value: carols });
    const values = [mine, unlisted, carols];

    // Carol prompts Alice's session (tier prompt): it runs as Alice, with Alice's secrets.
    const s = await session(alice, wtShared, 'envdump');
    const t = await prompt(carol, s, 'dump');
    assert.deepEqual([t.created_by, t.executed_as], [carol.id, alice.id]);
    const dump = await until(async () => (await messagesOf(alice, t.id)).length >= 2 && (await messagesOf(alice, t.id)), 'the env dump');
    const executorPid = d.app.get('runner').executorPid(t.id)!;
    const agentPid = hostPidOf(Number((dump[1]!.content as { text: string }).text.split(' ')[1]), executorPid)!;
    assert.ok(alive(executorPid) && alive(agentPid));

    // While it runs: no command line anywhere carries a value; the executor's own environment holds
    // allow-listed names only (credentials live in its memory, on their way to the agent).
    const leaking = allCmdlines().filter((p) => values.some((v) => p.cmdline.includes(v)));
    assert.deepEqual(leaking, []);
    const executorEnv = environNames(executorPid);
    assert.deepEqual(executorEnv.filter((n) => !isBaseEnvName(n)), [], `executor env: ${executorEnv}`);
    const agentEnv = environNames(agentPid);
    assert.deepEqual(agentEnv.filter((n) => !isBaseEnvName(n)).sort(), ['MY_TOKEN']);
    assert.ok(agentEnv.includes('GIT_CONFIG_COUNT'), "the agent's git is pinned too");

    const hashes = JSON.parse((dump[0]!.content as { text: string }).text) as Record<string, string>;
    assert.deepEqual(Object.keys(hashes).filter((n) => !isBaseEnvName(n)), ['MY_TOKEN'], 'allow-list + listed credentials');
    assert.equal(hashes.MY_TOKEN, sha(mine), "the session creator's value, not the prompter's");
    assert.equal((await settled(alice, t.id)).status, 'completed');

    // Never in messages, logs, events or the database as plaintext.
    const everything = JSON.stringify(await findAll(owner.rest, 'audit', {})) + JSON.stringify(await findAll(alice.rest, 'messages', {})) + d.logs.join('\n');
    for (const v of values) assert.ok(!everything.includes(v), 'no value in messages, audit or logs');
    for (const actor of [alice, bob, carol, owner]) assert.ok(!JSON.stringify(actor.socket.events).includes(mine));
    await d.app.get('db').raw('PRAGMA wal_checkpoint(PASSIVE)');
    assert.deepEqual(valuesFoundIn(dbFiles(d.runtime.databaseFile), values), []);

    const delivered = (await findAll<{ action: string; target_id: string; actor: string; details: unknown }>(owner.rest, 'audit', {})).filter((e) => e.action === 'secret.delivered' && e.target_id === t.id);
    assert.equal(delivered.length, 1);
    assert.equal(delivered[0]!.actor, carol.id, 'the prompter caused it');
    const details = typeof delivered[0]!.details === 'string' ? JSON.parse(delivered[0]!.details) : delivered[0]!.details;
    assert.deepEqual(details.secret_names, ['MY_TOKEN']);
    assert.equal(details.owner, alice.id);
  });

  it('a session may name a configured command agent; unknown names are refused', async () => {
    const bad = await alice.rest.service('sessions').create({ worktree_id: wtPrivate.id, agent: 'no-such-agent' }).catch((e: { name: string; message: string }) => e);
    assert.equal((bad as { name: string }).name, 'BadRequest');
    assert.match((bad as { message: string }).message, /known: claude-code, codex, gemini, envdump, failer/);
  });
});

describe('runner: protocol fuzz from a fake executor', () => {
  let fake: string;
  before(() => {
    fake = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'agor-fake-executor-')), 'fake-executor.mjs');
    fs.writeFileSync(fake, FAKE_EXECUTOR);
  });
  after(() => {
    d.app.get('runner').executorProgramPath = undefined;
    fs.rmSync(path.dirname(fake), { recursive: true, force: true });
  });

  it('malformed, oversized and wrong-typed lines are answered with errors; the task and the daemon carry on', async () => {
    d.app.get('runner').executorProgramPath = fake;
    const logsBefore = d.logs.length;
    const s = await session(alice, wtPrivate, 'streamer');
    const t = await prompt(alice, s, 'fuzz');
    const done = await settled(alice, t.id);
    assert.equal(done.status, 'completed', done.reason ?? '');
    const stored = await messagesOf(alice, t.id);
    // Only the fake's one valid message was stored (nothing for another task, nothing wrong-typed),
    // and done's usage, which the agent had not streamed itself.
    assert.deepEqual(stored.map((m) => m.type), ['text', 'usage'], JSON.stringify(stored).slice(0, 500));
    assert.deepEqual(stored[1]!.content, { input_tokens: 3, output_tokens: 5 });
    const report = JSON.parse((stored[0]!.content as { text: string }).text) as Record<string, { code?: number; result?: unknown }>;
    assert.equal(report.parse?.code, -32700);
    assert.equal(report.oversized?.code, -32600);
    assert.equal(report.deep?.code, -32600);
    assert.equal(report.x1?.code, -32602, 'get_credentials with wrong-typed names');
    assert.equal(report.x2?.code, -32601, 'unknown method');
    // The tool policy answers (issue 16): a shell call of an agent that cannot pause before it runs is denied, never left waiting.
    assert.equal((report.x3?.result as { behavior?: string } | undefined)?.behavior, 'deny', 'tool_request answered by the policy');
    assert.match((report.x3?.result as { message?: string } | undefined)?.message ?? '', /tool policy/);
    assert.deepEqual(report.x4?.result, { credentials: {} }, 'no credentials for names the agent may not have');
    const protocolLogs = d.logs.slice(logsBefore).filter((l) => l.includes('[protocol]'));
    assert.ok(protocolLogs.length >= 5, protocolLogs.join('\n'));
    assert.ok(!protocolLogs.some((l) => l.includes('zzzzzzzz')), 'logs never quote the offending lines');
  });

  it('an executor that dies without `done` fails the task; the daemon keeps serving and running tasks', async () => {
    d.app.get('runner').executorProgramPath = fake;
    const s = await session(alice, wtPrivate, 'streamer');
    const t = await prompt(alice, s, 'die');
    const done = await settled(alice, t.id);
    assert.equal(done.status, 'failed');
    assert.match(done.reason ?? '', /exited with code 7 before finishing/);
    d.app.get('runner').executorProgramPath = undefined;
    const t2 = await prompt(alice, s, 'again');
    assert.equal((await settled(alice, t2.id)).status, 'completed');
    assert.ok(((await alice.rest.service('worktrees').get(wtPrivate.id)) as PublicWorktree).id);
  });
});

/** Speaks the protocol badly on purpose, then reports what the daemon answered. */
const FAKE_EXECUTOR = `
const out = (o) => process.stdout.write((typeof o === 'string' ? o : JSON.stringify(o)) + '\\n');
const answers = {};
let buf = '';
let task;
out({ jsonrpc: '2.0', method: 'ready', params: { protocol: 1, pid: process.pid } });
process.stdin.on('data', (d) => {
  buf += d;
  for (let i = buf.indexOf('\\n'); i >= 0; i = buf.indexOf('\\n')) {
    const msg = JSON.parse(buf.slice(0, i));
    buf = buf.slice(i + 1);
    if (msg.method === 'run_task') { task = msg.params; out({ jsonrpc: '2.0', id: msg.id, result: { accepted: true } }); start(); }
    else if (msg.id === null && msg.error) {
      const key = msg.error.code === -32700 ? 'parse' : /exceeds/.test(msg.error.message) ? 'oversized' : /deeper/.test(msg.error.message) ? 'deep' : 'other';
      answers[key] = msg.error;
    } else if (msg.id !== undefined) answers[msg.id] = msg.error ?? { result: msg.result };
  }
});
function start() {
  if (task.prompt === 'die') { out('not even json'); setTimeout(() => process.exit(7), 50); return; }
  const tid = task.task_id;
  out('{this is not json zzzzzzzz');
  out('{"jsonrpc":"2.0","method":"message","params":{"task_id":"' + tid + '","message":{"type":"text","content":{"text":"' + 'z'.repeat(1536 * 1024) + '"}}}}');
  out('{"jsonrpc":"2.0","id":"deepish","method":"tool_request","params":{"task_id":"' + tid + '","tool":"x","input":' + '['.repeat(500) + ']'.repeat(500) + '}}');
  out({ jsonrpc: '2.0', id: 'x1', method: 'get_credentials', params: { names: 'MY_TOKEN' } });
  out({ jsonrpc: '2.0', id: 'x2', method: 'launch_missiles', params: {} });
  out({ jsonrpc: '2.0', id: 'x3', method: 'tool_request', params: { task_id: tid, tool: 'Bash', input: { command: 'ls' } } });
  out({ jsonrpc: '2.0', id: 'x4', method: 'get_credentials', params: { names: ['UNLISTED_TOKEN', 'AGOR_MASTER_SECRET'] } });
  out({ jsonrpc: '2.0', method: 'message', params: { task_id: 'some-other-task', message: { type: 'text', content: { text: 'for another task' } } } });
  out({ jsonrpc: '2.0', method: 'message', params: { task_id: tid, message: { type: 'shout', content: { text: 'wrong type' } } } });
  out({ jsonrpc: '2.0', method: 'message', params: { task_id: tid, message: { type: 'text', content: 'not an object' } } });
  out({ jsonrpc: '2.0', method: 'done', params: { task_id: tid, status: 'exploded', resume: null } });
  const wait = setInterval(() => {
    if (!['parse', 'oversized', 'deep', 'x1', 'x2', 'x3', 'x4'].every((k) => answers[k])) return;
    clearInterval(wait);
    out({ jsonrpc: '2.0', method: 'message', params: { task_id: tid, message: { type: 'text', content: { text: JSON.stringify(answers) } } } });
    out({ jsonrpc: '2.0', method: 'done', params: { task_id: tid, status: 'completed', resume: null, usage: { input_tokens: 3, output_tokens: 5 } } });
    setTimeout(() => process.exit(0), 20);
  }, 10);
}
`;
