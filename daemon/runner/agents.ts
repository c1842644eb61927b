// What a session's `agent` means: THE place that turns a name into something runnable. A name is
// a built-in agent (daemon/protocol/agents.ts) or a command agent profile from config.yaml.
import type { AgorConfig } from '../config/schema.js';
import { BUILTIN_AGENTS, isBuiltinAgent, type AgentKind, type BuiltinAgent } from '../protocol/agents.js';

/**
 * The secrets each built-in agent may be handed (of the session creator's, the ones that are set).
 * The daemon answers an executor's get_credentials with these names only, whatever it asks for:
 * the executor runs as a user's identity, so what it asks is not trusted. Kept equal to each
 * adapter's `credentialNames` by daemon/runner/agents.test.ts.
 */
export const BUILTIN_AGENT_CREDENTIALS: Readonly<Record<BuiltinAgent, readonly string[]>> = {
  'claude-code': ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL'],
  codex: ['OPENAI_API_KEY', 'OPENAI_BASE_URL'],
  gemini: ['GEMINI_API_KEY', 'GOOGLE_GEMINI_BASE_URL'],
};

/**
 * Of those, the ones a built-in agent cannot run without: its adapter fails the task at once when
 * the creator has not set them. The UI warns before a session is made (info.agent_credentials).
 */
export const BUILTIN_AGENT_REQUIRED_CREDENTIALS: Readonly<Record<BuiltinAgent, readonly string[]>> = {
  'claude-code': ['ANTHROPIC_API_KEY'],
  codex: ['OPENAI_API_KEY'],
  gemini: ['GEMINI_API_KEY'],
};

export interface AgentProfile {
  /** The session's agent name. */
  name: string;
  /** Which adapter the executor runs (run_task.agent). */
  kind: AgentKind;
  /** run_task.options. */
  options: Record<string, unknown>;
  /** The only credential names the daemon will deliver to this agent's executor. */
  credentialNames: readonly string[];
}

/** The profile for `name`, or null when no built-in or configured agent has that name. */
export function resolveAgent(config: Pick<AgorConfig, 'agents'>, name: string): AgentProfile | null {
  if (isBuiltinAgent(name)) return { name, kind: name, options: {}, credentialNames: BUILTIN_AGENT_CREDENTIALS[name] };
  const profile = Object.hasOwn(config.agents, name) ? config.agents[name] : undefined;
  if (!profile) return null;
  return { name, kind: 'command', options: { command: [...profile.command], env: [...profile.env] }, credentialNames: profile.env };
}

/** Every name a session may use, built-ins first. */
export function knownAgentNames(config: Pick<AgorConfig, 'agents'>): string[] {
  return [...BUILTIN_AGENTS, ...Object.keys(config.agents).sort()];
}

/**
 * For each name a session may use, the secrets of its creator it cannot run without. A command
 * agent's `env` names are handed over when set, never required: the daemon cannot know whether its
 * CLI needs them.
 */
export function requiredAgentCredentials(config: Pick<AgorConfig, 'agents'>): Record<string, string[]> {
  return Object.fromEntries(knownAgentNames(config).map((name) => [name, isBuiltinAgent(name) ? [...BUILTIN_AGENT_REQUIRED_CREDENTIALS[name]] : []]));
}
