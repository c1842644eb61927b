// Tool approvals end to end (issue 16): the REAL Claude Agent SDK and CLI, run by a real daemon's
// runner and executor (simple mode), against the fake Anthropic API. A scripted Bash tool_use in
// `ask` mode pauses the task before anything runs; people answer over the API; only the session's
// creator and the worktree's owners may.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { cleanupTempDirs, createWorktree, findAll, newActor, ownerActor, outcome, registerRepo, type Actor } from '../helpers/worktree-fixture.js';
import { startFakeAnthropic, toolResultsIn, toolUseId, type FakeAnthropic } from '../fakes/anthropic.js';
import { startFakeGemini, functionResponsesIn, type FakeGemini } from '../fakes/gemini.js';
import { until } from '../runner/support.js';
import type { PublicApproval } from '../../daemon/services/approvals/approvals.shared.js';
import type { PublicTask } from '../../daemon/services/tasks/tasks.shared.js';
import type { PublicMessage } from '../../daemon/services/messages/messages.shared.js';
import type { PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';

const TIMEOUT = { timeout: 240_000 };
const KEY = 'sk-ant-fake-approvals-0123456789';
const DONE = new Set(['completed', 'failed', 'stopped']);

let d: TestDaemon;
let fake: FakeAnthropic;
let gemini: FakeGemini;
let admin: Actor;
let alice: Actor; // creates the sessions (member, tier session)
let bob: Actor; // an owner of the worktree
let carol: Actor; // tier `prompt` on the worktree, not the creator
let wt: PublicWorktree;

before(async () => {
  fake = await startFakeAnthropic();
  gemini = await startFakeGemini();
  d = await startTestDaemon({ execution: { worktree_rbac: true, stop_grace_seconds: 2 } }, { runTasks: true });
  admin = await ownerActor(d);
  [alice, bob, carol] = await Promise.all([newActor(d, 'member', 'alice'), newActor(d, 'member', 'bob'), newActor(d, 'member', 'carol')]);
  const repo = await registerRepo(admin);
  wt = await createWorktree(bob, repo.id, { others_can: 'prompt' });
  await alice.rest.service('user-secrets').create({ name: 'ANTHROPIC_API_KEY', value: KEY });
  await alice.rest.service('user-secrets').create({ name: 'ANTHROPIC_BASE_URL', value: fake.url });
  await alice.rest.service('user-secrets').create({ name: 'GEMINI_API_KEY', value: `${KEY}-gemini` });
  await alice.rest.service('user-secrets').create({ name: 'GOOGLE_GEMINI_BASE_URL', value: gemini.url });
});
after(async () => {
  await d?.stop();
  await fake?.close();
  await gemini?.close();
  cleanupTempDirs();
});
beforeEach(() => {
  fake.clearQueue();
  gemini.clearQueue();
});

/** A new ask-mode session of alice's, prompted once; resolves with its task. */
async function prompt(text: string, agent = 'claude-code'): Promise<{ sessionId: string; task: PublicTask }> {
  const session = (await alice.rest.service('sessions').create({ worktree_id: wt.id, agent, permission_mode: 'ask' })) as { id: string };
  const task = (await alice.rest.service('tasks').create({ session_id: session.id, prompt: text })) as PublicTask;
  return { sessionId: session.id, task };
}

const taskOf = (id: string) => alice.rest.service('tasks').get(id) as Promise<PublicTask>;
const pendingOf = async (sessionId: string) => (await findAll<PublicApproval>(alice.rest, 'approvals', { session_id: sessionId, status: 'pending' }))[0];
const ended = (id: string) => until(async () => { const t = await taskOf(id); return DONE.has(t.status) && t; }, 'the task to end', 180_000);
const waitingApproval = (sessionId: string) => until(() => pendingOf(sessionId), 'a pending approval', 120_000);
/** The text of the tool result the CLI sent back to the model for `id`. */
const toolResultFor = (id: string) => fake.messageRequests().map((r) => toolResultsIn(r.body).get(id)).find((t) => t !== undefined);

function script(...commands: string[]): string[] {
  const ids = commands.map(() => toolUseId());
  fake.enqueue(
    ...commands.map((command, i) => ({ blocks: [{ type: 'tool_use' as const, id: ids[i]!, name: 'Bash', input: { command, description: 'scripted' } }] })),
    { blocks: [{ type: 'text' as const, text: 'Done.' }] },
  );
  return ids;
}

describe('tool approvals with the real Claude Agent SDK', () => {
  it('ask mode pauses a Bash call before it runs; a prompt-tier member cannot answer, the creator allows it and it runs', TIMEOUT, async () => {
    const file = path.join(wt.path, 'approved.txt');
    script('echo approved > approved.txt');
    const { sessionId, task } = await prompt('write approved.txt');
    const approval = await waitingApproval(sessionId);

    assert.equal((await taskOf(task.id)).status, 'awaiting_permission');
    assert.equal(fs.existsSync(file), false, 'nothing ran before the answer');
    assert.equal(approval.tool, 'Bash');
    assert.deepEqual(approval.input, { command: 'echo approved > approved.txt', description: 'scripted' });
    assert.equal(approval.rule, 'mode:ask');
    const request = (await findAll<PublicMessage>(alice.rest, 'messages', { task_id: task.id })).find((m) => m.type === 'permission_request');
    assert.deepEqual((request?.content as { approval_id: string; input: unknown }).approval_id, approval.id);
    assert.deepEqual((request?.content as { input: unknown }).input, approval.input, 'the request shows the input in full');

    // Tier `prompt` lets carol prompt alice's session, never answer for alice's identity.
    assert.equal(await outcome(carol.rest.service('approvals').patch(approval.id, { decision: 'allow' })), 'Forbidden');
    assert.equal(await outcome(carol.socket.app.service('approvals').patch(approval.id, { decision: 'allow' })), 'Forbidden');
    assert.equal((await alice.rest.service('approvals').get(approval.id)).status, 'pending');
    assert.equal(fs.existsSync(file), false);

    const answered = (await alice.rest.service('approvals').patch(approval.id, { decision: 'allow' })) as PublicApproval;
    assert.equal(answered.status, 'allowed');
    assert.equal(answered.answered_by, alice.id);
    const final = await ended(task.id);
    assert.equal(final.status, 'completed', final.reason ?? '');
    assert.equal(fs.readFileSync(file, 'utf8'), 'approved\n');
    // Answering twice is refused and changes nothing.
    assert.equal(await outcome(alice.rest.service('approvals').patch(approval.id, { decision: 'deny' })), 'Conflict');

    const audit = await findAll<{ action: string; actor: string | null; target_id: string; decision: string | null }>(admin.rest, 'audit', { target_id: approval.id });
    const tool = audit.filter((e) => e.action.startsWith('tool.'));
    assert.deepEqual(tool.map((e) => [e.action, e.actor, e.decision]).sort(), [['tool.answered', alice.id, 'allow'], ['tool.asked', null, null]].sort());
    assert.ok(audit.some((e) => e.action === 'authz.denied' && e.actor === carol.id), "carol's refused answer is audited");
  });

  it('an owner denies with a message: nothing runs and the agent receives the message', TIMEOUT, async () => {
    const file = path.join(wt.path, 'denied.txt');
    const [id] = script('echo no > denied.txt');
    const { sessionId, task } = await prompt('write denied.txt');
    const approval = await waitingApproval(sessionId);
    const answered = (await bob.rest.service('approvals').patch(approval.id, { decision: 'deny', message: 'not today: use the fixture file' })) as PublicApproval;
    assert.equal(answered.status, 'denied');
    assert.equal(answered.answered_by, bob.id);
    const final = await ended(task.id);
    assert.equal(final.status, 'completed', final.reason ?? '');
    assert.equal(fs.existsSync(file), false);
    assert.match(toolResultFor(id!) ?? '', /not today: use the fixture file/);
  });

  it('"allow for the session" covers later calls with the same command prefix, not others', TIMEOUT, async () => {
    script('echo one > one.txt', 'echo two > two.txt');
    const { sessionId, task } = await prompt('write one.txt and two.txt');
    const approval = await waitingApproval(sessionId);
    // A prefix that is not how the command starts is refused.
    assert.equal(await outcome(alice.rest.service('approvals').patch(approval.id, { decision: 'allow', scope: 'session', command_prefix: 'rm' })), 'BadRequest');
    const answered = (await alice.rest.service('approvals').patch(approval.id, { decision: 'allow', scope: 'session' })) as PublicApproval;
    assert.equal(answered.command_prefix, 'echo');
    const final = await ended(task.id);
    assert.equal(final.status, 'completed', final.reason ?? '');
    assert.equal(fs.readFileSync(path.join(wt.path, 'two.txt'), 'utf8'), 'two\n', 'the second echo ran without asking');
    const all = await findAll<PublicApproval>(alice.rest, 'approvals', { session_id: sessionId });
    assert.equal(all.length, 1, 'one ask for both calls');
  });

  it('no answer within policy.ask_timeout_seconds is a denial the agent is told about', TIMEOUT, async () => {
    const config = d.app.get('runtime').config;
    const before = config.policy.ask_timeout_seconds;
    config.policy.ask_timeout_seconds = 1;
    try {
      const [id] = script('echo late > late.txt');
      const { sessionId, task } = await prompt('write late.txt');
      const final = await ended(task.id);
      assert.equal(final.status, 'completed', final.reason ?? '');
      const [approval] = await findAll<PublicApproval>(alice.rest, 'approvals', { session_id: sessionId });
      assert.equal(approval?.status, 'timed_out');
      assert.equal(fs.existsSync(path.join(wt.path, 'late.txt')), false);
      assert.match(toolResultFor(id!) ?? '', /nobody answered/);
    } finally {
      config.policy.ask_timeout_seconds = before;
    }
  });

  it('stopping the task ends the wait: the ask is cancelled and nothing runs', TIMEOUT, async () => {
    script('echo stopped > stopped.txt');
    const { sessionId, task } = await prompt('write stopped.txt');
    const approval = await waitingApproval(sessionId);
    await alice.rest.service('tasks').patch(task.id, { status: 'stopped' });
    const final = await ended(task.id);
    assert.equal(final.status, 'stopped');
    assert.equal((await alice.rest.service('approvals').get(approval.id)).status, 'cancelled');
    assert.equal(fs.existsSync(path.join(wt.path, 'stopped.txt')), false);
    assert.equal(await outcome(bob.rest.service('approvals').patch(approval.id, { decision: 'allow' })), 'Conflict');
  });

  it('answerable lists what waits for me: the creator and owners see it, a prompt-tier member does not', TIMEOUT, async () => {
    script('echo mine > mine.txt');
    const { sessionId, task } = await prompt('write mine.txt');
    const approval = await waitingApproval(sessionId);
    const ids = async (a: Actor) => (await findAll<PublicApproval>(a.rest, 'approvals', { answerable: true })).map((x) => x.id);
    assert.ok((await ids(alice)).includes(approval.id));
    assert.ok((await ids(bob)).includes(approval.id));
    assert.ok(!(await ids(carol)).includes(approval.id));
    // carol still sees it (tier prompt includes view), she just cannot answer it.
    assert.equal((await carol.rest.service('approvals').get(approval.id)).id, approval.id);
    await bob.rest.service('approvals').patch(approval.id, { decision: 'allow' });
    assert.equal((await ended(task.id)).status, 'completed');
  });
});

describe('permission modes are the creator’s, allow-all only where owners allow it', () => {
  it('allow-all is refused until the owners allow it; only the creator changes the mode', TIMEOUT, async () => {
    assert.equal(await outcome(alice.rest.service('sessions').create({ worktree_id: wt.id, agent: 'claude-code', permission_mode: 'allow-all' })), 'BadRequest');
    // Only owners change the worktree's tool policy.
    assert.equal(await outcome(carol.rest.service('worktrees').patch(wt.id, { tool_policy: { allow_all: true, rules: [] } })), 'Forbidden');
    assert.equal(await outcome(bob.rest.service('worktrees').patch(wt.id, { tool_policy: { allow_all: true, rules: [{ tool: 'Bash', decision: 'allow' }] } })), 'BadRequest', 'owners cannot add allow rules');
    await bob.rest.service('worktrees').patch(wt.id, { tool_policy: { allow_all: true, rules: [] } });
    const session = (await alice.rest.service('sessions').create({ worktree_id: wt.id, agent: 'claude-code' })) as { id: string; permission_mode: string };
    assert.equal(session.permission_mode, 'ask');
    assert.equal(await outcome(carol.rest.service('sessions').patch(session.id, { permission_mode: 'accept-edits' })), 'Forbidden');
    const changed = (await alice.rest.service('sessions').patch(session.id, { permission_mode: 'allow-all' })) as { permission_mode: string };
    assert.equal(changed.permission_mode, 'allow-all');

    // In allow-all the same Bash call runs without asking.
    script('echo free > free.txt');
    const task = (await alice.rest.service('tasks').create({ session_id: session.id, prompt: 'write free.txt' })) as PublicTask;
    assert.equal((await ended(task.id)).status, 'completed');
    assert.equal(fs.readFileSync(path.join(wt.path, 'free.txt'), 'utf8'), 'free\n');
    assert.deepEqual(await findAll(alice.rest, 'approvals', { session_id: session.id }), []);
    await bob.rest.service('worktrees').patch(wt.id, { tool_policy: { allow_all: false, rules: [] } });
  });
});

describe('tool approvals with the real Gemini CLI (its BeforeTool hook waits for the answer)', () => {
  const scriptGemini = (command: string) =>
    gemini.enqueue({ parts: [{ type: 'function_call', name: 'run_shell_command', args: { command } }] }, { parts: [{ type: 'text', text: 'Done.' }] });

  it('a shell call waits in awaiting_permission with nothing run; the creator allows it and it runs', TIMEOUT, async () => {
    const file = path.join(wt.path, 'gemini-approved.txt');
    scriptGemini('echo gemini > gemini-approved.txt');
    const { sessionId, task } = await prompt('write gemini-approved.txt', 'gemini');
    const approval = await waitingApproval(sessionId);
    assert.equal(approval.tool, 'run_shell_command');
    assert.equal((await taskOf(task.id)).status, 'awaiting_permission');
    assert.equal(fs.existsSync(file), false, 'nothing ran before the answer');
    assert.equal(await outcome(carol.rest.service('approvals').patch(approval.id, { decision: 'allow' })), 'Forbidden');
    await alice.rest.service('approvals').patch(approval.id, { decision: 'allow' });
    const final = await ended(task.id);
    assert.equal(final.status, 'completed', final.reason ?? '');
    assert.equal(fs.readFileSync(file, 'utf8'), 'gemini\n');
  });

  it('an owner denies it: nothing runs and the model is told why', TIMEOUT, async () => {
    const file = path.join(wt.path, 'gemini-denied.txt');
    scriptGemini('echo no > gemini-denied.txt');
    const { sessionId, task } = await prompt('write gemini-denied.txt', 'gemini');
    const approval = await waitingApproval(sessionId);
    await bob.rest.service('approvals').patch(approval.id, { decision: 'deny', message: 'gemini may not write that' });
    const final = await ended(task.id);
    assert.equal(final.status, 'completed', final.reason ?? '');
    assert.equal(fs.existsSync(file), false);
    const told = gemini.requests.flatMap((r) => functionResponsesIn(r.body)).map((f) => JSON.stringify(f.response));
    assert.ok(told.some((t) => t.includes('gemini may not write that')), told.join('\n'));
  });
});
