/**
 * The `claude-code` agent: Claude Code through @anthropic-ai/claude-agent-sdk's `query()`.
 *
 * The SDK spawns its own native CLI binary (optional dependency
 * @anthropic-ai/claude-agent-sdk-<platform>) with exactly the environment given in `options.env`,
 * so the adapter builds that environment itself: the executor's allow-listed base environment,
 * the session creator's credentials, and the switch that stops every non-essential outside call.
 *
 * Tool use is gated by the daemon: permission mode `default` makes the CLI ask `canUseTool` before
 * every tool that is not read-only, and `canUseTool` forwards the question to `io.requestTool`.
 * Filesystem settings are NOT loaded by default (`settingSources: []`): a `.claude/settings.json`
 * in the worktree (writable by every identity that can write the worktree) or in the shared HOME
 * could otherwise pre-approve tools past the gateway, register hooks that run commands, or change
 * the environment. Config may opt back in with `options.setting_sources`.
 *
 * Usage: a result's modelUsage and total_cost_usd are the session's running totals (they carry
 * over on resume), so the resume handle carries them (see encodeResume) and each run reports only
 * its own tokens and cost.
 *
 * Options (from the daemon's config): base_url, max_retries, model via task.model, max_turns,
 * setting_sources, executable (path of the CLI binary, when the bundled executor cannot resolve
 * the SDK's platform package).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  query,
  type CanUseTool,
  type Options,
  type PermissionResult,
  type SDKMessage,
  type SDKResultMessage,
  type SpawnedProcess,
  type SpawnOptions,
} from '@anthropic-ai/claude-agent-sdk';
import type { AgentAdapter, AgentIO, AgentMessage, AgentResult, AgentTask, AgentUsage } from './types.js';
import { errorMessage } from './errors.js';

const API_KEY = 'ANTHROPIC_API_KEY';
/** Optional: a per-user endpoint (a proxy, or the fake server in tests). */
const BASE_URL = 'ANTHROPIC_BASE_URL';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_ERROR_CHARS = 8000;

/** How long the CLI gets to shut down (and stop its tools) after the run ends before SIGKILL. */
const CLI_EXIT_GRACE_MS = 10_000;

const SETTING_SOURCES = ['user', 'project', 'local'] as const;
type SettingSource = (typeof SETTING_SOURCES)[number];

/** Keeps the last `max` characters of a stream (the CLI's stderr), for error messages. */
function tailBuffer(max = 4000): { push(s: string): void; text(): string } {
  let buf = '';
  return {
    push(s) {
      buf = (buf + s).slice(-max);
    },
    text: () => buf.trim(),
  };
}

/** The environment of the CLI process: base allow-list + credentials + no non-essential traffic. */
export function claudeEnv(baseEnv: Record<string, string>, creds: Record<string, string>, options: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = { ...baseEnv };
  env[API_KEY] = creds[API_KEY]!;
  const baseUrl = creds[BASE_URL] ?? (typeof options.base_url === 'string' ? options.base_url : undefined);
  if (baseUrl) env[BASE_URL] = baseUrl;
  // No telemetry, error reporting, auto-update checks or feedback surveys: only model calls.
  env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = '1';
  const retries = options.max_retries;
  if (typeof retries === 'number' && Number.isFinite(retries) && retries >= 0) env.CLAUDE_CODE_MAX_RETRIES = String(Math.floor(retries));
  return env;
}

/** Text of a tool_result block's content (string, or text/image blocks). */
function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === undefined || content === null ? '' : JSON.stringify(content);
  return content
    .map((part: any) => {
      if (part?.type === 'text') return String(part.text ?? '');
      if (part?.type === 'image') return '[image]';
      return JSON.stringify(part);
    })
    .join('\n');
}

