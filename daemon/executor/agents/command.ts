// The `command` agent: a CLI named in config.yaml (`agents.<name>: { type: command, command: [argv...],
// env: [credential names] }`). Runs it WITHOUT a shell in the worktree, the prompt on its stdin, with
// the executor's allow-listed environment plus the credentials it lists (and AGOR_RESUME, see below).
//   stdout: each line is a `text` message ({ text }); a line `AGOR_RESUME:<handle>` is not shown but
//           sets the resume handle (the last one wins); the next prompt of the session gets it back
//           in the environment variable AGOR_RESUME.
//   stderr: each line is a `text` message too, marked { stream: 'stderr' } (CLIs print progress and
//           warnings there; only the exit status decides failure).
//   stdin:  the prompt (a newline added if it has none), then EOF.
//   exit 0 → completed; anything else → failed, with an `error` message saying how it ended.
// A stop sends SIGTERM to its session (children.ts); the executor SIGKILLs what is left after the grace period.
import { spawn } from 'node:child_process';
import { z } from 'zod';
import { LineReader } from '../../protocol/line-reader.js';
import { MAX_RESUME_LENGTH, credentialName } from '../../protocol/methods.js';
import { signalChild, trackChild } from '../children.js';
import type { AgentAdapter, AgentIO, AgentResult, AgentTask } from './types.js';

export const RESUME_LINE_PREFIX = 'AGOR_RESUME:';
export const RESUME_ENV = 'AGOR_RESUME';
/** Longest text message; a longer output line is split into several. */
export const MAX_OUTPUT_LINE_BYTES = 64 * 1024;
/** After the command exits, how long its output pipes may stay open (held by a background child). */
const DRAIN_AFTER_EXIT_MS = 2000;

export const commandOptionsSchema = z.strictObject({
  command: z.array(z.string().min(1).refine((s) => !s.includes('\0'), 'must not contain NUL')).min(1).max(256),
  env: z.array(credentialName).max(64).default([]),
});
export type CommandOptions = z.output<typeof commandOptionsSchema>;

const RESUME_PATTERN = new RegExp(`^${RESUME_LINE_PREFIX}([\\x21-\\x7e]{1,${MAX_RESUME_LENGTH}})\\s*$`);

export function createCommandAdapter(options: Record<string, unknown>): AgentAdapter {
  const parsed = commandOptionsSchema.safeParse(options);
  if (!parsed.success) throw new Error(`command agent: invalid options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const { command, env: credentialNames } = parsed.data;
  return {
    credentialNames,
    run: (task, io) => runCommand(command, credentialNames, task, io),
  };
}

async function runCommand(argv: string[], credentialNames: readonly string[], task: AgentTask, io: AgentIO): Promise<AgentResult> {
  const credentials = credentialNames.length > 0 ? await io.getCredentials([...credentialNames]) : {};
  if (io.signal.aborted) return { status: 'stopped', resume: null };
  const env: Record<string, string> = { ...io.baseEnv, ...credentials };
  if (task.resume) env[RESUME_ENV] = task.resume;

  const child = spawn(argv[0]!, argv.slice(1), { cwd: task.cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true, shell: false, windowsHide: true });
  trackChild(child, { group: true });
  let resume: string | null = null;

  const stdout = new LineReader({
    maxBytes: MAX_OUTPUT_LINE_BYTES,
    overflow: 'split',
    onLine: (line) => {
      const handle = RESUME_PATTERN.exec(line);
      if (handle) resume = handle[1]!;
      else io.emit({ type: 'text', content: { text: line } });
    },
  });
  const stderr = new LineReader({
    maxBytes: MAX_OUTPUT_LINE_BYTES,
    overflow: 'split',
    onLine: (line) => io.emit({ type: 'text', content: { text: line, stream: 'stderr' } }),
  });
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  const streamsClosed = Promise.all([once(child.stdout!, 'close'), once(child.stderr!, 'close')]);

  let spawnError: Error | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => {
      spawnError = error;
      resolve({ code: null, signal: null });
    });
  });

  const onAbort = () => signalChild(child, 'SIGTERM', true);
  io.signal.addEventListener('abort', onAbort, { once: true });

  // The prompt, then EOF. A command that never reads stdin makes this EPIPE: not an error.
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(task.prompt.endsWith('\n') ? task.prompt : `${task.prompt}\n`);

  const status = await exited;
  io.signal.removeEventListener('abort', onAbort);
  await Promise.race([streamsClosed, delay(DRAIN_AFTER_EXIT_MS)]);
  child.stdout!.destroy();
  child.stderr!.destroy();
  stdout.end();
  stderr.end();
  // Whatever it left running in its session (background jobs too) ends with it.
  signalChild(child, 'SIGKILL', true);

  if (spawnError) {
    const message = `cannot start ${argv[0]}: ${(spawnError as NodeJS.ErrnoException).code ?? spawnError.message}`;
    io.emit({ type: 'error', content: { message } });
    return { status: 'failed', resume, error: message };
  }
  if (io.signal.aborted) return { status: 'stopped', resume };
  if (status.code === 0) return { status: 'completed', resume };
  const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
  const message = `${argv[0]} ${how}`;
  io.emit({ type: 'error', content: { message, exit_code: status.code, signal: status.signal } });
  return { status: 'failed', resume, error: message };
}

function once(emitter: NodeJS.EventEmitter, event: string): Promise<void> {
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
