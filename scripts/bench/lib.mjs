// Shared pieces of the benchmarks in scripts/bench/ (not part of npm test): a temp AGOR_HOME,
// fast seeding straight into the database, a daemon child process that only this script signals
// (by pid), percentiles and a plain table printer. Every wait here is bounded.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { feathers } from '@feathersjs/feathers';
import socketioClient from '@feathersjs/socketio-client';
import authClient from '@feathersjs/authentication-client';
import { io } from 'socket.io-client';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const cli = path.join(root, 'dist/cli/main.js');
export const dist = (rel) => path.join(root, 'dist', rel);

export function requireBuild() {
  if (!fs.existsSync(cli)) {
    console.error(`${cli} not found: build first (npx tsc -p tsconfig.json)`);
    process.exit(1);
  }
}

/** requireBuild(), plus the built files a bench needs besides the CLI (paths below dist/). */
export function requireBuilt(...files) {
  requireBuild();
  for (const file of files) {
    if (!fs.existsSync(dist(file))) {
      console.error(`dist/${file} not found: run npm run build`);
      process.exit(1);
    }
  }
}

/** startOwnedDaemon() whose owner has the fake Anthropic API's key and address among their secrets. */
export async function startClaudeBenchDaemon(home, fakeUrl, key) {
  const owned = await startOwnedDaemon(home);
  await owned.api('POST', '/user-secrets', { name: 'ANTHROPIC_API_KEY', value: key });
  await owned.api('POST', '/user-secrets', { name: 'ANTHROPIC_BASE_URL', value: fakeUrl });
  return owned;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A positive integer option `--name N`, else `fallback`. */
export function intOption(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number.parseInt(process.argv[i + 1] ?? '', 10);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} needs a positive integer`);
    process.exit(2);
  }
  return value;
}

/** Deterministic PRNG (mulberry32) so every run seeds the same data. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A fresh AGOR_HOME under a temp dir, initialised like `agor init` (config, JWT key, database,
 * first owner). Returns what the benches need to write configs and start daemons.
 */
export async function makeHome(prefix, ownerPassword = 'bench-owner-password-1') {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const home = path.join(tmp, 'agor');
  fs.mkdirSync(path.join(tmp, 'home'));
  fs.mkdirSync(home, { mode: 0o700 });
  const masterSecret = crypto.randomBytes(32).toString('hex');
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: path.join(tmp, 'home'),
    AGOR_HOME: home,
    AGOR_MASTER_SECRET: masterSecret,
  };
  writeConfig(home, { rbac: true });
  const { loadRuntime } = await import(dist('daemon/config/load.js'));
  const { initHome } = await import(dist('daemon/bootstrap/init.js'));
  const runtime = () => loadRuntime({ env });
  await initHome(runtime(), { email: 'bench-owner@agor.test', password: ownerPassword });
  return { tmp, home, env, runtime, cleanup: () => fs.rmSync(tmp, { recursive: true, force: true }) };
}

/** config.yaml for the bench daemons: loopback, any free port, RBAC on or off, terminal off unless asked. */
export function writeConfig(home, { rbac, terminal = false }) {
  const yaml = [
    'daemon:',
    '  host: 127.0.0.1',
    '  port: 0',
    'execution:',
    `  worktree_rbac: ${rbac ? 'true' : 'false'}`,
    `  allow_web_terminal: ${terminal ? 'true' : 'false'}`,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(home, 'config.yaml'), yaml, { mode: 0o600 });
}

/** Inserts `rows` into `table` inside `trx`, in chunks that stay under SQLite's variable limit. */
export async function insertChunked(trx, table, rows, chunk = 500) {
  for (let i = 0; i < rows.length; i += chunk) await trx(table).insert(rows.slice(i, i + chunk));
}

/** Rows for the users table, all sharing one precomputed bcrypt hash (seeding stays fast). */
export function userRows(specs, passwordHash, at) {
  return specs.map(({ id, email, role, name }) => ({
    id,
    email,
    name: name ?? email,
    password: passwordHash,
    role,
    disabled: false,
    unix_username: null,
    sessions_revoked_at: null,
    created_at: at,
    updated_at: at,
  }));
}

/** A repo record with a fake path (nothing below reads it from disk). */
export function repoRow(id, name, ownerId, at) {
  return { id, name, path: `/nonexistent/agor-bench/${name}`, source: `/nonexistent/agor-bench/${name}`, managed: false, default_branch: 'main', created_by: ownerId, created_at: at };
}

export function worktreeRow({ id, repoId, name, othersCan, createdBy, at }) {
  return {
    id,
    repo_id: repoId,
    name,
    path: `/nonexistent/agor-bench/worktrees/${name}`,
    branch: name,
    others_can: othersCan,
    others_fs_access: 'read',
    dangerously_allow_session_sharing: false,
    unix_group: null,
    archived: false,
    created_by: createdBy,
    created_at: at,
    updated_at: at,
  };
}

const started = new Set();
function killStarted() {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  started.clear();
}
process.once('exit', killStarted);
process.once('SIGINT', () => {
  killStarted();
  process.exit(130);
});

/**
 * `agor daemon start --foreground` as a child process; resolves once it prints its URL and /health
 * answers. stop() sends SIGTERM to that pid (SIGKILL after a bounded wait).
 */
export async function spawnDaemon(env, { readyTimeoutMs = 30_000 } = {}) {
  const child = spawn(process.execPath, [cli, 'daemon', 'start', '--foreground'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child.pid);
  let output = '';
  let exitCode = null;
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? signal;
      started.delete(child.pid);
      resolve();
    }),
  );
  child.stdout.setEncoding('utf8').on('data', (d) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (output += d));
  const stop = async () => {
    if (exitCode !== null) return;
    child.kill('SIGTERM');
    const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!done && exitCode === null) {
      child.kill('SIGKILL');
      await Promise.race([exited, sleep(5_000)]);
    }
  };
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exitCode !== null) throw new Error(`daemon exited (${exitCode}) before answering: ${output.trim()}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`daemon not ready within ${readyTimeoutMs} ms: ${output.trim()}`);
    }
    const url = /listening on (http:\/\/[^\s)]+)/.exec(output)?.[1];
    if (url) {
      try {
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.ok) return { url, pid: child.pid, stop, output: () => output };
      } catch {
        // not yet
      }
    }
    await sleep(20);
  }
}

