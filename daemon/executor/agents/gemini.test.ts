import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gateSocketPath, geminiAdapter, geminiSettings, mapGeminiEvent, parseGeminiLine, statsUsage } from './gemini.js';

// Lines as the Gemini CLI 0.61 writes them with --output-format stream-json, recorded from real runs
// against the fake server (the warning line is in the shape its StreamJsonFormatter writes).
const RECORDED = [
  '{"type":"init","timestamp":"2026-11-22T02:50:05.192Z","session_id":"ff8846b7-8fa4-4a2f-bbc6-596a7b8c550f","model":"gemini-fake"}',
  '{"type":"message","timestamp":"2026-11-22T02:50:05.198Z","role":"user","content":"do the thing please"}',
  '{"type":"message","timestamp":"2026-11-22T02:50:05.252Z","role":"assistant","content":"Running.","delta":true}',
  '{"type":"tool_use","timestamp":"2026-11-22T02:50:05.406Z","tool_name":"run_shell_command","tool_id":"run_shell_command__run_shell_command_1795315805253_0","parameters":{"command":"id -un > who.txt"}}',
  '{"type":"tool_result","timestamp":"2026-11-22T02:50:05.590Z","tool_id":"run_shell_command__run_shell_command_1795315805253_0","status":"success","output":""}',
  '{"type":"tool_use","timestamp":"2026-11-22T03:08:04.638Z","tool_name":"run_shell_command","tool_id":"run_shell_command__run_shell_command_1795316884542_0","parameters":{"command":"touch denied.txt"}}',
  '{"type":"tool_result","timestamp":"2026-11-22T03:08:04.881Z","tool_id":"run_shell_command__run_shell_command_1795316884542_0","status":"error","output":"Tool execution blocked: no touching","error":{"type":"policy_violation","message":"Tool execution blocked: no touching"}}',
  '{"type":"error","timestamp":"2026-11-22T03:08:04.890Z","severity":"warning","message":"Loop detected, stopping execution"}',
  '{"type":"message","timestamp":"2026-11-22T02:50:05.722Z","role":"assistant","content":"All done.","delta":true}',
  '{"type":"result","timestamp":"2026-11-22T02:50:05.732Z","status":"success","stats":{"total_tokens":360,"input_tokens":300,"output_tokens":60,"cached":0,"input":300,"duration_ms":542,"tool_calls":2,"models":{"gemini-fake":{"total_tokens":360,"input_tokens":300,"output_tokens":60,"cached":0,"input":300}}}}',
];

describe('gemini stream-json parsing', () => {
  it('parses event lines and ignores anything else', () => {
    assert.equal(parseGeminiLine(RECORDED[0]!)?.type, 'init');
    assert.equal(parseGeminiLine('YOLO mode is enabled.'), null);
    assert.equal(parseGeminiLine(''), null);
    assert.equal(parseGeminiLine('{not json'), null);
    assert.equal(parseGeminiLine('{"no":"type"}'), null);
    assert.equal(parseGeminiLine('  {"type":"message","role":"assistant","content":"x"}\r')?.type, 'message');
  });

  it('maps a recorded run to normalised messages, keeping the raw events', () => {
    const messages = RECORDED.map((l) => parseGeminiLine(l)!).flatMap(mapGeminiEvent);
    assert.deepEqual(
      messages.map((m) => [m.type, m.content]),
      [
        ['text', { text: 'Running.' }],
        ['tool_use', { id: 'run_shell_command__run_shell_command_1795315805253_0', name: 'run_shell_command', input: { command: 'id -un > who.txt' } }],
        ['tool_result', { tool_use_id: 'run_shell_command__run_shell_command_1795315805253_0', output: '' }],
        ['tool_use', { id: 'run_shell_command__run_shell_command_1795316884542_0', name: 'run_shell_command', input: { command: 'touch denied.txt' } }],
        ['tool_result', { tool_use_id: 'run_shell_command__run_shell_command_1795316884542_0', output: 'Tool execution blocked: no touching', is_error: true }],
        ['error', { message: 'Loop detected, stopping execution', fatal: false }],
        ['text', { text: 'All done.' }],
        ['usage', { input_tokens: 300, output_tokens: 60 }],
      ],
    );
    assert.ok(messages.every((m) => m.raw && typeof m.raw === 'object'));
  });

  it('an error result yields its usage and the error', () => {
    const line = '{"type":"result","timestamp":"2026-11-22T03:08:07.797Z","status":"error","error":{"type":"unknown","message":"[API Error: {\\"error\\":{\\"code\\":500,\\"message\\":\\"fake upstream exploded\\",\\"status\\":\\"INTERNAL\\"}}]"},"stats":{"total_tokens":0,"input_tokens":0,"output_tokens":0,"cached":0,"input":0,"duration_ms":0,"tool_calls":0,"models":{}}}';
    const messages = mapGeminiEvent(parseGeminiLine(line)!);
    assert.deepEqual(messages.map((m) => m.type), ['usage', 'error']);
    assert.match(String(messages[1]!.content.message), /fake upstream exploded/);
  });

  it('a tool error without display output carries the error message', () => {
    const [m] = mapGeminiEvent({ type: 'tool_result', tool_id: 't1', status: 'error', output: '', error: { type: 'x', message: 'boom' } });
    assert.deepEqual(m!.content, { tool_use_id: 't1', output: 'boom', is_error: true });
  });

  it('usage tolerates missing or odd stats', () => {
    assert.deepEqual(statsUsage(undefined), { input_tokens: 0, output_tokens: 0 });
    assert.deepEqual(statsUsage({ input_tokens: 'x', output_tokens: 3 }), { input_tokens: 0, output_tokens: 3 });
  });
});

