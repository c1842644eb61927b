// The executor's core: ONE task per process. Says `ready`, takes one `run_task`, fetches just the
// credentials its adapter names, runs the adapter, streams its messages, answers `done`, exits.
// `stop` aborts the adapter's signal; whatever has not ended after the grace period is killed.
// Input closing (the daemon is gone) ends everything at once. Knows nothing of the daemon but the pipe.
import { DAEMON_TO_EXECUTOR, EXECUTOR_TO_DAEMON, PROTOCOL_VERSION, type RunTaskParams } from '../protocol/methods.js';
import { RpcErrorCode } from '../protocol/jsonrpc.js';
import { RpcHandlerError, RpcPeer } from '../protocol/peer.js';
import { loadAdapter } from './agents/index.js';
import type { AgentIO, AgentMessage, AgentResult } from './agents/types.js';
import { killAllChildren } from './children.js';
import { baseEnvironment } from './env.js';

export interface ExecutorOptions {
  input: NodeJS.ReadableStream;
  /** Writes one protocol line to the daemon. */
  write: (line: string) => boolean;
  /** Resolves once everything written so far has left the process. */
  flush: () => Promise<void>;
  /** The executor's own environment: only the allow-listed names are passed on. */
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  exit: (code: number) => void;
  pid: number;
  /** Without a run_task this long after `ready`, give up. */
  idleTimeoutMs?: number;
}

const MAX_ERROR_CHARS = 10_000;

export interface RunningExecutor {
  peer: RpcPeer<typeof DAEMON_TO_EXECUTOR, typeof EXECUTOR_TO_DAEMON>;
  /** The same as a `stop` from the daemon (SIGTERM ends up here). */
  stop(reason: string): void;
}

export function startExecutor(options: ExecutorOptions): RunningExecutor {
  const { log } = options;
  const peer = new RpcPeer({
    name: `executor ${options.pid}`,
    input: options.input,
    write: options.write,
    incoming: DAEMON_TO_EXECUTOR,
    outgoing: EXECUTOR_TO_DAEMON,
    log,
  });
  const baseEnv = baseEnvironment(options.env);
  const abort = new AbortController();
  let task: RunTaskParams | null = null;
  let finished = false;
  let exiting = false;
  let graceTimer: NodeJS.Timeout | undefined;

  const exit = (code: number) => {
    if (exiting) return;
    exiting = true;
    killAllChildren('SIGKILL');
    void options.flush().finally(() => options.exit(code));
  };

  const idle = setTimeout(() => {
    if (!task) {
      log('no run_task received; exiting');
      exit(1);
    }
  }, options.idleTimeoutMs ?? 60_000);
  idle.unref?.();

  /** Sends `done` once (a result the protocol refuses is replaced by a plain failure) and exits. */
  const finish = (result: AgentResult) => {
    if (finished || !task) return;
    finished = true;
    clearTimeout(graceTimer);
    const done = {
      task_id: task.task_id,
      status: result.status,
      resume: result.resume,
      ...(result.usage && { usage: result.usage }),
      ...(result.error && { error: result.error.slice(0, MAX_ERROR_CHARS) }),
    };
    try {
      peer.notify('done', done);
    } catch (error) {
      log(`the agent's result was not valid (${(error as Error).message}); reporting it as failed`);
      peer.notify('done', { task_id: task.task_id, status: result.status === 'completed' ? 'failed' : result.status, resume: null, error: `invalid agent result: ${(error as Error).message}`.slice(0, MAX_ERROR_CHARS) });
    }
    exit(0);
  };

  const stop = (reason: string) => {
    if (!task) {
      log(`${reason} before any task; exiting`);
      exit(0);
      return;
    }
    if (abort.signal.aborted || finished) return;
    abort.abort(new Error(reason));
    graceTimer = setTimeout(() => {
      killAllChildren('SIGKILL');
      finish({ status: 'stopped', resume: null, error: `the agent did not stop within ${task!.stop_grace_ms} ms and was killed` });
    }, task.stop_grace_ms);
  };

  const run = async (params: RunTaskParams) => {
    let result: AgentResult;
    try {
      const adapter = await loadAdapter(params.agent, params.options);
      const fetched = new Map<string, string>();
      const asked = new Set<string>();
      const getCredentials = async (names: string[]): Promise<Record<string, string>> => {
        const missing = [...new Set(names)].filter((n) => !asked.has(n));
        if (missing.length > 0) {
          const { credentials } = await peer.request('get_credentials', { names: missing });
          for (const n of missing) asked.add(n);
          for (const [name, value] of Object.entries(credentials)) if (missing.includes(name)) fetched.set(name, value);
        }
        return Object.fromEntries(names.filter((n) => fetched.has(n)).map((n) => [n, fetched.get(n)!]));
      };
      // Just in time, and only the names the agent declares.
      if (adapter.credentialNames.length > 0) await getCredentials([...adapter.credentialNames]);
      const io: AgentIO = {
        emit: (message: AgentMessage) => {
          if (finished) return;
          try {
            peer.notify('message', { task_id: params.task_id, message });
          } catch (error) {
            log(`dropped an invalid ${String(message?.type)} message from the agent: ${(error as Error).message}`);
          }
        },
        requestTool: (request) => peer.request('tool_request', { task_id: params.task_id, tool: request.tool, input: request.input }),
        getCredentials,
        signal: abort.signal,
        // The worktree's pinned git locations join the allow-list for this task (run_task.git_env).
        baseEnv: { ...baseEnv, ...params.git_env },
      };
      result = await adapter.run(
        { task_id: params.task_id, session_id: params.session_id, cwd: params.cwd, prompt: params.prompt, resume: params.resume, model: params.model, options: params.options },
        io,
      );
    } catch (error) {
      const message = (error as Error)?.message ?? String(error);
      result = abort.signal.aborted ? { status: 'stopped', resume: null, error: message } : { status: 'failed', resume: null, error: message };
      if (!abort.signal.aborted) {
        try {
          peer.notify('message', { task_id: params.task_id, message: { type: 'error', content: { message: message.slice(0, MAX_ERROR_CHARS) } } });
        } catch {
          // the pipe is gone; done below will not arrive either
        }
      }
    }
    finish(result);
  };

  peer.onRequest('run_task', (params) => {
    if (task) throw new RpcHandlerError(RpcErrorCode.Refused, 'this executor already has a task: it runs exactly one');
    if (exiting) throw new RpcHandlerError(RpcErrorCode.Refused, 'this executor is exiting');
    task = params;
    clearTimeout(idle);
    // Answer first, then run (the result of run_task is only "accepted").
    setImmediate(() => void run(params));
    return { accepted: true as const };
  });
  peer.onNotification('stop', ({ reason }) => stop(reason ?? 'stop requested'));
  peer.onClose((reason) => {
    // The daemon is gone (or closed our input): nobody would read a result. End everything now.
    if (!task) log(`input closed (${reason}) before any task; exiting`);
    else if (!finished) log(`input closed (${reason}) while running; killing the agent`);
    abort.abort(new Error('the daemon closed the pipe'));
    exit(finished ? 0 : 1);
  });

  peer.notify('ready', { protocol: PROTOCOL_VERSION, pid: options.pid });
  return { peer, stop };
}
