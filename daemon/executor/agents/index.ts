// The adapter registry: which code runs an agent kind. The command agent is built in; the others are
// imported only when asked for, so a missing or broken agent SDK cannot break the command agent.
import type { AgentKind } from '../../protocol/agents.js';
import { createCommandAdapter } from './command.js';
import type { AgentAdapter } from './types.js';

type AdapterModule = { default?: unknown } & Record<string, unknown>;

const LAZY: Record<Exclude<AgentKind, 'command'>, () => Promise<AdapterModule>> = {
  'claude-code': () => import('./claude-code.js'),
  codex: () => import('./codex.js'),
  gemini: () => import('./gemini.js'),
};

function isAdapter(value: unknown): value is AgentAdapter {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as AgentAdapter).run === 'function' &&
    Array.isArray((value as AgentAdapter).credentialNames)
  );
}

/** The adapter for `kind`; throws with a message fit for the task's error when it cannot load. */
export async function loadAdapter(kind: AgentKind, options: Record<string, unknown>): Promise<AgentAdapter> {
  if (kind === 'command') return createCommandAdapter(options);
  const load = LAZY[kind];
  if (!load) throw new Error(`unknown agent ${JSON.stringify(kind)}`);
  let mod: AdapterModule;
  try {
    mod = await load();
  } catch (error) {
    throw new Error(`the ${kind} agent is not available on this machine: ${(error as Error).message}`);
  }
  const adapter = isAdapter(mod.default) ? mod.default : Object.values(mod).find(isAdapter);
  if (!adapter) throw new Error(`the ${kind} agent module exports no adapter`);
  return adapter;
}
