/**
 * The `gemini` agent: the Gemini CLI (@google/gemini-cli) in its non-interactive streaming-JSON
 * mode (`--output-format stream-json`, prompt on stdin), one JSON event per stdout line.
 *
 * How it is run:
 * - Environment: the executor's allow-listed base plus GEMINI_API_KEY and GOOGLE_GEMINI_BASE_URL
 *   (always set, to the creator's credential, `options.base_url` or the public endpoint, so a
 *   `.env` file in the worktree cannot redirect the key elsewhere), GEMINI_CLI_HOME (see below),
 *   GEMINI_CLI_NO_RELAUNCH (one process, not a parent that ignores SIGTERM plus a child) and
 *   GEMINI_CLI_TRUST_WORKSPACE (headless mode refuses untrusted folders).
 * - GEMINI_CLI_HOME is a directory of its own (`$HOME/.agor-agents/gemini` unless
 *   `options.home`), so the adapter's settings never touch the user's own ~/.gemini and the user's
 *   settings (MCP servers, hooks) do not apply; sessions are stored there, which is what resume
 *   needs. Its settings.json selects API-key auth, turns off usage statistics, telemetry and update
 *   checks, and installs the tool-policy hook.
 * - Tool policy: approval mode `yolo` (headless mode cannot ask), gated by a BeforeTool hook on
 *   every tool: a small script that asks this adapter over a Unix socket (in a 0700 directory of
 *   GEMINI_CLI_HOME, one per session id) and blocks the call unless io.requestTool allows it. The
 *   hook runs BEFORE the tool, so a deny prevents the call and the model is told why.
 * - Resume: new sessions get an id chosen here (`--session-id`); later runs pass `--resume <id>`.
 * - Trust: headless mode runs only in a trusted folder, and a trusted worktree's own
 *   `.gemini/settings.json` (hooks, MCP servers) and `.gemini/.env` are honoured by the CLI, as
 *   any code in the worktree is run by the agent anyway. The endpoint and key variables are always
 *   set here, and a `.env` file never overrides a variable that is already set.
 * - Options: base_url, max_retries, home, tool_decision_timeout_ms, executable (gemini.js or a
 *   binary, when the bundled executor cannot resolve the package).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import type { AgentAdapter, AgentIO, AgentMessage, AgentResult, AgentTask, AgentUsage } from './types.js';
import { errorMessage } from './errors.js';
import { procStat, processTree, type ProcInfo } from '../proc.js';

const API_KEY = 'GEMINI_API_KEY';
/** Optional: a per-user endpoint (a proxy, or the fake server in tests). */
const BASE_URL = 'GOOGLE_GEMINI_BASE_URL';
const DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';
/** How long the CLI gets to exit after SIGTERM before SIGKILL. */
const EXIT_GRACE_MS = 5_000;
/** A tool-policy answer may wait on a person; the hook must not time out first (a timed-out hook lets the tool run). */
const DEFAULT_TOOL_DECISION_TIMEOUT_MS = 30 * 60_000;
const UNIX_SOCKET_PATH_MAX = 107;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_ERROR_CHARS = 8000;

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

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The socket a session's hook connects to: short (sockets paths are limited) and derived from the session id. */
export function gateSocketPath(gateDir: string, sessionId: string): string {
  return path.join(gateDir, `${crypto.createHash('sha256').update(sessionId).digest('hex').slice(0, 16)}.sock`);
}

/**
 * The BeforeTool hook program. Input: the hook event on stdin. It asks the adapter listening on
 * the session's socket and prints the decision; anything going wrong blocks the tool (exit 2 with
 * a deny decision), so an unreachable policy fails closed.
 */
const GATE_SCRIPT = `// Written by agor's gemini adapter: the BeforeTool hook asking agor's tool policy.
import crypto from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
const deny = (reason) => { process.stdout.write(JSON.stringify({ decision: 'deny', reason })); process.exit(2); };
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  let event;
  try { event = JSON.parse(input); } catch { deny('agor: unreadable hook input'); }
  const id = crypto.createHash('sha256').update(String(event.session_id)).digest('hex').slice(0, 16);
  const socket = net.connect(path.join(process.argv[2], id + '.sock'));
  let answer = '';
  socket.setEncoding('utf8');
  socket.on('connect', () => socket.end(JSON.stringify({ tool: event.tool_name, input: event.tool_input ?? {} }) + '\\n'));
  socket.on('data', (d) => { answer += d; });
  socket.on('end', () => {
    let decision;
    try { decision = JSON.parse(answer); } catch { deny('agor: no answer from the tool policy'); }
    if (decision.behavior === 'allow') { process.stdout.write(JSON.stringify({ decision: 'allow' })); process.exit(0); }
    deny(String(decision.message || 'denied by policy'));
  });
  socket.on('error', (e) => deny('agor: tool policy unavailable: ' + e.message));
});
`;

