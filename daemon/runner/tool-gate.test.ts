import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withGateTimeout } from './tool-gate.js';

describe('withGateTimeout', () => {
  it("lengthens Gemini's hook wait past the ask timeout, never shortens it, leaves other agents alone", () => {
    assert.deepEqual(withGateTimeout('gemini', {}, 600), {}, 'the default 30 minutes already covers 10');
    assert.deepEqual(withGateTimeout('gemini', { max_retries: 0 }, 3600), { max_retries: 0, tool_decision_timeout_ms: 3_660_000 });
    assert.deepEqual(withGateTimeout('gemini', { tool_decision_timeout_ms: 10_000_000 }, 3600), { tool_decision_timeout_ms: 10_000_000 });
    assert.deepEqual(withGateTimeout('claude-code', {}, 86_400), {});
  });
});
