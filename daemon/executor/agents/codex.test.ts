import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ThreadEvent } from '@openai/codex-sdk';
import { cleanExecError, codexAdapter, codexConfig, codexEnv, decodeResume, encodeResume, mapCodexEvent, usageSince } from './codex.js';

const ev = (e: unknown) => e as ThreadEvent;

describe('mapCodexEvent', () => {
  it('a command: tool_use when it starts, tool_result (exit code, error flag) when it completes', () => {
    const started = mapCodexEvent(ev({ type: 'item.started', item: { id: 'item_1', type: 'command_execution', command: "bash -lc 'ls'", aggregated_output: '', status: 'in_progress' } }));
    assert.deepEqual(started.map((m) => [m.type, m.content]), [['tool_use', { id: 'item_1', name: 'command_execution', input: { command: "bash -lc 'ls'" } }]]);
    const done = mapCodexEvent(ev({ type: 'item.completed', item: { id: 'item_1', type: 'command_execution', command: 'x', aggregated_output: 'out\n', exit_code: 2, status: 'failed' } }));
    assert.deepEqual(done.map((m) => [m.type, m.content]), [['tool_result', { tool_use_id: 'item_1', output: 'out\n', exit_code: 2, is_error: true }]]);
    const ok = mapCodexEvent(ev({ type: 'item.completed', item: { id: 'item_2', type: 'command_execution', command: 'x', aggregated_output: '', exit_code: 0, status: 'completed' } }));
    assert.deepEqual(ok[0]!.content, { tool_use_id: 'item_2', output: '', exit_code: 0 });
  });

  it('a file change (reported once, completed) yields tool_use and tool_result together', () => {
    const out = mapCodexEvent(ev({ type: 'item.completed', item: { id: 'item_3', type: 'file_change', changes: [{ path: '/w/a.txt', kind: 'add' }, { path: '/w/b.txt', kind: 'update' }], status: 'completed' } }));
    assert.deepEqual(out.map((m) => [m.type, m.content]), [
      ['tool_use', { id: 'item_3', name: 'file_change', input: { changes: [{ path: '/w/a.txt', kind: 'add' }, { path: '/w/b.txt', kind: 'update' }] } }],
      ['tool_result', { tool_use_id: 'item_3', output: 'add /w/a.txt\nupdate /w/b.txt' }],
    ]);
  });

  it('MCP calls, web searches and plans', () => {
    assert.deepEqual(mapCodexEvent(ev({ type: 'item.started', item: { id: 'm', type: 'mcp_tool_call', server: 'gh', tool: 'search', arguments: { q: 1 }, status: 'in_progress' } }))[0]!.content,
      { id: 'm', name: 'mcp__gh__search', input: { q: 1 } });
    assert.deepEqual(mapCodexEvent(ev({ type: 'item.completed', item: { id: 'm', type: 'mcp_tool_call', server: 'gh', tool: 'search', arguments: {}, result: { content: [{ type: 'text', text: 'found' }], structured_content: null }, status: 'completed' } }))[0]!.content,
      { tool_use_id: 'm', output: 'found' });
    assert.deepEqual(mapCodexEvent(ev({ type: 'item.completed', item: { id: 'm', type: 'mcp_tool_call', server: 'gh', tool: 'search', arguments: {}, error: { message: 'nope' }, status: 'failed' } }))[0]!.content,
      { tool_use_id: 'm', output: 'nope', is_error: true });
    assert.deepEqual(mapCodexEvent(ev({ type: 'item.started', item: { id: 'w', type: 'web_search', query: 'q' } }))[0]!.content, { id: 'w', name: 'web_search', input: { query: 'q' } });
    assert.deepEqual(mapCodexEvent(ev({ type: 'item.updated', item: { id: 't', type: 'todo_list', items: [{ text: 'a', completed: false }] } }))[0]!.content,
      { id: 't', name: 'todo_list', input: { items: [{ text: 'a', completed: false }] } });
  });

  it('messages, reasoning, errors; raw is the event; turn.completed is left to run()', () => {
    const e = ev({ type: 'item.completed', item: { id: 'i', type: 'agent_message', text: 'hi' } });
    assert.deepEqual(mapCodexEvent(e), [{ type: 'text', content: { text: 'hi' }, raw: e }]);
    assert.deepEqual(mapCodexEvent(ev({ type: 'item.completed', item: { id: 'i', type: 'reasoning', text: 'hmm' } }))[0]!.content, { text: 'hmm' });
    assert.deepEqual(mapCodexEvent(ev({ type: 'item.completed', item: { id: 'i', type: 'error', message: 'warn' } }))[0]!.content, { message: 'warn', fatal: false });
    assert.deepEqual(mapCodexEvent(ev({ type: 'turn.failed', error: { message: 'bad' } }))[0]!.content, { message: 'bad' });
    assert.deepEqual(mapCodexEvent(ev({ type: 'error', message: 'worse' }))[0]!.content, { message: 'worse' });
    assert.deepEqual(mapCodexEvent(ev({ type: 'turn.completed', usage: { input_tokens: 1, cached_input_tokens: 0, output_tokens: 1, reasoning_output_tokens: 0 } })), []);
    assert.deepEqual(mapCodexEvent(ev({ type: 'thread.started', thread_id: 't' })), []);
  });
});