/** settings.json of the adapter's GEMINI_CLI_HOME. */
export function geminiSettings(hookCommand: string, hookTimeoutMs: number, options: Record<string, unknown> = {}): Record<string, unknown> {
  const general: Record<string, unknown> = { disableAutoUpdate: true, disableUpdateNag: true };
  const retries = options.max_retries;
  // maxAttempts counts the first request too; the CLI caps it at 10.
  if (typeof retries === 'number' && Number.isFinite(retries) && retries >= 0) general.maxAttempts = Math.min(10, Math.floor(retries) + 1);
  return {
    security: {
      auth: { selectedType: 'gemini-api-key' },
      // The agent's shell commands do not get the API key (nor other secret-looking variables).
      environmentVariableRedaction: { enabled: true, blocked: [API_KEY] },
    },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    general,
    advanced: { ignoreLocalEnv: true },
    hooksConfig: { enabled: true },
    hooks: {
      BeforeTool: [
        { matcher: '.*', hooks: [{ name: 'agor-tool-policy', type: 'command', command: hookCommand, timeout: hookTimeoutMs }] },
      ],
    },
  };
}

/** Writes a file atomically (settings and the hook script are re-written on every run). */
function writeFileAtomic(file: string, content: string, mode: number): void {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, content, { mode });
  fs.renameSync(tmp, file);
}

/** The command that starts the CLI: `options.executable` (a .js entry point or a binary), else the installed package. */
function cliCommand(options: Record<string, unknown>): { command: string; args: string[] } {
  let entry = typeof options.executable === 'string' ? options.executable : null;
  if (!entry) {
    const require = createRequire(import.meta.url);
    const pkgPath = require.resolve('@google/gemini-cli/package.json');
    const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8')) as { bin?: string | Record<string, string> };
    const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.gemini ?? 'bundle/gemini.js';
    entry = path.join(path.dirname(pkgPath), bin);
  }
  return /\.[cm]?js$/.test(entry) ? { command: process.execPath, args: [entry] } : { command: entry, args: [] };
}

/** One line of `--output-format stream-json`. */
export interface GeminiStreamEvent {
  type: string;
  [key: string]: unknown;
}

export function parseGeminiLine(line: string): GeminiStreamEvent | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  try {
    const parsed = JSON.parse(trimmed) as unknown;
    if (parsed && typeof parsed === 'object' && typeof (parsed as { type?: unknown }).type === 'string') return parsed as GeminiStreamEvent;
  } catch {
    /* not an event: the CLI prints nothing else on stdout in this mode, but be lenient */
  }
  return null;
}

