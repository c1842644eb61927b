import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SDKMessage, SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import { claudeCodeAdapter, claudeEnv, decodeResume, encodeResume, mapClaudeMessage, resultTotals, usageSince } from './claude-code.js';

// SDK messages in the shapes the SDK yields (only the fields the adapter reads, cast).
const assistant = (content: unknown[], extra: Record<string, unknown> = {}) =>
  ({ type: 'assistant', message: { role: 'assistant', content }, parent_tool_use_id: null, uuid: 'u1', session_id: 's1', ...extra }) as unknown as SDKMessage;
const user = (content: unknown) => ({ type: 'user', message: { role: 'user', content }, parent_tool_use_id: null, session_id: 's1' }) as unknown as SDKMessage;
const result = (fields: Record<string, unknown>) =>
  ({ type: 'result', subtype: 'success', is_error: false, session_id: 's1', total_cost_usd: 0, modelUsage: {}, usage: {}, ...fields }) as unknown as SDKResultMessage;

describe('mapClaudeMessage', () => {
  it('assistant blocks: text, thinking, tool_use (redacted thinking kept as such); raw is the SDK message', () => {
    const msg = assistant([
      { type: 'thinking', thinking: 'hmm', signature: 'sig' },
      { type: 'redacted_thinking', data: 'xx' },
      { type: 'text', text: 'hello' },
      { type: 'text', text: '' },
      { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } },
    ]);
    const out = mapClaudeMessage(msg);
    assert.deepEqual(out.map((m) => [m.type, m.content]), [
      ['thinking', { text: 'hmm' }],
      ['thinking', { text: '', redacted: true }],
      ['text', { text: 'hello' }],
      ['tool_use', { id: 'toolu_1', name: 'Bash', input: { command: 'ls' } }],
    ]);
    assert.ok(out.every((m) => m.raw === msg));
  });

  it('an assistant message standing for an API error becomes an error', () => {
    const out = mapClaudeMessage(assistant([{ type: 'text', text: 'API Error: 500 boom' }], { error: 'server_error' }));
    assert.deepEqual(out.map((m) => [m.type, m.content]), [['error', { message: 'API Error: 500 boom', code: 'server_error' }]]);
  });

  it('user tool results: string or block content, errors flagged; other user content ignored', () => {
    const out = mapClaudeMessage(user([
      { type: 'tool_result', tool_use_id: 'toolu_1', content: 'plain output' },
      { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'a' }, { type: 'image', source: {} }, { type: 'text', text: 'b' }], is_error: true },
      { type: 'text', text: 'not a tool result' },
    ]));
    assert.deepEqual(out.map((m) => [m.type, m.content]), [
      ['tool_result', { tool_use_id: 'toolu_1', output: 'plain output' }],
      ['tool_result', { tool_use_id: 'toolu_2', output: 'a\n[image]\nb', is_error: true }],
    ]);
    assert.deepEqual(mapClaudeMessage(user('a plain prompt')), []);
  });

  it('system messages and results map to nothing here (run() turns the result into usage)', () => {
    assert.deepEqual(mapClaudeMessage({ type: 'system', subtype: 'init', session_id: 's1' } as unknown as SDKMessage), []);
    assert.deepEqual(mapClaudeMessage(result({})), []);
  });
});

describe('usage', () => {
  it('totals come from modelUsage (every model, cache reads and writes counted as input) and total_cost_usd', () => {
    const r = result({
      total_cost_usd: 0.5,
      modelUsage: {
        a: { inputTokens: 10, outputTokens: 2, cacheReadInputTokens: 100, cacheCreationInputTokens: 5, costUSD: 0.3 },
        b: { inputTokens: 1, outputTokens: 1, cacheReadInputTokens: 0, cacheCreationInputTokens: 0, costUSD: 0.2 },
      },
    });
    assert.deepEqual(resultTotals(r), { input_tokens: 116, output_tokens: 3, cost_usd: 0.5 });
  });

  it("a run's usage is the totals minus those it resumed from; zeroed totals count as nothing", () => {
    const base = { input_tokens: 30, output_tokens: 3, cost_usd: 0.00018 };
    assert.deepEqual(usageSince({ input_tokens: 70, output_tokens: 7, cost_usd: 0.00042 }, base), {
      usage: { input_tokens: 40, output_tokens: 4, cost_usd: 0.00024 },
      totals: { input_tokens: 70, output_tokens: 7, cost_usd: 0.00042 },
    });
    assert.deepEqual(usageSince({ input_tokens: 0, output_tokens: 0, cost_usd: 0 }, base), {
      usage: { input_tokens: 0, output_tokens: 0, cost_usd: 0 },
      totals: base,
    });
  });
});