describe('codex configuration', () => {
  it('a custom Responses provider at the base URL, no websockets, key from OPENAI_API_KEY; no secret on argv', () => {
    const config = codexConfig('http://127.0.0.1:9/v1', { max_retries: 0 }) as any;
    assert.equal(config.model_provider, 'agor');
    assert.deepEqual(config.model_providers.agor, {
      name: 'agor', base_url: 'http://127.0.0.1:9/v1', env_key: 'OPENAI_API_KEY', wire_api: 'responses', supports_websockets: false,
      request_max_retries: 0, stream_max_retries: 0,
    });
    assert.deepEqual(config.shell_environment_policy.exclude, ['OPENAI_API_KEY', 'CODEX_API_KEY']);
    const defaults = codexConfig('http://x/v1', {}) as any;
    assert.equal(defaults.model_providers.agor.request_max_retries, undefined, "the CLI's own retries unless configured");
  });

  it('the environment is a copy of the base plus the key', () => {
    const base = { PATH: '/bin', HOME: '/h' };
    assert.deepEqual(codexEnv(base, { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'http://x' }), { PATH: '/bin', HOME: '/h', OPENAI_API_KEY: 'k' });
    assert.deepEqual(base, { PATH: '/bin', HOME: '/h' });
  });

  it('exec errors lose the routine stderr chatter', () => {
    const raw = 'Codex Exec exited with code 1: WARNING: proceeding, even though we could not create PATH aliases: x\nReading prompt from stdin...\nError: thread/resume failed: no rollout found for thread id t\n';
    assert.equal(cleanExecError(raw), 'Codex Exec exited with code 1: Error: thread/resume failed: no rollout found for thread id t');
  });

  it('usage per run from the thread totals; resume handle round-trip and bare ids', () => {
    assert.deepEqual(usageSince({ input_tokens: 70, output_tokens: 7 }, { input_tokens: 30, output_tokens: 3 }), {
      usage: { input_tokens: 40, output_tokens: 4 },
      totals: { input_tokens: 70, output_tokens: 7 },
    });
    assert.deepEqual(decodeResume(encodeResume('t1', { input_tokens: 5, output_tokens: 6 })), { id: 't1', totals: { input_tokens: 5, output_tokens: 6 } });
    assert.deepEqual(decodeResume('01a2'), { id: '01a2', totals: { input_tokens: 0, output_tokens: 0 } });
  });

  it('credential names', () => {
    assert.deepEqual([...codexAdapter.credentialNames], ['OPENAI_API_KEY', 'OPENAI_BASE_URL']);
  });

  it('a resume handle whose id is not a thread id never reaches the CLI', async () => {
    const r = await codexAdapter.run(
      { task_id: 't', session_id: 's', cwd: '/tmp', prompt: 'p', resume: '--help', options: {} },
      { emit() {}, requestTool: async () => ({ behavior: 'allow' }), getCredentials: async () => ({}), signal: new AbortController().signal, baseEnv: {} },
    );
    assert.equal(r.status, 'failed');
    assert.equal(r.resume, null);
    assert.match(r.error ?? '', /not a codex conversation id/);
  });
});
