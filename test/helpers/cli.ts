import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The compiled `agor` entry point, run as a new user would: a child process with a controlled env. */
export const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `agor args...` with exactly `env` (plus PATH; undefined values are left out) and `input`
 * piped to stdin, never a TTY. A command still running after `timeoutMs` (e.g. a daemon that
 * should have refused to start) is killed, and the test sees its non-zero code.
 */
type Env = Record<string, string | undefined>;
export interface CliOptions {
  env?: Env;
  stdin?: string;
}

export function runCli(args: string[], options?: CliOptions): Promise<CliResult>;
export function runCli(args: string[], env?: Env, input?: string, timeoutMs?: number): Promise<CliResult>;
export function runCli(args: string[], envOrOptions: Env | CliOptions = {}, stdin = '', timeoutMs = 40_000): Promise<CliResult> {
  const isOptions = 'env' in envOrOptions || 'stdin' in envOrOptions;
  const env = (isOptions ? (envOrOptions as CliOptions).env : envOrOptions) ?? {};
  const input = isOptions ? ((envOrOptions as CliOptions).stdin ?? '') : stdin;
  const childEnv: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** A CLI command still running: its output so far, a wait for some of it, and its end. */
export interface RunningCli {
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout (or stderr) matches; rejects if the command ends first or after `ms`. */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr', ms?: number): Promise<void>;
  signal(sig: NodeJS.Signals): void;
  exited: Promise<CliResult>;
}

/** Starts `agor args...` like runCli (env, no TTY) without waiting for it: for commands that follow. */
export function startCli(args: string[], env: Env = {}, timeoutMs = 60_000): RunningCli {
  const childEnv: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  const child = spawn(process.execPath, [CLI, ...args], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((fn) => fn());
  child.stdout.setEncoding('utf8').on('data', (d: string) => ((out.stdout += d), changed()));
  child.stderr.setEncoding('utf8').on('data', (d: string) => ((out.stderr += d), changed()));
  child.stdin.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let done = false;
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      done = true;
      changed();
      resolve({ code, ...out });
    });
  });
  return {
    pid: child.pid!,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    signal: (sig) => child.kill(sig),
    exited,
    waitFor(pattern, stream = 'stdout', ms = 30_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(out[stream])) finish();
          else if (done) finish(new Error(`agor ${args.join(' ')} ended before printing ${pattern}; stdout: ${out.stdout} stderr: ${out.stderr}`));
        };
        const timeout = setTimeout(() => finish(new Error(`Timed out waiting for ${pattern} from agor ${args.join(' ')}; stdout: ${out.stdout} stderr: ${out.stderr}`)), ms);
        const finish = (error?: Error) => {
          clearTimeout(timeout);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        };
        listeners.add(check);
        check();
      });
    },
  };
}
