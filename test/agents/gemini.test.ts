// The gemini adapter driving the REAL Gemini CLI (--output-format stream-json) against a local
// fake Gemini API (GOOGLE_GEMINI_BASE_URL): tools run in a real git worktree behind the
// BeforeTool policy hook, output is normalised, usage and resume handles come back, failures and
// stops are reported as such.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { geminiAdapter } from '../../daemon/executor/agents/gemini.js';
import { functionResponsesIn, startFakeGemini, type FakeGemini } from '../fakes/gemini.js';
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

const KEY = 'gemini-fake-test-key-0123456789';
const TIMEOUT = { timeout: 180_000 };
const MODEL = 'gemini-fake';
const OPTIONS = { max_retries: 0 };

after(cleanupTempDirs);

describe('gemini adapter (real Gemini CLI, fake Gemini API)', () => {
  let fake: FakeGemini;
  const ws = agentWorkspace('gemini');
  const creds = () => ({ GEMINI_API_KEY: KEY, GOOGLE_GEMINI_BASE_URL: fake.url });
  let firstResume: string | null = null;

  before(async () => {
    fake = await startFakeGemini();
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => fake.clearQueue());

  it('runs the shell and write_file tools through the policy hook and streams normalised messages', TIMEOUT, async () => {
    const written = path.join(ws.worktree, 'hello.txt');
    fake.enqueue(
      { parts: [{ type: 'text', text: 'Checking who I am.' }, { type: 'function_call', name: 'run_shell_command', args: { command: 'id -un > who.txt' } }], usage: { input_tokens: 100, output_tokens: 20 } },
      { parts: [{ type: 'function_call', name: 'write_file', args: { file_path: written, content: 'written by the agent\n' } }], usage: { input_tokens: 150, output_tokens: 30 } },
      { parts: [{ type: 'text', text: 'Done: who.txt and hello.txt.' }], usage: { input_tokens: 200, output_tokens: 40 } },
    );
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp) });
    const result = await geminiAdapter.run(task(ws.worktree, 'Write who.txt and hello.txt', { model: MODEL, options: OPTIONS }), io);

    assert.equal(result.status, 'completed', result.error);
    assert.equal(fs.readFileSync(path.join(ws.worktree, 'who.txt'), 'utf8'), `${os.userInfo().username}\n`);
    assert.equal(fs.readFileSync(written, 'utf8'), 'written by the agent\n');

    assert.deepEqual(types(io.messages), ['text', 'tool_use', 'tool_result', 'tool_use', 'tool_result', 'text', 'usage']);
    const [text1, shellUse, shellResult, writeUse, writeResult, text2, usage] = io.messages;
    assert.deepEqual(text1!.content, { text: 'Checking who I am.' });
    assert.equal(shellUse!.content.name, 'run_shell_command');
    assert.deepEqual(shellUse!.content.input, { command: 'id -un > who.txt' });
    assert.equal(shellResult!.content.tool_use_id, shellUse!.content.id);
    assert.equal(shellResult!.content.is_error, undefined);
    assert.equal(writeUse!.content.name, 'write_file');
    assert.deepEqual(writeUse!.content.input, { file_path: written, content: 'written by the agent\n' });
    assert.equal(writeResult!.content.tool_use_id, writeUse!.content.id);
    assert.deepEqual(text2!.content, { text: 'Done: who.txt and hello.txt.' });
    assert.deepEqual(usage!.content, { input_tokens: 450, output_tokens: 90 });
    assert.ok(io.messages.every((m) => m.raw !== undefined), 'every message keeps the raw event');

    // The hook asked the policy BEFORE each tool ran.
    assert.deepEqual(io.toolRequests.map((r) => r.tool), ['run_shell_command', 'write_file']);
    assert.deepEqual(io.toolRequests[0]!.input, { command: 'id -un > who.txt' });
    assert.deepEqual(result.usage, { input_tokens: 450, output_tokens: 90 });
    assert.match(result.resume ?? '', /^[0-9a-f-]{36}$/);
    firstResume = result.resume;

    assert.equal(fake.requests.length, 3, 'nothing but the three model calls reached the fake');
    for (const r of fake.streamRequests()) {
      assert.equal(r.headers['x-goog-api-key'], KEY);
      assert.match(r.url, new RegExp(`^/v1beta/models/${MODEL}:streamGenerateContent\\?alt=sse$`));
    }
    assert.deepEqual(functionResponsesIn(fake.streamRequests()[1]!.body).map((f) => f.name), ['run_shell_command']);
    assert.deepEqual(functionResponsesIn(fake.streamRequests()[2]!.body).map((f) => f.name), ['run_shell_command', 'write_file']);
    assert.deepEqual(io.credentialRequests, [['GEMINI_API_KEY', 'GOOGLE_GEMINI_BASE_URL']]);
  });

  it('continues the session with the resume handle; the tool environment is the allow-list without the key', TIMEOUT, async (t) => {
    assert.ok(firstResume, 'the first test ran');
    const before = fake.streamRequests().length;
    const dump = path.join(ws.worktree, 'env.dump');
    fake.enqueue(
      { parts: [{ type: 'function_call', name: 'run_shell_command', args: { command: `env -0 > ${dump}` } }], usage: { input_tokens: 300, output_tokens: 5 } },
      { parts: [{ type: 'text', text: 'Environment saved.' }], usage: { input_tokens: 310, output_tokens: 6 } },
    );
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp) });
    const result = await geminiAdapter.run(task(ws.worktree, 'Now save the environment', { model: MODEL, resume: firstResume, options: OPTIONS }), io);
    assert.equal(result.status, 'completed', result.error);

    const history = JSON.stringify(fake.streamRequests()[before]!.body.contents);
    assert.ok(history.includes('Write who.txt and hello.txt'), 'the first prompt is in the history');
    assert.ok(history.includes('written by the agent'), 'the earlier write_file call is in the history');
    assert.equal(result.resume, firstResume, 'same session');
    assert.deepEqual(result.usage, { input_tokens: 610, output_tokens: 11 });

    const env = parseEnvDump(dump);
    assert.equal(env.has('GEMINI_API_KEY'), false, "the agent's commands do not get the API key");
    assert.ok(![...env.values()].some((v) => v.includes(KEY)), 'the key appears in no variable');
    assert.equal(env.get('GOOGLE_GEMINI_BASE_URL'), fake.url);
    assert.equal(env.get('HOME'), ws.home);
    assert.ok(!leakedCanary(env), 'nothing of the parent process environment leaks');
    const check = checkToolEnvironment(env, {
      base: baseEnv(ws.home, ws.tmp),
      credentials: ['GOOGLE_GEMINI_BASE_URL'],
      added: [
        // set by the adapter
        'GEMINI_CLI_HOME', 'GEMINI_CLI_NO_RELAUNCH', 'GEMINI_CLI_TRUST_WORKSPACE',
        // set by the CLI for its shell tool: a marker, and no prompts, pagers, editors or git hooks
        'GEMINI_CLI', 'PAGER', 'GIT_PAGER', 'GIT_TERMINAL_PROMPT', 'GIT_ASKPASS', 'SSH_ASKPASS', 'GCM_INTERACTIVE',
        'GH_PROMPT_DISABLED', 'DISPLAY', 'DBUS_SESSION_BUS_ADDRESS', /^GIT_CONFIG_/,
      ],
    });
    assert.deepEqual(check.unexpected, [], `unexpected names in the tool environment: ${check.unexpected.join(', ')}`);
    t.diagnostic(`tool environment beyond the allow-list and credentials: ${check.added.join(' ')}`);
  });

  it('a denied tool does not run and the model is told why', TIMEOUT, async () => {
    fake.enqueue(
      { parts: [{ type: 'function_call', name: 'run_shell_command', args: { command: 'touch denied.txt' } }] },
      { parts: [{ type: 'text', text: 'Understood.' }] },
    );
    const before = fake.streamRequests().length;
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp), decide: () => ({ behavior: 'deny', message: 'no shell on this box' }) });
    const result = await geminiAdapter.run(task(ws.worktree, 'touch a file', { model: MODEL, options: OPTIONS }), io);
    assert.equal(result.status, 'completed', result.error);
    assert.equal(fs.existsSync(path.join(ws.worktree, 'denied.txt')), false);
    assert.deepEqual(io.toolRequests.map((r) => r.tool), ['run_shell_command']);
    const toolResult = io.messages.find((m) => m.type === 'tool_result');
    assert.equal(toolResult?.content.is_error, true);
    assert.match(String(toolResult?.content.output), /no shell on this box/);
    const sent = JSON.stringify(functionResponsesIn(fake.streamRequests()[before + 1]!.body));
    assert.ok(sent.includes('no shell on this box'), `the denial reached the model: ${sent}`);
  });

  it('a failing model reply (HTTP 500, no retries) ends the run failed with a readable error', TIMEOUT, async () => {
    fake.enqueue({ error: { status: 500, message: 'fake upstream exploded' } });
    const before = fake.streamRequests().length;
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp) });
    const result = await geminiAdapter.run(task(ws.worktree, 'this will fail', { model: MODEL, options: OPTIONS }), io);
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /fake upstream exploded/);
    assert.doesNotMatch(result.error ?? '', /\n\s+at /, 'no stack trace');
    assert.equal(fake.streamRequests().length - before, 1, 'exactly one request: no retries');
    assert.ok(io.messages.some((m) => m.type === 'error' && /fake upstream exploded/.test(String(m.content.message))));
  });

  it('io.signal aborted while the model is answering: stopped', TIMEOUT, async () => {
    fake.enqueue({ hang: true });
    const before = fake.streamRequests().length;
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp) });
    void fake.waitForRequests(before + 1).then(() => setTimeout(() => io.controller.abort(), 200));
    const result = await geminiAdapter.run(task(ws.worktree, 'take your time', { model: MODEL, options: OPTIONS }), io);
    assert.equal(result.status, 'stopped');
  });

  it('io.signal aborted while a tool runs: stopped, and the tool process is gone when run() returns', TIMEOUT, async () => {
    const marker = `agor-stop-marker-${process.pid}-${Date.now()}`;
    const late = path.join(ws.worktree, 'late.txt');
    fake.enqueue(
      { parts: [{ type: 'function_call', name: 'run_shell_command', args: { command: `node -e "setTimeout(() => require('fs').writeFileSync('${late}', 'late'), 4000)" ${marker}` } }] },
      { parts: [{ type: 'text', text: 'never reached' }] },
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
    const result = await geminiAdapter.run(task(ws.worktree, 'run something long', { model: MODEL, options: OPTIONS }), io);
    assert.equal(result.status, 'stopped');
    assert.ok(toolStarted, 'the tool was running when the stop came');
    assert.deepEqual(processesWith(marker), [], 'no process of the task survives');
    // Only the marked process could still write it (its 4 s timer); none is left, so it never will.
    assert.equal(fs.existsSync(late), false, 'the tool never finished');
  });

  it('a lost session is reported and dropped, so the next prompt starts afresh', TIMEOUT, async () => {
    const io = recordingIO({ credentials: creds(), baseEnv: baseEnv(ws.home, ws.tmp) });
    const result = await geminiAdapter.run(task(ws.worktree, 'hi', { model: MODEL, resume: '00000000-0000-4000-8000-000000000000', options: OPTIONS }), io);
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /could not be resumed/);
    assert.equal(result.resume, null);
  });

  it('without GEMINI_API_KEY the run fails at once and says what is missing', TIMEOUT, async () => {
    const io = recordingIO({ credentials: {}, baseEnv: baseEnv(ws.home, ws.tmp) });
    const result = await geminiAdapter.run(task(ws.worktree, 'hi', { options: OPTIONS }), io);
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /GEMINI_API_KEY is not set/);
  });
});