describe('resume handle', () => {
  it('round-trips the session id and totals', () => {
    const h = encodeResume('abc', { input_tokens: 1, output_tokens: 2, cost_usd: 0.5 });
    assert.deepEqual(decodeResume(h), { id: 'abc', totals: { input_tokens: 1, output_tokens: 2, cost_usd: 0.5 } });
  });

  it('accepts a bare session id and rejects junk totals', () => {
    assert.deepEqual(decodeResume('0f0e-11'), { id: '0f0e-11', totals: { input_tokens: 0, output_tokens: 0, cost_usd: 0 } });
    assert.equal(decodeResume(null), null);
    assert.deepEqual(decodeResume('{"id":"x","totals":{"input_tokens":-5,"output_tokens":"9"}}'), { id: 'x', totals: { input_tokens: 0, output_tokens: 0, cost_usd: 0 } });
    assert.deepEqual(decodeResume('{broken'), { id: '{broken', totals: { input_tokens: 0, output_tokens: 0, cost_usd: 0 } });
  });
});

describe('claudeEnv', () => {
  const base = { PATH: '/usr/bin:/bin', HOME: '/home/u', USER: 'u' };

  it('a copy of the base environment plus the key and the no-outside-traffic switch', () => {
    const env = claudeEnv(base, { ANTHROPIC_API_KEY: 'k' }, {});
    assert.deepEqual(env, { ...base, ANTHROPIC_API_KEY: 'k', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' });
    assert.deepEqual(base, { PATH: '/usr/bin:/bin', HOME: '/home/u', USER: 'u' }, 'the base is not modified');
  });

  it("the base URL: the creator's credential first, then the configured option", () => {
    assert.equal(claudeEnv(base, { ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: 'http://cred' }, { base_url: 'http://opt' }).ANTHROPIC_BASE_URL, 'http://cred');
    assert.equal(claudeEnv(base, { ANTHROPIC_API_KEY: 'k' }, { base_url: 'http://opt' }).ANTHROPIC_BASE_URL, 'http://opt');
  });

  it('max_retries sets CLAUDE_CODE_MAX_RETRIES; otherwise the CLI default', () => {
    assert.equal(claudeEnv(base, { ANTHROPIC_API_KEY: 'k' }, { max_retries: 0 }).CLAUDE_CODE_MAX_RETRIES, '0');
    assert.equal(claudeEnv(base, { ANTHROPIC_API_KEY: 'k' }, {}).CLAUDE_CODE_MAX_RETRIES, undefined);
    assert.equal(claudeEnv(base, { ANTHROPIC_API_KEY: 'k' }, { max_retries: 'lots' }).CLAUDE_CODE_MAX_RETRIES, undefined);
  });

  it('credential names', () => {
    assert.deepEqual([...claudeCodeAdapter.credentialNames], ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL']);
  });
});

describe('claudeCodeAdapter.run without spawning', () => {
  it('an already aborted task is stopped before asking for credentials', async () => {
    const controller = new AbortController();
    controller.abort();
    let asked = false;
    const r = await claudeCodeAdapter.run(
      { task_id: 't', session_id: 's', cwd: '/tmp', prompt: 'p', resume: 'h', options: {} },
      { emit() {}, requestTool: async () => ({ behavior: 'allow' }), getCredentials: async () => ((asked = true), {}), signal: controller.signal, baseEnv: {} },
    );
    assert.deepEqual(r, { status: 'stopped', resume: 'h' });
    assert.equal(asked, false);
  });

  it('a resume handle whose id is not a session id never reaches the CLI', async () => {
    const emitted: string[] = [];
    const r = await claudeCodeAdapter.run(
      { task_id: 't', session_id: 's', cwd: '/tmp', prompt: 'p', resume: '{"id":"--dangerously-skip-permissions"}', options: {} },
      { emit: (m) => emitted.push(m.type), requestTool: async () => ({ behavior: 'allow' }), getCredentials: async () => ({}), signal: new AbortController().signal, baseEnv: {} },
    );
    assert.equal(r.status, 'failed');
    assert.equal(r.resume, null);
    assert.match(r.error ?? '', /not a claude-code conversation id/);
    assert.deepEqual(emitted, ['error']);
  });
});
