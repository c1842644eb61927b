import os from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * bcrypt (bcryptjs: pure JS, no native build) in a small pool of worker threads, so a login or a
 * password change never stalls the event loop: at cost 12 one compare is ~0.3-0.5 s of CPU, and ten
 * concurrent logins on the loop held /health for seconds. Workers start on first use (an idle daemon
 * pays nothing) and end after a minute without work; at most one per core, at most four.
 *
 * bcryptjs in workers rather than the native `bcrypt` package: no compiled dependency to build on
 * every machine, the same hashes ($2b$), and the cost is the same order (bcrypt is the work either way).
 */
type PasswordWork = { op: 'hash'; password: string; rounds: number } | { op: 'compare'; password: string; hash: string };
export type PasswordJob = PasswordWork & { id: number };
export type PasswordReply = { id: number; value: string | boolean; error?: undefined } | { id: number; error: string };

const POOL_SIZE = Math.max(1, Math.min(4, os.availableParallelism()));
const IDLE_MS = 60_000;
const WORKER_URL = new URL('./password-worker.js', import.meta.url);

interface Pending {
  resolve: (value: string | boolean) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  pending: Map<number, Pending>;
  idleTimer: NodeJS.Timeout | undefined;
}

const pool: PoolWorker[] = [];
let nextId = 1;

function retire(entry: PoolWorker, error: Error): void {
  const at = pool.indexOf(entry);
  if (at >= 0) pool.splice(at, 1);
  clearTimeout(entry.idleTimer);
  for (const job of entry.pending.values()) job.reject(error);
  entry.pending.clear();
}

function startWorker(): PoolWorker {
  const entry: PoolWorker = { worker: new Worker(WORKER_URL), pending: new Map(), idleTimer: undefined };
  entry.worker.on('message', (reply: PasswordReply) => {
    const job = entry.pending.get(reply.id);
    if (!job) return;
    entry.pending.delete(reply.id);
    if (reply.error !== undefined) job.reject(new Error(`password hashing failed: ${reply.error}`));
    else job.resolve(reply.value);
    if (entry.pending.size === 0) {
      // Idle: let the process exit without waiting for it, and free its memory after a while.
      entry.worker.unref();
      entry.idleTimer = setTimeout(() => {
        retire(entry, new Error('password worker retired'));
        void entry.worker.terminate();
      }, IDLE_MS).unref();
    }
  });
  entry.worker.on('error', (error) => retire(entry, error));
  entry.worker.on('exit', (code) => retire(entry, new Error(`password worker exited (code ${code})`)));
  pool.push(entry);
  return entry;
}

/** The least busy worker, starting another while the pool is below its size and all are busy. */
function pickWorker(): PoolWorker {
  let best: PoolWorker | undefined;
  for (const entry of pool) if (!best || entry.pending.size < best.pending.size) best = entry;
  if (best && (best.pending.size === 0 || pool.length >= POOL_SIZE)) return best;
  return startWorker();
}

function run(job: PasswordWork): Promise<string | boolean> {
  const entry = pickWorker();
  const id = nextId++;
  clearTimeout(entry.idleTimer);
  entry.worker.ref();
  return new Promise((resolve, reject) => {
    entry.pending.set(id, { resolve, reject });
    entry.worker.postMessage({ ...job, id });
  });
}

export async function hashPassword(password: string, rounds: number): Promise<string> {
  return (await run({ op: 'hash', password, rounds })) as string;
}

/** Whether `password` matches the bcrypt `hash`. */
export async function comparePassword(password: string, hash: string): Promise<boolean> {
  return (await run({ op: 'compare', password, hash })) as boolean;
}
