// The codex adapter driving the REAL @openai/codex-sdk and its native CLI against a local fake
// OpenAI Responses API (custom provider: Responses wire API, no websockets, no retries): tools run
// in a real git worktree, output is normalised, usage and resume handles come back, failures and
// stops are reported as such.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codexAdapter, decodeResume } from '../../daemon/executor/agents/codex.js';
import { functionOutputsIn, startFakeResponses, type FakeResponses } from '../fakes/openai-responses.js';
import type { AgentMessage } from '../../daemon/executor/agents/types.js';
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

const KEY = 'sk-openai-fake-test-key-0123456789';
const TIMEOUT = { timeout: 180_000 };
const MODEL = 'fake-model';
const OPTIONS = { max_retries: 0 };

/** Codex warns (as a non-fatal error item) that it has no metadata for an unknown model. */
const significant = (messages: AgentMessage[]) => messages.filter((m) => !(m.type === 'error' && m.content.fatal === false));

after(cleanupTempDirs);

describe('codex adapter (real SDK, fake OpenAI Responses API)', () => {
  let fake: FakeResponses;
  const ws = agentWorkspace('codex');
  const creds = () => ({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.url });
  let firstResume: string | null = null;

  before(async () => {
    fake = await startFakeResponses();
  });
  after(async () => {
    await fake.close();
  });
  // A test that stops a run leaves the replies it never reached in the queue.
  beforeEach(() => fake.clearQueue());

  it('runs a command and a patch in the worktree and streams normalised messages', TIMEOUT, async () => {
    const patch = "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: hello.txt\n+written by the agent\n*** End Patch\nEOF\n";
    fake.enqueue(
      { items: [{ type: 'text', text: 'Checking who I am.' }, { type: 'function_call', call_id: 'call_who', name: 'exec_command', arguments: { cmd: 'id -un > who.txt', workdir: ws.worktree } }], usage: { input_tokens: 100, output_tokens: 20 } },
      { items: [{ type: 'function_call', call_id: 'call_patch', name: 'exec_command', arguments: { cmd: patch, workdir: ws.worktree } }], usage: { input_tokens: 150, output_tokens: 30 } },
      { items: [{ type: 'reasoning', summary: 'Both files are there.' }, { type: 'text', text: 'Done: who.txt and hello.txt.' }], usage: { input_tokens: 200, output_tokens: 40 } },
    );
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp) });
    const result = await codexAdapter.run(task(ws.worktree, 'Write who.txt and hello.txt', { model: MODEL, options: OPTIONS }), io);

    assert.equal(result.status, 'completed', result.error);
    assert.equal(fs.readFileSync(path.join(ws.worktree, 'who.txt'), 'utf8'), `${os.userInfo().username}\n`);
    assert.equal(fs.readFileSync(path.join(ws.worktree, 'hello.txt'), 'utf8'), 'written by the agent\n');

    const messages = significant(io.messages);
    assert.deepEqual(types(messages), ['text', 'tool_use', 'tool_result', 'tool_use', 'tool_result', 'thinking', 'text', 'usage']);
    const [text1, cmdUse, cmdResult, patchUse, patchResult, thinking, text2, usage] = messages;
    assert.deepEqual(text1!.content, { text: 'Checking who I am.' });
    assert.equal(cmdUse!.content.name, 'command_execution');
    assert.match(String((cmdUse!.content.input as { command: string }).command), /id -un > who\.txt/);
    assert.equal(cmdResult!.content.tool_use_id, cmdUse!.content.id);
    assert.equal(cmdResult!.content.exit_code, 0);
    assert.equal(patchUse!.content.name, 'file_change');
    assert.deepEqual(patchUse!.content.input, { changes: [{ path: path.join(ws.worktree, 'hello.txt'), kind: 'add' }] });
    assert.equal(patchResult!.content.tool_use_id, patchUse!.content.id);
    assert.deepEqual(thinking!.content, { text: 'Both files are there.' });
    assert.deepEqual(text2!.content, { text: 'Done: who.txt and hello.txt.' });
    assert.deepEqual(usage!.content, { input_tokens: 450, output_tokens: 90 });
    assert.ok(io.messages.every((m) => m.raw !== undefined), 'every message keeps the raw event');

    assert.deepEqual(io.toolRequests.map((r) => r.tool), ['command_execution', 'file_change']);
    assert.deepEqual(result.usage, { input_tokens: 450, output_tokens: 90 });
    assert.match(decodeResume(result.resume)!.id, /^[0-9a-f-]{36}$/);
    firstResume = result.resume;

    // One POST per model turn, to the provider's base URL, with the key; outputs carried back.
    const requests = fake.responseRequests();
    assert.equal(requests.length, 3);
    assert.equal(fake.requests.length, 3, 'nothing but the three model calls reached the fake');
    for (const r of requests) {
      assert.equal(r.body.stream, true);
      assert.equal(r.body.model, MODEL);
      assert.equal(r.headers.authorization, `Bearer ${KEY}`);
    }
    assert.ok(functionOutputsIn(requests[1]!.body).has('call_who'), 'the command output went back to the model');
    assert.ok(functionOutputsIn(requests[2]!.body).has('call_patch'), 'the patch result went back to the model');
    assert.deepEqual(io.credentialRequests, [['OPENAI_API_KEY', 'OPENAI_BASE_URL']]);
  });

  it('continues the thread with the resume handle; the tool environment is the allow-list without the key', TIMEOUT, async (t) => {
    assert.ok(firstResume, 'the first test ran');
    const before = fake.responseRequests().length;
    const dump = path.join(ws.worktree, 'env.dump');
    fake.enqueue(
      { items: [{ type: 'function_call', name: 'exec_command', arguments: { cmd: `env -0 > ${dump}`, workdir: ws.worktree } }], usage: { input_tokens: 300, output_tokens: 5 } },
      { items: [{ type: 'text', text: 'Environment saved.' }], usage: { input_tokens: 310, output_tokens: 6 } },
    );
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp) });
    const result = await codexAdapter.run(task(ws.worktree, 'Now save the environment', { model: MODEL, resume: firstResume, options: OPTIONS }), io);
    assert.equal(result.status, 'completed', result.error);

    const history = JSON.stringify(fake.responseRequests()[before]!.body.input);
    assert.ok(history.includes('Write who.txt and hello.txt'), 'the first prompt is in the history');
    assert.ok(history.includes('call_patch'), 'the earlier tool call is in the history');
    assert.equal(decodeResume(result.resume)!.id, decodeResume(firstResume)!.id, 'same thread');
    assert.deepEqual(result.usage, { input_tokens: 610, output_tokens: 11 }, "this run's usage, not the thread's running total");

    const env = parseEnvDump(dump);
    assert.equal(env.has('OPENAI_API_KEY'), false, "the agent's commands do not get the API key");
    assert.equal(env.has('CODEX_API_KEY'), false);
    assert.ok(![...env.values()].some((v) => v.includes(KEY)), 'the key appears in no variable');
    assert.equal(env.get('HOME'), ws.home);
    assert.ok(!leakedCanary(env), 'nothing of the parent process environment leaks');
    const check = checkToolEnvironment(env, {
      base: baseEnv(ws.home, ws.tmp),
      credentials: [],
      added: [
        // set by the codex CLI for its tools (thread/session ids, version, sandbox markers)
        /^CODEX_/,
        // set by codex so tools do not page or colour their output
        'COLORTERM', 'NO_COLOR', 'PAGER', 'GIT_PAGER', 'GH_PAGER', 'LC_ALL', 'LC_CTYPE',
      ],
    });
    assert.deepEqual(check.unexpected, [], `unexpected names in the tool environment: ${check.unexpected.join(', ')}`);
    t.diagnostic(`tool environment beyond the allow-list: ${check.added.join(' ')}`);
  });

  it('a failing model reply (HTTP 500, no retries) ends the run failed with a readable error', TIMEOUT, async () => {
    fake.enqueue({ error: { status: 500, message: 'fake upstream exploded' } });
    const before = fake.responseRequests().length;
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp) });
    const result = await codexAdapter.run(task(ws.worktree, 'this will fail', { model: MODEL, options: OPTIONS }), io);
    assert.equal(result.status, 'failed');
    // Codex words 5xx answers itself ("...high demand..."); a 4xx body is passed through verbatim.
    assert.ok((result.error ?? '').length > 10, `a readable error: ${result.error}`);
    assert.doesNotMatch(result.error ?? '', /\n\s+at /, 'no stack trace');
    assert.equal(fake.responseRequests().length - before, 1, 'exactly one request: no retries');
    assert.ok(io.messages.some((m) => m.type === 'error' && m.content.message === result.error));
  });

  it('a client error from the model API reaches the user verbatim', TIMEOUT, async () => {
    fake.enqueue({ error: { status: 400, type: 'invalid_request_error', message: 'fake: the prompt is too long' } });
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp) });
    const result = await codexAdapter.run(task(ws.worktree, 'this will fail too', { model: MODEL, options: OPTIONS }), io);
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /the prompt is too long/);
  });

  it('io.signal aborted while the model is answering: stopped', TIMEOUT, async () => {
    fake.enqueue({ hang: true });
    const before = fake.responseRequests().length;
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp) });
    void fake.waitForRequests(before + 1).then(() => setTimeout(() => io.controller.abort(), 200));
    const result = await codexAdapter.run(task(ws.worktree, 'take your time', { model: MODEL, options: OPTIONS }), io);
    assert.equal(result.status, 'stopped');
  });

  it('io.signal aborted while a command runs: stopped, and nothing of the task survives run()', TIMEOUT, async () => {
    const marker = `agor-stop-marker-${process.pid}-${Date.now()}`;
    const late = path.join(ws.worktree, 'late.txt');
    fake.enqueue(
      { items: [{ type: 'function_call', name: 'exec_command', arguments: { cmd: `node -e "setTimeout(() => require('fs').writeFileSync('${late}', 'late'), 4000)" ${marker}`, workdir: ws.worktree } }] },
      { items: [{ type: 'text', text: 'never reached' }] },
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
    const result = await codexAdapter.run(task(ws.worktree, 'run something long', { model: MODEL, options: OPTIONS }), io);
    assert.equal(result.status, 'stopped');
    assert.ok(toolStarted, 'the command was running when the stop came');
    assert.deepEqual(processesWith(marker), [], 'no process of the task survives');
    // Only the marked process could still write it (its 4 s timer); none is left, so it never will.
    assert.equal(fs.existsSync(late), false, 'the command never finished');
  });

  it('a denied tool stops the run (codex exec asks no one before a command: the deny comes as it starts)', TIMEOUT, async () => {
    const marker = path.join(ws.worktree, 'denied.txt');
    fake.enqueue(
      { items: [{ type: 'function_call', name: 'exec_command', arguments: { cmd: `sleep 2; touch ${marker}`, workdir: ws.worktree } }] },
      { items: [{ type: 'text', text: 'never reached' }] },
    );
    const before = fake.responseRequests().length;
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp), decide: () => ({ behavior: 'deny', message: 'no shell on this box' }) });
    const result = await codexAdapter.run(task(ws.worktree, 'touch a file', { model: MODEL, options: OPTIONS }), io);
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /command_execution was denied by policy: no shell on this box/);
    assert.equal(fake.responseRequests().length - before, 1, 'no further model turn');
    // The command line of whatever would touch it names the file: none is left, so nothing ever will.
    assert.deepEqual(processesWith(marker), [], 'no process of the denied command survives run()');
    assert.equal(fs.existsSync(marker), false, 'the denied command was stopped before it finished');
  });

  it('a lost thread is reported and dropped, so the next prompt starts afresh', TIMEOUT, async () => {
    const before = fake.responseRequests().length;
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp) });
    const result = await codexAdapter.run(task(ws.worktree, 'hi', { model: MODEL, resume: '00000000-0000-4000-8000-000000000000', options: OPTIONS }), io);
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /no rollout found.*could not be resumed/s);
    assert.doesNotMatch(result.error ?? '', /WARNING|Reading prompt/, 'without the CLI chatter');
    assert.equal(result.resume, null);
    assert.equal(fake.responseRequests().length, before, 'no model call');
  });

  it('without OPENAI_API_KEY the run fails at once and says what is missing', TIMEOUT, async () => {
    const io = recordingIO({ credentials: {}, baseEnv: baseEnv(ws.home, ws.tmp) });
    const result = await codexAdapter.run(task(ws.worktree, 'hi', { options: OPTIONS }), io);
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /OPENAI_API_KEY is not set/);
  });
});
