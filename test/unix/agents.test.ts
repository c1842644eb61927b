// The REAL claude-code agent (Claude Agent SDK + its native CLI, from the installed executor's
// run-time packages under /usr/local/libexec/agor) through the whole daemon under insulated and
// strict mode: real sudo, agor-priv and accounts, the fake Anthropic API on 127.0.0.1 (the private
// mount namespace shares the host's network namespace, so the executor identity reaches it). The
// API key and base URL are the session creator's own user secrets, handed over the executor's pipe.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { unixSuite, type UnixFixture } from './fixture.js';
import { Rig, type Person } from './rig.js';
import { startFakeAnthropic, toolUseId, type FakeAnthropic } from '../fakes/anthropic.js';
import { startFakeResponses, type FakeResponses } from '../fakes/openai-responses.js';
import { startFakeGemini, type FakeGemini } from '../fakes/gemini.js';

const TIMEOUT = { timeout: 240_000 };

class AgentRig extends Rig {
  constructor(fx: UnixFixture, mode: 'insulated' | 'strict') {
    // These tests are about identities, not approvals (test/agents/approvals.test.ts): the admin's
    // ceiling allows shell and edits, so nothing waits for a person.
    super(fx, mode, { tag: 'agents', stopGraceSeconds: 5, config: { policy: { rules: [{ kind: ['shell', 'edit'], decision: 'allow' }] } } });
  }

  /** A member with the fake API as their own Anthropic endpoint and key (their user secrets). */
  async member(name: string, unix: boolean, fake: FakeAnthropic, key: string): Promise<Person> {
    const p = await this.person(name, unix);
    await p.call('POST', 'user-secrets', { name: 'ANTHROPIC_API_KEY', value: key });
    await p.call('POST', 'user-secrets', { name: 'ANTHROPIC_BASE_URL', value: fake.url });
    return p;
  }

  /** A new `agent` session (claude-code unless said) of `creator`, one prompt, until the task ends. */
  runAgent(creator: Person, worktreeId: string, prompt: string, agent = 'claude-code'): Promise<{ task: any; messages: any[] }> {
    return this.run(creator, worktreeId, { agent, prompt, ms: 200_000 });
  }
}

/** Script: Bash `id -un > who.txt`, Write `file` (absolute), then a closing text. */
function scriptRun(fake: FakeAnthropic, file: string, content: string): void {
  fake.enqueue(
    { blocks: [{ type: 'text', text: 'Checking who I am.' }, { type: 'tool_use', id: toolUseId(), name: 'Bash', input: { command: 'id -un > who.txt', description: 'who am I' } }], usage: { input_tokens: 100, output_tokens: 20 } },
    { blocks: [{ type: 'tool_use', id: toolUseId(), name: 'Write', input: { file_path: file, content } }], usage: { input_tokens: 150, output_tokens: 30 } },
    { blocks: [{ type: 'text', text: 'Done.' }], usage: { input_tokens: 200, output_tokens: 40 } },
  );
}

/** The checks every run shares: completed, the expected user, the written file, messages in order, usage. */
function checkRun(rig: AgentRig, run: { task: any; messages: any[] }, wtPath: string, expectedUser: string, file: string, content: string): void {
  const { task, messages } = run;
  const why = `${task.reason}\n${JSON.stringify(messages.filter((m) => m.type === 'error').map((m) => m.content))}\n${rig.h.stderr.join('').slice(-3000)}`;
  assert.equal(task.status, 'completed', why);
  assert.equal(fs.readFileSync(path.join(wtPath, 'who.txt'), 'utf8').trim(), expectedUser);
  assert.equal(fs.readFileSync(file, 'utf8'), content);
  assert.equal(fs.statSync(file).uid, rig.fx.uid(expectedUser), 'the file belongs to the identity that ran');
  const ids = messages.map((m) => m.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'messages come back in the order they were persisted');
  assert.deepEqual(
    messages.map((m) => m.type),
    ['text', 'tool_use', 'tool_result', 'tool_use', 'tool_result', 'text', 'usage'],
  );
  assert.equal(messages[1].content.name, 'Bash');
  assert.equal(messages[3].content.name, 'Write');
  assert.equal(messages[5].content.text, 'Done.');
  const usage = messages[6].content;
  assert.deepEqual([usage.input_tokens, usage.output_tokens], [450, 90], 'done carried the run\'s usage');
}

