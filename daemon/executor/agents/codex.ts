/**
 * The `codex` agent: OpenAI Codex through @openai/codex-sdk, which runs the native `codex exec
 * --experimental-json` binary (optional dependency @openai/codex-<platform>) and streams its
 * thread events.
 *
 * The model endpoint is always a provider defined here (`agor`): Responses wire API, websockets
 * off, retries per `options.max_retries` (0: exactly one POST per model request), its key read
 * from OPENAI_API_KEY in the CLI's environment; the base URL is the creator's OPENAI_BASE_URL
 * credential, else `options.base_url`, else the public OpenAI API. The environment is the
 * executor's allow-listed base plus the key, given explicitly (the SDK then inherits nothing from
 * process.env), and the agent's own shell commands do not see the key (shell_environment_policy).
 *
 * Tool use: `codex exec` has no approval callback, so commands are contained by Codex's sandbox
 * (`workspace-write` by default: writes only inside the worktree and temp dirs, no network) with
 * approval policy `never`. io.requestTool is consulted as each tool call STARTS: the call is
 * already running then, so a deny stops the whole run rather than preventing that one call.
 *
 * Usage: turn.completed reports the thread's running totals, so the resume handle carries them
 * (see encodeResume) and each run reports only its own tokens.
 */
import path from 'node:path';
import { Codex, type CodexOptions, type SandboxMode, type ThreadEvent, type ThreadItem, type ThreadOptions, type Usage } from '@openai/codex-sdk';
import type { AgentAdapter, AgentIO, AgentMessage, AgentResult, AgentTask, AgentUsage } from './types.js';
import { errorMessage } from './errors.js';
import { exePath, procStat, processTree, type ProcInfo } from '../proc.js';

const API_KEY = 'OPENAI_API_KEY';
/** Optional: a per-user endpoint (a proxy, or the fake server in tests). */
const BASE_URL = 'OPENAI_BASE_URL';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_ERROR_CHARS = 8000;
const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
/** How long codex and its tools get to exit after a stop before SIGKILL. */
const EXIT_GRACE_MS = 5_000;
const SANDBOX_MODES: readonly SandboxMode[] = ['read-only', 'workspace-write', 'danger-full-access'];

/** The SDK's "exited with code N: <stderr>" without the CLI's routine stderr chatter. */
export function cleanExecError(message: string): string {
  return message
    .replace(/WARNING: proceeding, even though[^\n]*\n?/g, '')
    .replace(/Reading (prompt|additional input) from stdin\.*\n?/g, '')
    .trim();
}

/**
 * The codex processes this executor started, with everything below them. The SDK keeps the
 * child to itself and, on abort, kills it without waiting; its sandboxed tool processes run in
 * process groups of their own. Listing them before the abort lets the run wait until they are
 * really gone (the executor runs one task, so its codex children are this task's).
 */
function codexProcessTree(): ProcInfo[] {
  return processTree(process.pid, (child) => path.basename(exePath(child.pid)).startsWith('codex'));
}

