// agor-executor: the program that runs ONE agent task as the session's Unix identity (DESIGN §2, §8).
// Bundled to dist/executor/agor-executor.mjs; started only through daemon/unix/spawn.ts. Imports
// only daemon/protocol and daemon/executor (plus agent SDKs): never the database, config or crypto.
// Its stdout is the protocol channel: anything else that writes there (console.log in an SDK) is
// redirected to stderr, which the daemon logs.
import { format } from 'node:util';
import { killAllChildren } from './children.js';
import { startExecutor } from './executor.js';

const writeProtocol = process.stdout.write.bind(process.stdout) as (chunk: string, cb?: (error?: Error | null) => void) => boolean;
const toStderr = ((chunk: unknown, encoding?: unknown, cb?: unknown) =>
  process.stderr.write(chunk as string, encoding as BufferEncoding, cb as () => void)) as typeof process.stdout.write;
process.stdout.write = toStderr;
for (const level of ['log', 'info', 'debug'] as const) console[level] = (...args: unknown[]) => void process.stderr.write(format(...args) + '\n');

const log = (line: string) => void process.stderr.write(`[agor-executor ${process.pid}] ${line}\n`);


const executor = startExecutor({
  input: process.stdin,
  write: (line) => writeProtocol(line),
  flush: () => new Promise((resolve) => void writeProtocol('', () => resolve())),
  env: process.env,
  log,
  exit: (code) => process.exit(code),
  pid: process.pid,
});

// The spawn path stops an executor with SIGTERM (sudo relays it): the same as a `stop`.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => executor.stop(`${signal} received`));
// EPIPE on stdout: the daemon is gone.
process.stdout.on('error', () => process.exit(1));
process.on('uncaughtException', (error) => {
  log(`uncaught error: ${error.stack ?? error.message}`);
  process.exit(1);
});
process.on('unhandledRejection', (error) => log(`unhandled rejection: ${(error as Error)?.stack ?? String(error)}`));
// Nothing this executor started outlives it.
process.on('exit', () => killAllChildren('SIGKILL'));
