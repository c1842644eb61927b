// The claude-code adapter driving the REAL Claude Agent SDK and its native CLI against a local
// fake Anthropic Messages API: tools run in a real git worktree through the tool policy, output
// is normalised, usage and resume handles come back, failures and stops are reported as such.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { claudeCodeAdapter, decodeResume } from '../../daemon/executor/agents/claude-code.js';
import { startFakeAnthropic, toolResultsIn, toolUseId, type FakeAnthropic } from '../fakes/anthropic.js';
import {
  agentWorkspace,
  baseEnv,
  checkToolEnvironment,
  cleanupTempDirs,
  leakedCanary,
  parseEnvDump,
  recordingIO,
  task,
  types,
} from './support.js';
import { processesWith } from '../helpers/proc.js';

const KEY = 'sk-ant-fake-test-key-0123456789';
const TIMEOUT = { timeout: 180_000 };

after(cleanupTempDirs);

describe('claude-code adapter (real SDK, fake Anthropic API)', () => {
  let fake: FakeAnthropic;
  const ws = agentWorkspace('claude');
  const creds = () => ({ ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url });
  let firstResume: string | null = null;

  before(async () => {
    fake = await startFakeAnthropic();
  });
  after(async () => {
    await fake.close();
  });
  // A test that stops a run leaves the replies it never reached in the queue.
  beforeEach(() => fake.clearQueue());

  it('runs Bash and Write through the tool policy in the worktree and streams normalised messages', TIMEOUT, async () => {
    const bashId = toolUseId();
    const writeId = toolUseId();
    const written = path.join(ws.worktree, 'hello.txt');
    fake.enqueue(
      { blocks: [{ type: 'text', text: 'Checking who I am.' }, { type: 'tool_use', id: bashId, name: 'Bash', input: { command: 'id -un > who.txt', description: 'who am I' } }], usage: { input_tokens: 100, output_tokens: 20 } },
      { blocks: [{ type: 'tool_use', id: writeId, name: 'Write', input: { file_path: written, content: 'written by the agent\n' } }], usage: { input_tokens: 150, output_tokens: 30 } },
      { blocks: [{ type: 'thinking', thinking: 'Both files are there.' }, { type: 'text', text: 'Done: who.txt and hello.txt.' }], usage: { input_tokens: 200, output_tokens: 40 } },
    );
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp) });
    const result = await claudeCodeAdapter.run(task(ws.worktree, 'Write who.txt and hello.txt', { options: { max_retries: 0 } }), io);

    assert.equal(result.status, 'completed', result.error);
    assert.equal(fs.readFileSync(path.join(ws.worktree, 'who.txt'), 'utf8'), `${os.userInfo().username}\n`);
    assert.equal(fs.readFileSync(written, 'utf8'), 'written by the agent\n');

    assert.deepEqual(types(io.messages), ['text', 'tool_use', 'tool_result', 'tool_use', 'tool_result', 'thinking', 'text', 'usage']);
    const [text1, bashUse, bashResult, writeUse, writeResult, thinking, text2, usage] = io.messages;
    assert.deepEqual(text1!.content, { text: 'Checking who I am.' });
    assert.deepEqual(bashUse!.content, { id: bashId, name: 'Bash', input: { command: 'id -un > who.txt', description: 'who am I' } });
    assert.equal(bashResult!.content.tool_use_id, bashId);
    assert.equal(bashResult!.content.is_error, undefined);
    assert.deepEqual(writeUse!.content, { id: writeId, name: 'Write', input: { file_path: written, content: 'written by the agent\n' } });
    assert.equal(writeResult!.content.tool_use_id, writeId);
    assert.match(String(writeResult!.content.output), /hello\.txt/);
    assert.deepEqual(thinking!.content, { text: 'Both files are there.' });
    assert.deepEqual(text2!.content, { text: 'Done: who.txt and hello.txt.' });
    assert.equal(usage!.content.input_tokens, 450);
    assert.equal(usage!.content.output_tokens, 90);
    assert.ok(io.messages.every((m) => m.raw !== undefined), 'every message keeps the raw SDK payload');

    // The policy was asked before each tool ran.
    assert.deepEqual(io.toolRequests.map((r) => r.tool), ['Bash', 'Write']);
    assert.equal((io.toolRequests[0]!.input as { command: string }).command, 'id -un > who.txt');
    assert.equal((io.toolRequests[1]!.input as { file_path: string }).file_path, written);

    // Usage and resume handle.
    assert.deepEqual(result.usage && { i: result.usage.input_tokens, o: result.usage.output_tokens }, { i: 450, o: 90 });
    assert.equal(typeof result.usage?.cost_usd, 'number');
    assert.ok(result.resume, 'a resume handle');
    const decoded = decodeResume(result.resume);
    assert.match(decoded!.id, /^[0-9a-f-]{36}$/);
    firstResume = result.resume;

    // What the CLI sent: three streamed requests with the key, tool results carried back.
    const requests = fake.messageRequests();
    assert.equal(requests.length, 3);
    for (const r of requests) {
      assert.equal(r.body.stream, true);
      assert.equal(r.headers['x-api-key'], KEY);
      assert.match(r.url, /^\/v1\/messages\?beta=true$/);
    }
    // `id -un > who.txt` prints nothing; the CLI says so (a reminder may be appended: match with includes).
    assert.ok(toolResultsIn(requests[1]!.body).get(bashId)?.includes('no output'), 'the Bash result went back to the model');
    assert.ok(toolResultsIn(requests[2]!.body).get(writeId)?.includes('hello.txt'), 'the Write result went back to the model');
    assert.deepEqual(io.credentialRequests, [['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL']]);
  });

  it('continues the conversation with the resume handle; the tool environment is the allow-list plus the credentials', TIMEOUT, async (t) => {
    assert.ok(firstResume, 'the first test ran');
    const before = fake.messageRequests().length;
    const dump = path.join(ws.worktree, 'env.dump');
    fake.enqueue(
      { blocks: [{ type: 'tool_use', name: 'Bash', input: { command: `env -0 > ${dump}` } }], usage: { input_tokens: 300, output_tokens: 5 } },
      { blocks: [{ type: 'text', text: 'Environment saved.' }], usage: { input_tokens: 310, output_tokens: 6 } },
    );
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp) });
    const result = await claudeCodeAdapter.run(task(ws.worktree, 'Now save the environment', { resume: firstResume, options: { max_retries: 0 } }), io);
    assert.equal(result.status, 'completed', result.error);

    // The earlier turns went back to the model: this is the same conversation.
    const body = fake.messageRequests()[before]!.body;
    const transcript = JSON.stringify(body.messages);
    assert.ok(transcript.includes('Write who.txt and hello.txt'), 'the first prompt is in the history');
    assert.ok(transcript.includes('written by the agent'), 'the earlier Write call is in the history');
    assert.ok(transcript.includes('Now save the environment'));
    assert.equal(decodeResume(result.resume)!.id, decodeResume(firstResume)!.id, 'same session id');
    // Usage is this run's, not the session's running total.
    assert.equal(result.usage?.input_tokens, 610);
    assert.equal(result.usage?.output_tokens, 11);

    const env = parseEnvDump(dump);
    assert.equal(env.get('ANTHROPIC_API_KEY'), KEY);
    assert.equal(env.get('ANTHROPIC_BASE_URL'), fake.url);
    assert.equal(env.get('HOME'), ws.home);
    assert.equal(env.get('CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC'), '1');
    assert.ok(!leakedCanary(env), 'nothing of the parent process environment leaks');
    const check = checkToolEnvironment(env, {
      base: baseEnv(ws.home, ws.tmp),
      credentials: ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL'],
      added: [
        // set by the adapter
        'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC', 'CLAUDE_CODE_MAX_RETRIES',
        // set by the SDK / CLI for its own child processes (session ids, its messaging socket and
        // per-session token, entry point and version markers)
        /^CLAUDE_/, 'CLAUDECODE', 'AI_AGENT',
        // set by the CLI's Bash tool for non-interactive commands
        'GIT_EDITOR', 'COREPACK_ENABLE_AUTO_PIN', 'NoDefaultCurrentDirectoryInExePath',
      ],
    });
    assert.deepEqual(check.unexpected, [], `unexpected names in the tool environment: ${check.unexpected.join(', ')}`);
    t.diagnostic(`tool environment beyond the allow-list and credentials: ${check.added.join(' ')}`);
  });

  it('a denied tool does not run and the model is told why', TIMEOUT, async () => {
    const id = toolUseId();
    fake.enqueue(
      { blocks: [{ type: 'tool_use', id, name: 'Bash', input: { command: 'touch denied.txt' } }] },
      { blocks: [{ type: 'text', text: 'Understood.' }] },
    );
    const before = fake.messageRequests().length;
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp), decide: () => ({ behavior: 'deny', message: 'no shell on this box' }) });
    const result = await claudeCodeAdapter.run(task(ws.worktree, 'touch a file', { options: { max_retries: 0 } }), io);
    assert.equal(result.status, 'completed', result.error);
    assert.equal(fs.existsSync(path.join(ws.worktree, 'denied.txt')), false);
    assert.deepEqual(io.toolRequests.map((r) => r.tool), ['Bash']);
    const sent = toolResultsIn(fake.messageRequests()[before + 1]!.body).get(id) ?? '';
    assert.ok(sent.includes('no shell on this box'), `the denial reached the model: ${sent}`);
    const toolResult = io.messages.find((m) => m.type === 'tool_result');
    assert.equal(toolResult?.content.is_error, true);
  });

  it('a failing model reply (HTTP 500, no retries) ends the run failed with a readable error', TIMEOUT, async () => {
    fake.enqueue({ error: { status: 500, message: 'fake upstream exploded' } });
    const before = fake.messageRequests().length;
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp) });
    const result = await claudeCodeAdapter.run(task(ws.worktree, 'this will fail', { options: { max_retries: 0 } }), io);
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /fake upstream exploded/);
    assert.doesNotMatch(result.error ?? '', /\n\s+at /, 'no stack trace');
    assert.equal(fake.messageRequests().length - before, 1, 'exactly one request: no retries');
    assert.ok(io.messages.some((m) => m.type === 'error' && /fake upstream exploded/.test(String(m.content.message))));
    assert.ok(result.resume, 'the conversation can still be continued');
  });

  it('io.signal aborted while the model is answering: stopped', TIMEOUT, async () => {
    fake.enqueue({ hang: true });
    const before = fake.messageRequests().length;
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp) });
    void fake.waitForRequests(before + 1).then(() => setTimeout(() => io.controller.abort(), 200));
    const started = Date.now();
    const result = await claudeCodeAdapter.run(task(ws.worktree, 'take your time', { options: { max_retries: 0 } }), io);
    assert.equal(result.status, 'stopped');
    assert.ok(Date.now() - started < 30_000);
  });

  it('io.signal aborted while a tool runs: stopped, and the tool process is gone when run() returns', TIMEOUT, async () => {
    const marker = `agor-stop-marker-${process.pid}-${Date.now()}`;
    const late = path.join(ws.worktree, 'late.txt');
    fake.enqueue(
      { blocks: [{ type: 'tool_use', name: 'Bash', input: { command: `node -e "setTimeout(() => require('fs').writeFileSync('${late}', 'late'), 4000)" ${marker}` } }] },
      { blocks: [{ type: 'text', text: 'never reached' }] },
    );
    let toolStarted = false;
    const io = recordingIO({
      credentials: creds(),
      baseEnv: baseEnv(ws.home, ws.tmp),
      onToolRequest: () => {
        const poll = setInterval(() => {
          if (processesWith(marker).length > 0) {
            toolStarted = true;
            clearInterval(poll);
            io.controller.abort();
          }
        }, 50);
      },
    });
    const result = await claudeCodeAdapter.run(task(ws.worktree, 'run something long', { options: { max_retries: 0 } }), io);
    assert.equal(result.status, 'stopped');
    assert.ok(toolStarted, 'the tool was running when the stop came');
    assert.deepEqual(processesWith(marker), [], 'no process of the task survives');
    // Only the marked process could still write it (its 4 s timer); none is left, so it never will.
    assert.equal(fs.existsSync(late), false, 'the tool never finished');
  });

  it('a lost conversation is reported and dropped, so the next prompt starts afresh', TIMEOUT, async () => {
    const before = fake.messageRequests().length;
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp) });
    const result = await claudeCodeAdapter.run(task(ws.worktree, 'hi', { resume: '00000000-0000-4000-8000-000000000000', options: { max_retries: 0 } }), io);
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /No conversation found.*could not be resumed/s);
    assert.equal(result.resume, null);
    assert.equal(fake.messageRequests().length, before, 'no model call');
  });

  it('without ANTHROPIC_API_KEY the run fails at once and says what is missing', TIMEOUT, async () => {
    const before = fake.requests.length;
    const io = recordingIO({ credentials: {}, baseEnv: baseEnv(ws.home, ws.tmp) });
    const result = await claudeCodeAdapter.run(task(ws.worktree, 'hi'), io);
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /ANTHROPIC_API_KEY is not set/);
    assert.equal(fake.requests.length, before);
  });
});
