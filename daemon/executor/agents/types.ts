/**
 * The contract between the executor core and one agent adapter (claude-code, codex, gemini,
 * command). An adapter runs ONE task inside the executor process, as whatever Unix identity the
 * spawn path gave it, and talks to nothing but this interface: it never sees the daemon, its
 * database, its config or its environment.
 */

/** Normalised output kinds; `raw` keeps the agent's own payload. */
export type AgentMessageType = 'text' | 'thinking' | 'tool_use' | 'tool_result' | 'error' | 'usage';

export interface AgentMessage {
  type: AgentMessageType;
  /** text / thinking: { text }; tool_use: { id, name, input }; tool_result: { tool_use_id, output, is_error? };
   *  error: { message }; usage: { input_tokens?, output_tokens?, cost_usd? } */
  content: Record<string, unknown>;
  raw?: unknown;
}

export interface AgentUsage {
  input_tokens?: number;
  output_tokens?: number;
  cost_usd?: number;
}

export interface AgentTask {
  task_id: string;
  session_id: string;
  /** Absolute path of the worktree: the agent's working directory. */
  cwd: string;
  prompt: string;
  /** Handle returned by a previous run of this session (continues the conversation), or null. */
  resume: string | null;
  model?: string;
  /** Agent-specific options from the daemon's config (e.g. the command agent's argv). */
  options: Record<string, unknown>;
}

export interface AgentIO {
  emit(message: AgentMessage): void;
  /** The tool-policy gateway: the daemon answers allow or deny. */
  requestTool(request: { tool: string; input: unknown }): Promise<{ behavior: 'allow' } | { behavior: 'deny'; message: string }>;
  /** Just-in-time credentials of the session's creator, asked for by name. */
  getCredentials(names: string[]): Promise<Record<string, string>>;
  /** Aborted when the daemon asks the task to stop. */
  signal: AbortSignal;
  /**
   * The environment the agent's child processes may get: an allow-list (PATH, HOME, USER,
   * LOGNAME, SHELL, LANG, TERM, TMPDIR) taken from the executor's own clean environment, plus the
   * worktree's pinned GIT_DIR / GIT_COMMON_DIR / GIT_WORK_TREE when run_task carries them.
   * Adapters add the task's credentials to a copy of it; nothing else.
   */
  baseEnv: Record<string, string>;
}

export interface AgentResult {
  status: 'completed' | 'failed' | 'stopped';
  /** Set to continue the conversation on the next prompt. */
  resume: string | null;
  usage?: AgentUsage;
  error?: string;
}

export interface AgentAdapter {
  /** Names of credentials this agent needs from the session creator's secrets (e.g. ANTHROPIC_API_KEY). */
  credentialNames: readonly string[];
  run(task: AgentTask, io: AgentIO): Promise<AgentResult>;
}