/** Running totals of a conversation, as the CLI reports them (they carry over on resume). */
export interface UsageTotals {
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

const ZERO_TOTALS: UsageTotals = { input_tokens: 0, output_tokens: 0, cost_usd: 0 };

/**
 * The conversation's running totals in a result message: every model call of the session so far
 * (modelUsage and total_cost_usd include the turns of the sessions it resumed), cache reads and
 * writes counted as input.
 */
export function resultTotals(result: SDKResultMessage): UsageTotals {
  let input = 0;
  let output = 0;
  for (const m of Object.values(result.modelUsage ?? {})) {
    input += (m.inputTokens ?? 0) + (m.cacheReadInputTokens ?? 0) + (m.cacheCreationInputTokens ?? 0);
    output += m.outputTokens ?? 0;
  }
  return { input_tokens: input, output_tokens: output, cost_usd: result.total_cost_usd ?? 0 };
}

/**
 * This run's usage: the totals now minus the totals when it resumed. A total below its baseline
 * (the CLI zeroes them in crash/startup-error results) counts as nothing new and keeps the baseline.
 */
export function usageSince(totals: UsageTotals, baseline: UsageTotals): { usage: AgentUsage; totals: UsageTotals } {
  const field = (k: keyof UsageTotals) => ({ delta: Math.max(0, totals[k] - baseline[k]), total: Math.max(totals[k], baseline[k]) });
  const i = field('input_tokens');
  const o = field('output_tokens');
  const c = field('cost_usd');
  return {
    usage: { input_tokens: i.delta, output_tokens: o.delta, cost_usd: Number(c.delta.toFixed(8)) },
    totals: { input_tokens: i.total, output_tokens: o.total, cost_usd: c.total },
  };
}

/**
 * The resume handle is opaque to the daemon: the CLI's session id plus the conversation's running
 * totals, so the next run can report its own usage rather than the session's cumulative one.
 * A bare session id (no totals) is accepted too.
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
        const t = parsed.totals ?? {};
        return { id: parsed.id, totals: { input_tokens: num(t.input_tokens), output_tokens: num(t.output_tokens), cost_usd: num(t.cost_usd) } };
      }
    } catch {
      /* not ours: treat as a bare id */
    }
  }
  return { id: handle, totals: { ...ZERO_TOTALS } };
}

/** Normalises one SDK message into zero or more AgentMessages; `raw` is the SDK message itself. */
export function mapClaudeMessage(msg: SDKMessage): AgentMessage[] {
  const out: AgentMessage[] = [];
  if (msg.type === 'assistant') {
    const blocks = Array.isArray(msg.message?.content) ? msg.message.content : [];
    if (msg.error) {
      // A synthetic assistant message standing for a failed API call: its text is the error.
      const text = blocks.map((b: any) => (b?.type === 'text' ? b.text : '')).join('').trim();
      out.push({ type: 'error', content: { message: text || `model API error: ${msg.error}`, code: msg.error }, raw: msg });
      return out;
    }
    for (const block of blocks as any[]) {
      switch (block?.type) {
        case 'text':
          if (block.text) out.push({ type: 'text', content: { text: block.text }, raw: msg });
          break;
        case 'thinking':
          out.push({ type: 'thinking', content: { text: block.thinking ?? '' }, raw: msg });
          break;
        case 'redacted_thinking':
          out.push({ type: 'thinking', content: { text: '', redacted: true }, raw: msg });
          break;
        case 'tool_use':
        case 'server_tool_use':
        case 'mcp_tool_use':
          out.push({ type: 'tool_use', content: { id: block.id, name: block.name, input: block.input ?? {} }, raw: msg });
          break;
        default:
          break;
      }
    }
  } else if (msg.type === 'user') {
    const content = msg.message?.content;
    if (Array.isArray(content)) {
      for (const block of content as any[]) {
        if (block?.type !== 'tool_result') continue;
        const result: Record<string, unknown> = { tool_use_id: block.tool_use_id, output: toolResultText(block.content) };
        if (block.is_error) result.is_error = true;
        out.push({ type: 'tool_result', content: result, raw: msg });
      }
    }
  }
  // Result messages become a `usage` message in run(): it needs the totals the run resumed from.
  return out;
}

function resultError(result: SDKResultMessage): string | null {
  if (result.subtype === 'success') return result.is_error ? result.result || 'the agent reported an error' : null;
  const errors = result.errors?.filter(Boolean) ?? [];
  return errors.length > 0 ? errors.join('; ') : `the agent stopped: ${result.subtype}`;
}

