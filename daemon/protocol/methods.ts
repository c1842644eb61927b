// The methods of the executor protocol (DESIGN §8) and the zod schema of each one's params and
// result. Both ends validate everything they receive and everything they send against these.
//
//   daemon → executor   run_task (request)   stop (notification)
//   executor → daemon   ready (notification)  get_credentials (request)  message (notification)
//                       tool_request (request)  done (notification)
import { z } from 'zod';
import { AGENT_KINDS } from './agents.js';

export const PROTOCOL_VERSION = 1;
/** Longest line either end accepts (a longer one is dropped and answered with an error). */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Deepest nesting of arrays/objects accepted in a message (deeper JSON is refused before use). */
export const MAX_JSON_DEPTH = 64;
/** The sessions table keeps resume handles in a 512-character column. */
export const MAX_RESUME_LENGTH = 512;

const id = z.string().min(1).max(64);
/** Names of environment variables / stored secrets (the daemon applies its stricter rules too). */
export const credentialName = z.string().regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'must be an environment variable name');
const resumeHandle = z
  .string()
  .min(1)
  .max(MAX_RESUME_LENGTH)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

export const AGENT_MESSAGE_TYPES = ['text', 'thinking', 'tool_use', 'tool_result', 'error', 'usage'] as const;

export const agentMessageSchema = z.strictObject({
  type: z.enum(AGENT_MESSAGE_TYPES),
  content: z.record(z.string(), z.unknown()),
  raw: z.unknown().optional(),
});

export const agentUsageSchema = z.object({
  input_tokens: z.number().int().nonnegative().optional(),
  output_tokens: z.number().int().nonnegative().optional(),
  cost_usd: z.number().nonnegative().optional(),
});

// ---- daemon → executor ----

const absolutePath = z.string().max(4096).regex(/^\/[^\u0000-\u001f\u007f]*$/, 'must be an absolute path without control characters');

export const runTaskParams = z.strictObject({
  task_id: id,
  session_id: id,
  /** Absolute path of the worktree. */
  cwd: z.string().regex(/^\/[^\0]*$/, 'must be an absolute path'),
  agent: z.enum(AGENT_KINDS),
  prompt: z.string().min(1).max(1_000_000),
  resume: resumeHandle.nullable(),
  model: z.string().min(1).max(200).optional(),
  /** Agent-specific options (the command agent's argv and credential names). */
  options: z.record(z.string(), z.unknown()),
  /** After `stop`, how long the agent gets before the executor kills what it started. */
  stop_grace_ms: z.number().int().min(0).max(300_000),
  /**
   * The worktree's pinned git locations (insulated/strict): added to the agent's environment so git
   * works as its identity without trusting the worktree's own `.git` file or safe.directory.
   */
  git_env: z
    .strictObject({ GIT_DIR: absolutePath, GIT_COMMON_DIR: absolutePath, GIT_WORK_TREE: absolutePath })
    .optional(),
});
export const runTaskResult = z.strictObject({ accepted: z.literal(true) });

export const stopParams = z.strictObject({ reason: z.string().max(500).optional() });

// ---- executor → daemon ----

export const readyParams = z.strictObject({ protocol: z.literal(PROTOCOL_VERSION), pid: z.number().int().positive() });

export const getCredentialsParams = z.strictObject({ names: z.array(credentialName).max(64) });
/** Only names the session creator has set, and the daemon allows for this agent, are present. */
export const getCredentialsResult = z.strictObject({ credentials: z.record(credentialName, z.string().max(65_536)) });

export const messageParams = z.strictObject({ task_id: id, message: agentMessageSchema });

export const toolRequestParams = z.strictObject({ task_id: id, tool: z.string().min(1).max(200), input: z.unknown() });
export const toolRequestResult = z.discriminatedUnion('behavior', [
  z.strictObject({ behavior: z.literal('allow') }),
  z.strictObject({ behavior: z.literal('deny'), message: z.string().max(2000) }),
]);

export const TASK_OUTCOMES = ['completed', 'failed', 'stopped'] as const;
export const doneParams = z.strictObject({
  task_id: id,
  status: z.enum(TASK_OUTCOMES),
  resume: resumeHandle.nullable(),
  usage: agentUsageSchema.optional(),
  error: z.string().max(10_000).optional(),
});

/** What each end accepts: requests (params + result) and notifications (params). */
export interface RequestSpec {
  params: z.ZodType;
  result: z.ZodType;
}
export interface ProtocolSide {
  requests: Record<string, RequestSpec>;
  notifications: Record<string, z.ZodType>;
}

/** Messages the daemon sends and the executor receives. */
export const DAEMON_TO_EXECUTOR = {
  requests: { run_task: { params: runTaskParams, result: runTaskResult } },
  notifications: { stop: stopParams },
} satisfies ProtocolSide;

/** Messages the executor sends and the daemon receives. */
export const EXECUTOR_TO_DAEMON = {
  requests: {
    get_credentials: { params: getCredentialsParams, result: getCredentialsResult },
    tool_request: { params: toolRequestParams, result: toolRequestResult },
  },
  notifications: { ready: readyParams, message: messageParams, done: doneParams },
} satisfies ProtocolSide;

export type RunTaskParams = z.output<typeof runTaskParams>;
export type DoneParams = z.output<typeof doneParams>;
export type MessageParams = z.output<typeof messageParams>;
export type AgentMessageWire = z.output<typeof agentMessageSchema>;
