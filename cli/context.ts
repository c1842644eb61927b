import fs from 'node:fs';
import { loadRuntime, type Runtime } from '../daemon/config/load.js';
import { writePrivateFile } from '../daemon/config/home.js';
import { readRunning } from '../daemon/pidfile.js';
import { CliError } from './errors.js';

/** Global options every command accepts. */
export interface GlobalOptions {
  config?: string;
  url?: string;
  json?: boolean;
}

export { CliError };

export function runtimeOf(opts: GlobalOptions, { allowMissingConfig = false } = {}): Runtime {
  return loadRuntime({ configFlag: opts.config, allowMissingConfig });
}

interface StoredToken {
  url: string;
  accessToken: string;
}

/**
 * The daemon's URL: --url, AGOR_URL, the running daemon's pidfile, then config host:port.
 */
export function daemonUrl(opts: GlobalOptions, runtime?: Runtime): string {
  const explicit = opts.url ?? process.env.AGOR_URL;
  if (explicit) return explicit.replace(/\/+$/, '');
  const rt = runtime ?? runtimeOf(opts);
  const running = readRunning(rt.paths.pidFile);
  if (running) return running.url;
  const { host, port, public_url } = rt.config.daemon;
  return public_url ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function saveToken(runtime: Runtime, token: StoredToken): void {
  writePrivateFile(runtime.paths.cliToken, JSON.stringify(token) + '\n');
}

function storedToken(runtime: Runtime): StoredToken | null {
  try {
    return JSON.parse(fs.readFileSync(runtime.paths.cliToken, 'utf8'));
  } catch {
    return null;
  }
}

/** Where the daemon is and the CLI user's credential (AGOR_API_KEY, else the `agor login` token). */
export function credentials(opts: GlobalOptions): { url: string; token: string; runtime: Runtime } {
  const runtime = runtimeOf(opts);
  const url = daemonUrl(opts, runtime);
  const token = process.env.AGOR_API_KEY ?? storedToken(runtime)?.accessToken;
  if (!token) throw new CliError('Not logged in: run `agor login` (or set AGOR_API_KEY)');
  return { url, token, runtime };
}