/** Waits (bounded) for processes to exit, then SIGKILLs what is left, by process group where it has its own. */
async function waitGone(procs: ProcInfo[], graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  let alive = procs.filter((p) => procStat(p.pid) !== null);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    alive = alive.filter((p) => procStat(p.pid) !== null);
  }
  const ownGroup = procStat('self')?.pgrp;
  for (const p of alive) {
    try {
      process.kill(p.pgrp > 1 && p.pgrp !== ownGroup ? -p.pgrp : p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** The environment of the codex process: base allow-list + the API key. */
export function codexEnv(baseEnv: Record<string, string>, creds: Record<string, string>): Record<string, string> {
  return { ...baseEnv, [API_KEY]: creds[API_KEY]! };
}

/** `options.max_retries`: retries after a failed model request (unset: the agent's own default). */
export function maxRetries(options: Record<string, unknown>): number | undefined {
  const n = options.max_retries;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
}

/** `--config` overrides (never secrets: they travel on argv). */
export function codexConfig(baseUrl: string, options: Record<string, unknown>): NonNullable<CodexOptions['config']> {
  const retries = maxRetries(options);
  const provider: Record<string, string | number | boolean> = {
    name: 'agor',
    base_url: baseUrl,
    env_key: API_KEY,
    wire_api: 'responses',
    supports_websockets: false,
  };
  if (retries !== undefined) {
    provider.request_max_retries = retries;
    provider.stream_max_retries = retries;
  }
  return {
    model_provider: 'agor',
    model_providers: { agor: provider },
    // The agent's commands get the CLI's environment minus the credentials.
    shell_environment_policy: { inherit: 'all', exclude: [API_KEY, 'CODEX_API_KEY'] },
    analytics: { enabled: false },
    feedback: { enabled: false },
    check_for_update_on_startup: false,
  };
}

/** A thread's running token totals (turn.completed reports them for the whole thread, resumed turns included). */
export interface UsageTotals {
  input_tokens: number;
  output_tokens: number;
}

function totalsOf(u: Usage): UsageTotals {
  return { input_tokens: u.input_tokens ?? 0, output_tokens: u.output_tokens ?? 0 };
}

/** This run's usage: the thread's totals now minus its totals when the run resumed it. */
export function usageSince(totals: UsageTotals, baseline: UsageTotals): { usage: AgentUsage; totals: UsageTotals } {
  const i = { delta: Math.max(0, totals.input_tokens - baseline.input_tokens), total: Math.max(totals.input_tokens, baseline.input_tokens) };
  const o = { delta: Math.max(0, totals.output_tokens - baseline.output_tokens), total: Math.max(totals.output_tokens, baseline.output_tokens) };
  return { usage: { input_tokens: i.delta, output_tokens: o.delta }, totals: { input_tokens: i.total, output_tokens: o.total } };
}

/**
 * The resume handle is opaque to the daemon: the thread id plus the thread's running totals, so
 * the next run can report its own usage. A bare thread id is accepted too.
 */
export function encodeResume(id: string, totals: UsageTotals): string {
  return JSON.stringify({ id, totals });
}

export function decodeResume(handle: string | null): { id: string; totals: UsageTotals } | null {
  if (!handle) return null;
  if (handle.startsWith('{')) {
    try {
      const parsed = JSON.parse(handle) as { id?: unknown; totals?: Partial<Record<keyof UsageTotals, unknown>> };
      if (typeof parsed.id === 'string' && parsed.id) {
        const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
        return { id: parsed.id, totals: { input_tokens: num(parsed.totals?.input_tokens), output_tokens: num(parsed.totals?.output_tokens) } };
      }
    } catch {
      /* not ours: treat as a bare id */
    }
  }
  return { id: handle, totals: { input_tokens: 0, output_tokens: 0 } };
}

function mcpResultText(item: Extract<ThreadItem, { type: 'mcp_tool_call' }>): string {
  if (item.error) return item.error.message;
  const parts = item.result?.content ?? [];
  return parts.map((p: any) => (p?.type === 'text' ? String(p.text ?? '') : `[${String(p?.type)}]`)).join('\n');
}

/**
 * Normalises one thread event into AgentMessages; `raw` is the event. Tool calls become a
 * tool_use when they start and a tool_result when they complete (a file change is reported only
 * once, completed, so it yields both at once).
 */
export function mapCodexEvent(event: ThreadEvent): AgentMessage[] {
  const raw = event;
  switch (event.type) {
    case 'item.started': {
      const item = event.item;
      if (item.type === 'command_execution') return [{ type: 'tool_use', content: { id: item.id, name: 'command_execution', input: { command: item.command } }, raw }];
      if (item.type === 'mcp_tool_call') return [{ type: 'tool_use', content: { id: item.id, name: `mcp__${item.server}__${item.tool}`, input: item.arguments ?? {} }, raw }];
      if (item.type === 'web_search') return [{ type: 'tool_use', content: { id: item.id, name: 'web_search', input: { query: item.query } }, raw }];
      if (item.type === 'todo_list') return [{ type: 'tool_use', content: { id: item.id, name: 'todo_list', input: { items: item.items } }, raw }];
      return [];
    }
    case 'item.updated': {
      const item = event.item;
      if (item.type === 'todo_list') return [{ type: 'tool_use', content: { id: item.id, name: 'todo_list', input: { items: item.items } }, raw }];
      return [];
    }
    case 'item.completed': {
      const item = event.item;
      switch (item.type) {
        case 'agent_message':
          return item.text ? [{ type: 'text', content: { text: item.text }, raw }] : [];
        case 'reasoning':
          return [{ type: 'thinking', content: { text: item.text }, raw }];
        case 'command_execution': {
          const content: Record<string, unknown> = { tool_use_id: item.id, output: item.aggregated_output };
          if (item.exit_code !== undefined) content.exit_code = item.exit_code;
          if (item.status === 'failed' || (item.exit_code ?? 0) !== 0) content.is_error = true;
          return [{ type: 'tool_result', content, raw }];
        }
        case 'file_change': {
          const summary = item.changes.map((c) => `${c.kind} ${c.path}`).join('\n');
          const result: Record<string, unknown> = { tool_use_id: item.id, output: summary };
          if (item.status === 'failed') result.is_error = true;
          return [
            { type: 'tool_use', content: { id: item.id, name: 'file_change', input: { changes: item.changes } }, raw },
            { type: 'tool_result', content: result, raw },
          ];
        }
        case 'mcp_tool_call': {
          const result: Record<string, unknown> = { tool_use_id: item.id, output: mcpResultText(item) };
          if (item.status === 'failed' || item.error) result.is_error = true;
          return [{ type: 'tool_result', content: result, raw }];
        }
        case 'web_search':
          return [{ type: 'tool_result', content: { tool_use_id: item.id, output: '' }, raw }];
        case 'error':
          // Non-fatal: the turn goes on (e.g. unknown model metadata).
          return [{ type: 'error', content: { message: item.message, fatal: false }, raw }];
        default:
          return [];
      }
    }
    case 'turn.completed':
      // The usage message is emitted by run(): it needs the totals the run resumed from.
      return [];
    case 'turn.failed':
      return [{ type: 'error', content: { message: event.error.message }, raw }];
    case 'error':
      return [{ type: 'error', content: { message: event.message }, raw }];
    default:
      return [];
  }
}

/** The tool call (name, input) a started item stands for, if it is one the policy should hear about. */
function toolRequestOf(event: ThreadEvent): { tool: string; input: unknown } | null {
  for (const m of mapCodexEvent(event)) {
    if (m.type === 'tool_use' && m.content.name !== 'todo_list') return { tool: String(m.content.name), input: m.content.input };
  }
  return null;
}

async function run(task: AgentTask, io: AgentIO): Promise<AgentResult> {
  const resumed = decodeResume(task.resume);
  let totals: UsageTotals = resumed?.totals ?? { input_tokens: 0, output_tokens: 0 };
  if (io.signal.aborted) return { status: 'stopped', resume: task.resume };
  // Handles hold the ids this adapter returned; anything else must not reach the CLI's argv.
  if (resumed && !UUID.test(resumed.id)) {
    const message = `not a codex conversation id: ${JSON.stringify(resumed.id.slice(0, 80))} (the next prompt starts a new conversation)`;
    io.emit({ type: 'error', content: { message } });
    return { status: 'failed', resume: null, error: message };
  }
  const creds = await io.getCredentials([API_KEY, BASE_URL]);
  if (!creds[API_KEY]) {
    const message = `${API_KEY} is not set for the session's creator: add it to their secrets to use the codex agent`;
    io.emit({ type: 'error', content: { message } });
    return { status: 'failed', resume: task.resume, error: message };
  }
  const baseUrl = creds[BASE_URL] ?? (typeof task.options.base_url === 'string' ? task.options.base_url : DEFAULT_BASE_URL);

  const codexOptions: CodexOptions = { env: codexEnv(io.baseEnv, creds), config: codexConfig(baseUrl, task.options) };
  if (typeof task.options.executable === 'string') codexOptions.codexPathOverride = task.options.executable;
  const sandbox = SANDBOX_MODES.includes(task.options.sandbox as SandboxMode) ? (task.options.sandbox as SandboxMode) : 'workspace-write';
  const threadOptions: ThreadOptions = {
    workingDirectory: task.cwd,
    skipGitRepoCheck: true,
    sandboxMode: sandbox,
    approvalPolicy: 'never',
    webSearchMode: 'disabled',
    networkAccessEnabled: task.options.network_access === true,
  };
  if (task.model) threadOptions.model = task.model;

  const codex = new Codex(codexOptions);
  const thread = resumed ? codex.resumeThread(resumed.id, threadOptions) : codex.startThread(threadOptions);
  const abort = new AbortController();
  let stopped: ProcInfo[] | null = null;
  const stop = () => {
    stopped ??= codexProcessTree();
    abort.abort();
  };
  const onAbort = () => stop();
  io.signal.addEventListener('abort', onAbort, { once: true });

  let usage: AgentUsage | undefined;
  let failure: string | null = null;
  let denied: string | null = null;
  let completed = false;
  const emittedErrors = new Set<string>();
  try {
    const { events } = await thread.runStreamed(task.prompt, { signal: abort.signal });
    for await (const event of events) {
      for (const m of mapCodexEvent(event)) {
        if (m.type === 'error') {
          // The same failure often arrives twice (an error event, then the failed turn/result).
          if (emittedErrors.has(String(m.content.message))) continue;
          emittedErrors.add(String(m.content.message));
        }
        io.emit(m);
      }
      if (event.type === 'turn.completed') {
        completed = true;
        const since = usageSince(totalsOf(event.usage), totals);
        totals = since.totals;
        usage = since.usage;
        io.emit({ type: 'usage', content: { ...usage }, raw: event });
      } else if (event.type === 'turn.failed') {
        failure = event.error.message;
      } else if (event.type === 'error') {
        failure = event.message;
      } else if (event.type === 'item.started' || (event.type === 'item.completed' && event.item.type === 'file_change')) {
        const request = toolRequestOf(event);
        if (request) {
          let decision: Awaited<ReturnType<AgentIO['requestTool']>>;
          try {
            decision = await io.requestTool(request);
          } catch (error) {
            decision = { behavior: 'deny', message: `tool policy unavailable: ${errorMessage(error)}` };
          }
          if (decision.behavior === 'deny') {
            denied = `${request.tool} was denied by policy${decision.message ? `: ${decision.message}` : ''}; the run was stopped`;
            stop();
            break;
          }
        }
      }
    }
  } catch (error) {
    if (!io.signal.aborted && !denied) failure ??= cleanExecError(errorMessage(error));
  } finally {
    io.signal.removeEventListener('abort', onAbort);
    if (stopped) await waitGone(stopped, EXIT_GRACE_MS);
  }

  const resume = thread.id ? encodeResume(thread.id, totals) : task.resume;
  if (io.signal.aborted && !denied) return { status: 'stopped', resume, usage };
  if (denied) failure = denied;
  else if (failure === null && !completed) failure = 'the Codex CLI ended without completing the turn';
  if (failure !== null) {
    // A thread the CLI no longer has (its rollout lives in ~/.codex) would fail every later prompt
    // too: drop the handle so the next prompt starts a new thread, and say so.
    const lost = resumed !== null && /no rollout found for thread id/i.test(failure);
    if (lost) failure = `${failure} (the conversation could not be resumed; the next prompt starts a new one)`;
    // The protocol caps a task's error at 10,000 characters.
    if (failure.length > MAX_ERROR_CHARS) failure = `${failure.slice(0, MAX_ERROR_CHARS)}…`;
    if (!emittedErrors.has(failure)) io.emit({ type: 'error', content: { message: failure } });
    return { status: 'failed', resume: lost ? null : resume, usage, error: failure };
  }
  return { status: 'completed', resume, usage };
}

export const codexAdapter: AgentAdapter = {
  credentialNames: [API_KEY, BASE_URL],
  run,
};

export default codexAdapter;