/** Resolves once the process has exited; SIGKILLs it if it has not after `graceMs`. */
async function reap(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function settingSources(options: Record<string, unknown>): SettingSource[] {
  const raw = options.setting_sources;
  if (!Array.isArray(raw)) return [];
  return raw.filter((s): s is SettingSource => (SETTING_SOURCES as readonly string[]).includes(s as string));
}

async function run(task: AgentTask, io: AgentIO): Promise<AgentResult> {
  const resumed = decodeResume(task.resume);
  let sessionId: string | null = resumed?.id ?? null;
  let totals: UsageTotals = resumed?.totals ?? { ...ZERO_TOTALS };
  const resumeHandle = () => (sessionId ? encodeResume(sessionId, totals) : null);
  if (io.signal.aborted) return { status: 'stopped', resume: task.resume };
  // Handles hold the ids this adapter returned; anything else must not reach the CLI's argv.
  if (resumed && !UUID.test(resumed.id)) {
    const message = `not a claude-code conversation id: ${JSON.stringify(resumed.id.slice(0, 80))} (the next prompt starts a new conversation)`;
    io.emit({ type: 'error', content: { message } });
    return { status: 'failed', resume: null, error: message };
  }

  const creds = await io.getCredentials([API_KEY, BASE_URL]);
  if (!creds[API_KEY]) {
    const message = `${API_KEY} is not set for the session's creator: add it to their secrets to use the claude-code agent`;
    io.emit({ type: 'error', content: { message } });
    return { status: 'failed', resume: task.resume, error: message };
  }

  const abortController = new AbortController();
  const onAbort = () => abortController.abort();
  io.signal.addEventListener('abort', onAbort, { once: true });
  const stderr = tailBuffer();
  // The SDK's own spawn gives no handle on the CLI process; spawning it here lets the run wait
  // until the CLI (which kills its tools' process groups on shutdown) has really exited before
  // reporting stopped/failed, so nothing the agent started outlives the task.
  const children: ChildProcess[] = [];
  const spawnCli = (o: SpawnOptions): SpawnedProcess => {
    const child = spawn(o.command, o.args, { cwd: o.cwd, env: o.env, signal: o.signal, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
    child.on('error', (e) => stderr.push(`\n${e.message}`));
    children.push(child);
    return child as unknown as SpawnedProcess;
  };

  const canUseTool: CanUseTool = async (toolName, input): Promise<PermissionResult> => {
    try {
      const decision = await io.requestTool({ tool: toolName, input });
      if (decision.behavior === 'allow') return { behavior: 'allow', updatedInput: input };
      return { behavior: 'deny', message: decision.message || `${toolName} was denied by policy` };
    } catch (error) {
      // Fail closed: no answer from the gateway is a denial.
      return { behavior: 'deny', message: `tool policy unavailable: ${errorMessage(error)}` };
    }
  };

  const options: Options = {
    cwd: task.cwd,
    env: claudeEnv(io.baseEnv, creds, task.options),
    abortController,
    canUseTool,
    permissionMode: 'default',
    settingSources: settingSources(task.options),
    spawnClaudeCodeProcess: spawnCli,
  };
  if (resumed) options.resume = resumed.id;
  if (task.model) options.model = task.model;
  if (typeof task.options.executable === 'string') options.pathToClaudeCodeExecutable = task.options.executable;
  if (typeof task.options.max_turns === 'number') options.maxTurns = task.options.max_turns;

  let usage: AgentUsage | undefined;
  let failure: string | null = null;
  let sawResult = false;
  const emittedErrors = new Set<string>();
  try {
    for await (const msg of query({ prompt: task.prompt, options })) {
      if ('session_id' in msg && typeof msg.session_id === 'string' && msg.session_id) sessionId = msg.session_id;
      for (const m of mapClaudeMessage(msg)) {
        if (m.type === 'error') {
          // The same failure often arrives twice (an error event, then the failed turn/result).
          if (emittedErrors.has(String(m.content.message))) continue;
          emittedErrors.add(String(m.content.message));
        }
        io.emit(m);
      }
      if (msg.type === 'result') {
        sawResult = true;
        const since = usageSince(resultTotals(msg), totals);
        totals = since.totals;
        usage = since.usage;
        io.emit({ type: 'usage', content: { ...usage }, raw: msg });
        failure = resultError(msg);
      }
    }
  } catch (error) {
    // query() throws when the run ends in an error result (after yielding it) or the CLI dies.
    if (!io.signal.aborted) {
      failure ??= errorMessage(error);
      const detail = stderr.text();
      if (!sawResult && detail && !failure.includes(detail)) failure = `${failure}\n${detail}`;
    }
  } finally {
    io.signal.removeEventListener('abort', onAbort);
    await Promise.all(children.map((c) => reap(c, CLI_EXIT_GRACE_MS)));
  }

  if (io.signal.aborted) return { status: 'stopped', resume: resumeHandle(), usage };
  if (failure === null && !sawResult) failure = `the Claude Code CLI ended without a result${stderr.text() ? `: ${stderr.text()}` : ''}`;
  if (failure !== null) {
    // A conversation the CLI no longer has (its transcript lives in HOME) would fail every later
    // prompt too: drop the handle so the next prompt starts a new conversation, and say so.
    const lost = resumed !== null && /No conversation found with session ID/i.test(failure);
    if (lost) failure = `${failure} (the conversation could not be resumed; the next prompt starts a new one)`;
    // The protocol caps a task's error at 10,000 characters.
    if (failure.length > MAX_ERROR_CHARS) failure = `${failure.slice(0, MAX_ERROR_CHARS)}…`;
    if (!emittedErrors.has(failure)) io.emit({ type: 'error', content: { message: failure } });
    return { status: 'failed', resume: lost ? null : resumeHandle(), usage, error: failure };
  }
  return { status: 'completed', resume: resumeHandle(), usage };
}

export const claudeCodeAdapter: AgentAdapter = {
  credentialNames: [API_KEY, BASE_URL],
  run,
};

export default claudeCodeAdapter;
