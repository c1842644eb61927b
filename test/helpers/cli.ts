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