/** POST /authentication (local); returns { accessToken, user }. */
export async function login(url, email, password) {
  const res = await fetch(`${url}/authentication`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ strategy: 'local', email, password }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`login as ${email} failed: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/**
 * The daemon (spawnDaemon) on a makeHome() home, as its owner: `api(method, route, body)` over REST,
 * a worktree `bench` of a fresh repository under home.tmp, and the owner's own Socket.IO connection
 * with an authenticated Feathers client. stop() closes the socket, then the daemon (also when this
 * fails half-way).
 */
export async function startOwnedDaemon(home) {
  const daemon = await spawnDaemon(home.env);
  let socket;
  const stop = async () => {
    socket?.close();
    await daemon.stop();
  };
  try {
    const { accessToken } = await login(daemon.url, 'bench-owner@agor.test', 'bench-owner-password-1');
    const api = async (method, route, body) => {
      const res = await fetch(`${daemon.url}${route}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const json = await res.json();
      if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const { makeRepo } = await import(dist('daemon/git/test-support.js'));
    const repo = await api('POST', '/repos', { path: makeRepo(path.join(fs.mkdtempSync(path.join(home.tmp, 'repo-')), 'project')) });
    const worktree = await api('POST', '/worktrees', { repo_id: repo.id, name: 'bench' });
    socket = io(daemon.url, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 20_000 });
    const client = feathers().configure(socketioClient(socket, { timeout: 20_000 })).configure(authClient());
    await client.authenticate({ strategy: 'jwt', accessToken });
    return { daemon, api, worktree, socket, client, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** Prints rows (arrays of cells) under `header` as aligned columns; numbers right-aligned. */
export function printTable(header, rows) {
  const all = [header, ...rows].map((r) => r.map((c) => String(c)));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const numeric = header.map((_, i) => rows.every((r) => typeof r[i] === 'number' || /^[\d.,]+( ?[a-z%x/]+)?$/i.test(String(r[i]))));
  const line = (r) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(line(all[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of all.slice(1)) console.log(line(r));
}