/** Token usage of a `result` event's stats (this process's model calls). */
export function statsUsage(stats: unknown): AgentUsage {
  const s = (stats ?? {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return { input_tokens: num(s.input_tokens), output_tokens: num(s.output_tokens) };
}

/**
 * Normalises one stream event into AgentMessages; `raw` is the event. The stream carries text as
 * deltas (one message each), no thinking, and tool results by tool id.
 */
export function mapGeminiEvent(event: GeminiStreamEvent): AgentMessage[] {
  const raw = event;
  switch (event.type) {
    case 'message':
      if (event.role !== 'assistant' || typeof event.content !== 'string' || !event.content) return [];
      return [{ type: 'text', content: { text: event.content }, raw }];
    case 'tool_use':
      return [{ type: 'tool_use', content: { id: String(event.tool_id ?? ''), name: String(event.tool_name ?? ''), input: event.parameters ?? {} }, raw }];
    case 'tool_result': {
      const error = event.error as { message?: unknown } | undefined;
      const content: Record<string, unknown> = {
        tool_use_id: String(event.tool_id ?? ''),
        output: typeof event.output === 'string' && event.output ? event.output : error?.message ? String(error.message) : '',
      };
      if (event.status === 'error') content.is_error = true;
      return [{ type: 'tool_result', content, raw }];
    }
    case 'error':
      return [{ type: 'error', content: { message: String(event.message ?? 'unknown error'), fatal: event.severity === 'error' }, raw }];
    case 'result': {
      const out: AgentMessage[] = [{ type: 'usage', content: { ...statsUsage(event.stats) }, raw }];
      if (event.status === 'error') {
        const error = event.error as { message?: unknown } | undefined;
        out.push({ type: 'error', content: { message: String(error?.message ?? 'the Gemini CLI reported an error') }, raw });
      }
      return out;
    }
    default:
      return [];
  }
}

/** Resolves once the process has exited; SIGKILLs it if it has not after `graceMs`. */
async function reap(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function signalAll(procs: ProcInfo[], signal: NodeJS.Signals, ownGroup: number | undefined): void {
  const groups = new Set(procs.map((p) => p.pgrp).filter((g) => g > 1 && g !== ownGroup));
  for (const g of groups) {
    try {
      process.kill(-g, signal);
    } catch {
      /* gone */
    }
  }
  for (const p of procs) {
    try {
      process.kill(p.pid, signal);
    } catch {
      /* gone */
    }
  }
}

/**
 * Stops the CLI and everything it started. The CLI does not stop its shell tools on SIGTERM, and
 * runs each in a process group of its own, so the tree is listed before the CLI dies (after that
 * its orphans are reparented and can no longer be found) and each group is signalled.
 */
async function stopTree(child: ChildProcess, graceMs: number): Promise<void> {
  if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
  const ownGroup = procStat('self')?.pgrp;
  const tree = processTree(child.pid);
  child.kill('SIGTERM');
  signalAll(tree, 'SIGTERM', ownGroup);
  await reap(child, graceMs);
  signalAll(tree.filter((p) => procStat(p.pid) !== null), 'SIGKILL', ownGroup);
}

/** Listens on the session's socket and answers each hook's question with io.requestTool. */
async function startGate(socketPath: string, io: AgentIO): Promise<net.Server> {
  fs.rmSync(socketPath, { force: true });
  // allowHalfOpen: the hook ends its side after the request and still reads the answer.
  const server = net.createServer({ allowHalfOpen: true }, (conn) => {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('data', (d: string) => {
      buf += d;
      if (buf.length > 4 * 1024 * 1024) conn.destroy();
    });
    conn.on('end', async () => {
      let answer: { behavior: 'allow' } | { behavior: 'deny'; message: string };
      try {
        const request = JSON.parse(buf) as { tool?: unknown; input?: unknown };
        answer = await io.requestTool({ tool: String(request.tool ?? ''), input: request.input ?? {} });
      } catch (error) {
        answer = { behavior: 'deny', message: `tool policy unavailable: ${errorMessage(error)}` };
      }
      conn.end(JSON.stringify(answer));
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, 0o600);
  return server;
}

async function run(task: AgentTask, io: AgentIO): Promise<AgentResult> {
  if (io.signal.aborted) return { status: 'stopped', resume: task.resume };
  const creds = await io.getCredentials([API_KEY, BASE_URL]);
  if (!creds[API_KEY]) {
    const message = `${API_KEY} is not set for the session's creator: add it to their secrets to use the gemini agent`;
    io.emit({ type: 'error', content: { message } });
    return { status: 'failed', resume: task.resume, error: message };
  }
  const home = io.baseEnv.HOME;
  const geminiHome = typeof task.options.home === 'string' ? task.options.home : home ? path.join(home, '.agor-agents', 'gemini') : null;
  if (!geminiHome) {
    const message = 'the gemini agent needs HOME (or options.home) for its settings and sessions';
    io.emit({ type: 'error', content: { message } });
    return { status: 'failed', resume: task.resume, error: message };
  }

  // Handles are the session ids this adapter returned; anything else must not reach argv.
  if (task.resume !== null && !UUID.test(task.resume)) {
    const message = `not a gemini session id: ${JSON.stringify(task.resume.slice(0, 80))} (the next prompt starts a new conversation)`;
    io.emit({ type: 'error', content: { message } });
    return { status: 'failed', resume: null, error: message };
  }
  const sessionId = task.resume ?? crypto.randomUUID();
  const gateDir = path.join(geminiHome, 'gates');
  const socketPath = gateSocketPath(gateDir, sessionId);
  if (Buffer.byteLength(socketPath) > UNIX_SOCKET_PATH_MAX) {
    const message = `the gemini agent's policy socket path is too long (${socketPath}): set options.home to a shorter directory`;
    io.emit({ type: 'error', content: { message } });
    return { status: 'failed', resume: task.resume, error: message };
  }

  const configDir = path.join(geminiHome, '.gemini');
  fs.mkdirSync(configDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(gateDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(gateDir, 0o700);
  const gateScript = path.join(geminiHome, 'tool-policy-hook.mjs');
  writeFileAtomic(gateScript, GATE_SCRIPT, 0o600);
  const timeoutMs = typeof task.options.tool_decision_timeout_ms === 'number' ? task.options.tool_decision_timeout_ms : DEFAULT_TOOL_DECISION_TIMEOUT_MS;
  const hookCommand = `${shellQuote(process.execPath)} ${shellQuote(gateScript)} ${shellQuote(gateDir)}`;
  writeFileAtomic(path.join(configDir, 'settings.json'), `${JSON.stringify(geminiSettings(hookCommand, timeoutMs, task.options), null, 2)}\n`, 0o600);

  const env: Record<string, string> = {
    ...io.baseEnv,
    [API_KEY]: creds[API_KEY],
    [BASE_URL]: creds[BASE_URL] ?? (typeof task.options.base_url === 'string' ? task.options.base_url : DEFAULT_BASE_URL),
    GEMINI_CLI_HOME: geminiHome,
    GEMINI_CLI_NO_RELAUNCH: 'true',
    GEMINI_CLI_TRUST_WORKSPACE: 'true',
  };
  const { command, args } = cliCommand(task.options);
  args.push('--output-format', 'stream-json', '--approval-mode', 'yolo');
  args.push(...(task.resume ? ['--resume', task.resume] : ['--session-id', sessionId]));
  if (task.model) args.push('--model', task.model);

  let gate: net.Server;
  try {
    gate = await startGate(socketPath, io);
  } catch (error) {
    const message = `could not start the gemini tool-policy socket: ${errorMessage(error)}`;
    io.emit({ type: 'error', content: { message } });
    return { status: 'failed', resume: task.resume, error: message };
  }

  const stderr = tailBuffer();
  let resultSeen = false;
  let failure: string | null = null;
  let usage: AgentUsage | undefined;
  let reportedSession: string | null = null;
  const emittedErrors = new Set<string>();
  let child: ChildProcess | null = null;
  let stopping: Promise<void> | null = null;
  const onAbort = () => {
    if (child) stopping ??= stopTree(child, EXIT_GRACE_MS);
  };
  io.signal.addEventListener('abort', onAbort, { once: true });
  try {
    child = spawn(command, args, { cwd: task.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const proc = child;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      proc.once('error', (error) => resolve({ code: null, signal: null, error }));
      proc.once('exit', (code, signal) => resolve({ code, signal }));
    });
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (d: string) => stderr.push(d));
    proc.stdin!.on('error', () => undefined);
    // The prompt goes on stdin, never on argv (world-readable in /proc).
    proc.stdin!.end(task.prompt);
    if (io.signal.aborted) onAbort();

    for await (const line of readline.createInterface({ input: proc.stdout!, crlfDelay: Infinity })) {
      const event = parseGeminiLine(line);
      if (!event) continue;
      if (event.type === 'init' && typeof event.session_id === 'string') reportedSession = event.session_id;
      for (const m of mapGeminiEvent(event)) {
        if (m.type === 'error') {
          if (emittedErrors.has(String(m.content.message))) continue;
          emittedErrors.add(String(m.content.message));
        }
        io.emit(m);
      }
      if (event.type === 'result') {
        resultSeen = true;
        usage = statsUsage(event.stats);
        if (event.status !== 'success') failure = String((event.error as { message?: unknown } | undefined)?.message ?? 'the Gemini CLI reported an error');
      }
    }
    const exit = await exited;
    if (!io.signal.aborted && failure === null) {
      if (exit.error) failure = `could not start the Gemini CLI: ${exit.error.message}`;
      else if (exit.code !== 0) failure = `the Gemini CLI exited with ${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`}${stderr.text() ? `: ${stderr.text()}` : ''}`;
      else if (!resultSeen) failure = `the Gemini CLI ended without a result${stderr.text() ? `: ${stderr.text()}` : ''}`;
    }
  } catch (error) {
    if (!io.signal.aborted) failure ??= errorMessage(error);
  } finally {
    io.signal.removeEventListener('abort', onAbort);
    if (stopping) await stopping;
    if (child) await reap(child, EXIT_GRACE_MS);
    await new Promise<void>((resolve) => gate.close(() => resolve()));
    fs.rmSync(socketPath, { force: true });
  }

  // The session exists once the CLI reported it; before that a new id would resume nothing.
  const resume = reportedSession ?? task.resume;
  if (io.signal.aborted) return { status: 'stopped', resume, usage };
  if (failure !== null) {
    // A session the CLI no longer has (it lives in GEMINI_CLI_HOME) would fail every later prompt
    // too: drop the handle so the next prompt starts a new session, and say so.
    const lost = task.resume !== null && /Error resuming session/i.test(failure);
    if (lost) failure = `${failure} (the conversation could not be resumed; the next prompt starts a new one)`;
    // The protocol caps a task's error at 10,000 characters.
    if (failure.length > MAX_ERROR_CHARS) failure = `${failure.slice(0, MAX_ERROR_CHARS)}…`;
    if (!emittedErrors.has(failure)) io.emit({ type: 'error', content: { message: failure } });
    return { status: 'failed', resume: lost ? null : resume, usage, error: failure };
  }
  return { status: 'completed', resume, usage };
}

export const geminiAdapter: AgentAdapter = {
  credentialNames: [API_KEY, BASE_URL],
  run,
};

export default geminiAdapter;
