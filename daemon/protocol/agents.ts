// The agent kinds an executor can run: THE list of built-in agents (sessions accept these plus
// the command agents named in config.yaml). Part of the protocol because `run_task.agent` is one
// of them, and both ends import it: the daemon to validate sessions, the executor to pick an adapter.

/** Agents that ship with agor (a session's `agent` may name one directly). */
export const BUILTIN_AGENTS = ['claude-code', 'codex', 'gemini'] as const;
export type BuiltinAgent = (typeof BUILTIN_AGENTS)[number];

/** What `run_task.agent` may be: a built-in, or `command` (a configured CLI; see daemon/runner/agents.ts). */
export const AGENT_KINDS = [...BUILTIN_AGENTS, 'command'] as const;
export type AgentKind = (typeof AGENT_KINDS)[number];

export function isBuiltinAgent(name: string): name is BuiltinAgent {
  return (BUILTIN_AGENTS as readonly string[]).includes(name);
}