unixSuite('claude-code agent under unix isolation (real SDK and CLI, installed runtime, fake API)', (fx) => {
  let fake: FakeAnthropic;
  let openai: FakeResponses;
  let gemini: FakeGemini;
  const KEY = `sk-ant-fake-${crypto.randomBytes(8).toString('hex')}`;

  before(async () => {
    fake = await startFakeAnthropic();
    openai = await startFakeResponses();
    gemini = await startFakeGemini();
  });
  after(() => Promise.all([fake?.close(), openai?.close(), gemini?.close()]));
  beforeEach(() => {
    fake.clearQueue();
    openai?.clearQueue();
    gemini?.clearQueue();
  });

  it('the installed runtime: the SDK and its native CLI, root-owned, readable by the executor user', () => {
    const sdk = fx.run(['/usr/bin/test', '-r', '/usr/local/libexec/agor/node_modules/@anthropic-ai/claude-agent-sdk/sdk.mjs'], { asUser: fx.executorUser });
    assert.equal(sdk.status, 0, 'the executor user reads the SDK');
    const cli = fx.run(['/usr/bin/find', '-L', '/usr/local/libexec/agor/node_modules/', '-maxdepth', '3', '-name', 'claude', '-type', 'f', '-perm', '-o+rx', '-user', 'root'], {});
    assert.match(cli.stdout, /claude-agent-sdk-linux-[a-z0-9-]+\/claude$/m, `the native CLI is installed: ${cli.stdout} ${cli.stderr}`);
    const writable = fx.run(['/usr/bin/find', '-L', '/usr/local/libexec/agor/', '(', '-perm', '-g+w', '-o', '-perm', '-o+w', '-o', '!', '-user', 'root', ')', '-print', '-quit'], {});
    assert.equal(writable.stdout, '', 'nothing under libexec is writable by anyone but root');
  });

  describe('insulated', () => {
    const rig = new AgentRig(fx, 'insulated');
    let alice: Person;
    let W: { id: string; path: string; unix_group: string };
    before(async () => {
      await rig.start();
      alice = await rig.member('alice', false, fake, KEY);
      W = await rig.worktree(alice, 'agents-ins', 'none');
    });
    after(() => rig.h?.stop());

    it('runs as the executor user: Bash and Write in the worktree, messages in order, usage', TIMEOUT, async () => {
      const file = path.join(W.path, 'hello.txt');
      scriptRun(fake, file, 'insulated hello\n');
      const run = await rig.runAgent(alice, W.id, 'Write who.txt and hello.txt');
      checkRun(rig, run, W.path, fx.executorUser, file, 'insulated hello\n');
      const requests = fake.messageRequests();
      assert.equal(requests.length, 3);
      assert.ok(requests.every((r) => r.headers['x-api-key'] === KEY), "the creator's key reached the API");
      assert.ok(!JSON.stringify(run.messages).includes(KEY), 'the key is not in any message');
    });

    // The other SDK agents load from the same installed runtime (their native CLIs included).
    it('codex runs as the executor user (its native CLI from the installed runtime)', TIMEOUT, async () => {
      await alice.call('POST', 'user-secrets', { name: 'OPENAI_API_KEY', value: `${KEY}-openai` });
      await alice.call('POST', 'user-secrets', { name: 'OPENAI_BASE_URL', value: openai.url });
      fs.rmSync(path.join(W.path, 'who.txt'), { force: true });
      openai.enqueue(
        { items: [{ type: 'function_call', call_id: 'call_who', name: 'exec_command', arguments: { cmd: 'id -un > who.txt', workdir: W.path } }] },
        { items: [{ type: 'text', text: 'Done.' }] },
      );
      const { task, messages } = await rig.runAgent(alice, W.id, 'who are you?', 'codex');
      assert.equal(task.status, 'completed', `${task.reason}\n${JSON.stringify(messages.filter((m) => m.type === 'error'))}\n${rig.h.stderr.join('').slice(-2000)}`);
      if (!fs.existsSync(path.join(W.path, 'who.txt'))) {
        // What codex itself recorded (its session log in the sandbox's private HOME) says why.
        const logs = spawnSync('/bin/sh', ['-c', `find ${fx.base} -path '*/.codex/*' -type f \\( -name '*.jsonl' -o -name '*.log' \\) -exec tail -c 4000 {} +`], { encoding: 'utf8' }).stdout;
        assert.fail(`codex's command wrote nothing: ${JSON.stringify(messages).slice(-1500)}\n${logs.slice(-6000)}`);
      }
      assert.equal(fs.readFileSync(path.join(W.path, 'who.txt'), 'utf8').trim(), fx.executorUser);
      assert.ok(messages.some((m) => m.type === 'text' && m.content.text === 'Done.'));
    });

    it('gemini runs as the executor user (the Gemini CLI from the installed runtime)', TIMEOUT, async () => {
      await alice.call('POST', 'user-secrets', { name: 'GEMINI_API_KEY', value: `${KEY}-gemini` });
      await alice.call('POST', 'user-secrets', { name: 'GOOGLE_GEMINI_BASE_URL', value: gemini.url });
      fs.rmSync(path.join(W.path, 'who.txt'), { force: true });
      gemini.enqueue(
        { parts: [{ type: 'function_call', name: 'run_shell_command', args: { command: 'id -un > who.txt' } }] },
        { parts: [{ type: 'text', text: 'Done.' }] },
      );
      const { task, messages } = await rig.runAgent(alice, W.id, 'who are you?', 'gemini');
      assert.equal(task.status, 'completed', `${task.reason}\n${JSON.stringify(messages.filter((m) => m.type === 'error'))}\n${rig.h.stderr.join('').slice(-2000)}`);
      assert.equal(fs.readFileSync(path.join(W.path, 'who.txt'), 'utf8').trim(), fx.executorUser);
      assert.ok(messages.some((m) => m.type === 'text' && m.content.text === 'Done.'));
    });
  });

  describe('strict', () => {
    const rig = new AgentRig(fx, 'strict');
    let alice: Person;
    let bob: Person;
    let S: { id: string; path: string; unix_group: string };
    before(async () => {
      await rig.start();
      alice = await rig.member('alice', true, fake, KEY);
      bob = await rig.member('bob', true, fake, `${KEY}-bob`);
      S = await rig.worktree(alice, 'agents-strict', 'prompt');
    });
    after(() => rig.h?.stop());

    it("runs as the session creator's account; a second user's session in the same worktree runs as that user", TIMEOUT, async () => {
      const before = fake.messageRequests().length;
      const aliceFile = path.join(S.path, 'alice.txt');
      scriptRun(fake, aliceFile, 'from alice\n');
      checkRun(rig, await rig.runAgent(alice, S.id, 'Write who.txt and alice.txt'), S.path, alice.unix!, aliceFile, 'from alice\n');

      const bobFile = path.join(S.path, 'bob.txt');
      scriptRun(fake, bobFile, 'from bob\n');
      // who.txt was written by alice's identity: bob's overwrites it (the worktree group's default ACLs).
      checkRun(rig, await rig.runAgent(bob, S.id, 'Write who.txt and bob.txt'), S.path, bob.unix!, bobFile, 'from bob\n');
      const keys = fake.messageRequests().slice(before).map((r) => r.headers['x-api-key']);
      assert.deepEqual(keys, [KEY, KEY, KEY, `${KEY}-bob`, `${KEY}-bob`, `${KEY}-bob`], "each run used its creator's own key");
    });
  });
});