describe('gemini settings and tool gate', () => {
  it('selects API-key auth, turns off telemetry and updates, redacts the key, installs the BeforeTool hook on every tool', () => {
    const s = geminiSettings("'/usr/bin/node' '/h/hook.mjs' '/h/gates'", 1234, { max_retries: 0 }) as any;
    assert.equal(s.security.auth.selectedType, 'gemini-api-key');
    assert.deepEqual(s.security.environmentVariableRedaction, { enabled: true, blocked: ['GEMINI_API_KEY'] });
    assert.equal(s.privacy.usageStatisticsEnabled, false);
    assert.equal(s.telemetry.enabled, false);
    assert.equal(s.general.disableAutoUpdate, true);
    assert.equal(s.general.maxAttempts, 1);
    assert.equal(s.hooksConfig.enabled, true);
    assert.deepEqual(s.hooks.BeforeTool, [
      { matcher: '.*', hooks: [{ name: 'agor-tool-policy', type: 'command', command: "'/usr/bin/node' '/h/hook.mjs' '/h/gates'", timeout: 1234 }] },
    ]);
    assert.equal((geminiSettings('x', 1, {}) as any).general.maxAttempts, undefined, 'the CLI default unless configured');
    assert.equal((geminiSettings('x', 1, { max_retries: 99 }) as any).general.maxAttempts, 10, 'the CLI caps attempts at 10');
    assert.ok(!JSON.stringify(s).includes('KEY='), 'no secret in the settings file');
  });

  it('the gate socket path is derived from the session id and short', () => {
    const a = gateSocketPath('/home/u/.agor-agents/gemini/gates', '6f85d0a0-29fb-418a-89cd-f9cee13527a8');
    assert.equal(a, gateSocketPath('/home/u/.agor-agents/gemini/gates', '6f85d0a0-29fb-418a-89cd-f9cee13527a8'));
    assert.notEqual(a, gateSocketPath('/home/u/.agor-agents/gemini/gates', 'another'));
    assert.match(a, /\/gates\/[0-9a-f]{16}\.sock$/);
  });

  it('a resume handle that is not a session id never reaches argv', async () => {
    let spawned = false;
    const r = await geminiAdapter.run(
      { task_id: 't', session_id: 's', cwd: '/tmp', prompt: 'p', resume: '--yolo', options: {} },
      {
        emit() {},
        requestTool: async () => ((spawned = true), { behavior: 'allow' as const }),
        getCredentials: async () => ({ GEMINI_API_KEY: 'k' }),
        signal: new AbortController().signal,
        baseEnv: { HOME: '/nonexistent-home-for-test' },
      },
    );
    assert.equal(r.status, 'failed');
    assert.equal(r.resume, null);
    assert.match(r.error ?? '', /not a gemini session id/);
    assert.equal(spawned, false);
  });

  it('credential names', () => {
    assert.deepEqual([...geminiAdapter.credentialNames], ['GEMINI_API_KEY', 'GOOGLE_GEMINI_BASE_URL']);
  });
});
