import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_AGENTS } from '../protocol/agents.js';
import { configSchema } from '../config/schema.js';
import { loadAdapter } from '../executor/agents/index.js';
import { BUILTIN_AGENT_CREDENTIALS, BUILTIN_AGENT_REQUIRED_CREDENTIALS, knownAgentNames, requiredAgentCredentials, resolveAgent } from './agents.js';

describe('agent profiles', () => {
  it("the daemon's credential allow-list of each built-in agent is what its adapter asks for", async (t) => {
    for (const kind of BUILTIN_AGENTS) {
      let names: readonly string[];
      try {
        names = (await loadAdapter(kind, {})).credentialNames;
      } catch (error) {
        t.diagnostic(`${kind}: adapter not loadable here (${(error as Error).message}); skipped`);
        continue;
      }
      assert.deepEqual([...names].sort(), [...BUILTIN_AGENT_CREDENTIALS[kind]].sort(), kind);
    }
  });

  it('what each agent cannot run without is among what it may be given; command agents require nothing', () => {
    for (const kind of BUILTIN_AGENTS) {
      assert.ok(BUILTIN_AGENT_REQUIRED_CREDENTIALS[kind].length > 0, kind);
      for (const name of BUILTIN_AGENT_REQUIRED_CREDENTIALS[kind]) assert.ok(BUILTIN_AGENT_CREDENTIALS[kind].includes(name), `${kind}: ${name}`);
    }
    const config = configSchema.parse({ agents: { 'my-bot': { type: 'command', command: ['/usr/bin/bot'], env: ['BOT_TOKEN'] } } });
    assert.deepEqual(requiredAgentCredentials(config), { 'claude-code': ['ANTHROPIC_API_KEY'], codex: ['OPENAI_API_KEY'], gemini: ['GEMINI_API_KEY'], 'my-bot': [] });
  });

  it('resolves built-ins and configured command agents; refuses the rest', () => {
    const config = configSchema.parse({ agents: { 'my-bot': { type: 'command', command: ['/usr/bin/bot', '--json'], env: ['BOT_TOKEN'] } } });
    assert.deepEqual(resolveAgent(config, 'my-bot'), { name: 'my-bot', kind: 'command', options: { command: ['/usr/bin/bot', '--json'], env: ['BOT_TOKEN'] }, credentialNames: ['BOT_TOKEN'] });
    assert.equal(resolveAgent(config, 'claude-code')?.kind, 'claude-code');
    assert.equal(resolveAgent(config, 'command'), null, '"command" is a kind, not an agent name');
    assert.equal(resolveAgent(config, 'constructor'), null);
    assert.deepEqual(knownAgentNames(config), ['claude-code', 'codex', 'gemini', 'my-bot']);
  });

  it('config refuses built-in names, bad names, empty argv and refused environment names', () => {
    const bad = [
      { 'claude-code': { type: 'command', command: ['x'] } },
      { 'Bad Name': { type: 'command', command: ['x'] } },
      { bot: { type: 'command', command: [] } },
      { bot: { type: 'command', command: ['x'], env: ['LD_PRELOAD'] } },
      { bot: { type: 'command', command: ['x'], env: ['PATH'] } },
      { bot: { type: 'shell', command: ['x'] } },
      { bot: { type: 'command', command: ['x'], extra: 1 } },
    ];
    for (const agents of bad) assert.equal(configSchema.safeParse({ agents }).success, false, JSON.stringify(agents));
    assert.deepEqual(configSchema.parse({}).agents, {});
  });
});
