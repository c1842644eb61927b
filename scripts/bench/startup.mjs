#!/usr/bin/env node
// Startup benchmark (not part of npm test). After a build:
//   node scripts/bench/startup.mjs [--runs 7] [--idle-ms 2000]
// Measures N cold starts of `agor daemon start --foreground` on a fresh, initialised AGOR_HOME
// (port 0): time from spawn to the first 200 on /health, and the daemon's RSS after it idles.
// A minimal node http server is measured the same way in the same run as the baseline.
// Only the processes this script starts are signalled, by pid; every wait is bounded.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'dist/cli/main.js');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number.parseInt(process.argv[i + 1] ?? '', 10);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} needs a positive integer`);
    process.exit(2);
  }
  return value;
}

const RUNS = option('runs', 7);
const IDLE_MS = option('idle-ms', 2000);
const READY_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 10_000;

if (!fs.existsSync(cli)) {
  console.error(`${cli} not found: build first (npx tsc -p tsconfig.json)`);
  process.exit(1);
}

const BASELINE_SOURCE =
  "require('http').createServer((q,s)=>s.end('ok')).listen(0,'127.0.0.1',function(){console.log('listening on http://127.0.0.1:'+this.address().port)})";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const started = new Set(); // pids of children still running, for cleanup on any exit path

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

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
process.once('SIGINT', () => {
  killStarted();
  process.exit(130);
});
process.once('exit', killStarted);

/** VmRSS of a process in KiB, from /proc (Linux); null elsewhere. */
function rssKiB(pid) {
  try {
    const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line ? Number.parseInt(line.replace(/\D+/g, ''), 10) : null;
  } catch {
    return null;
  }
}

/** GET <url>/health on a fresh connection; resolves the status code, or null on a network error. */
function healthStatus(url) {
  return new Promise((resolve) => {
    const req = http.get(`${url}/health`, { agent: false, headers: { connection: 'close' }, timeout: 2000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? null));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(null));
  });
}

/** One cold start: spawn, wait for the URL on stdout, poll /health to the first 200, idle, read RSS, stop. */
async function measure(args, env) {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let url;
    let readyMs;
    while (readyMs === undefined) {
      if (exitCode !== null) throw new Error(`exited (${exitCode}) before answering: ${output.trim()}`);
      if (Date.now() > deadline) throw new Error(`not ready within ${READY_TIMEOUT_MS} ms: ${output.trim()}`);
      url ??= /listening on (http:\/\/[^\s)]+)/.exec(output)?.[1];
      if (url && (await healthStatus(url)) === 200) readyMs = performance.now() - t0;
      else await sleep(url ? 5 : 2);
    }
    await sleep(IDLE_MS);
    const rss = rssKiB(child.pid);
    return { readyMs, rssKiB: rss };
  } finally {
    if (exitCode === null) {
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(EXIT_TIMEOUT_MS).then(() => false)]);
      if (!stopped && isAlive(child.pid)) {
        child.kill('SIGKILL');
        await Promise.race([exited, sleep(EXIT_TIMEOUT_MS)]);
      }
    }
  }
}

function stats(values) {
  const sorted = values.filter((v) => v !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted.at(-1) };
}

const fmt = (s, unit, digits) => (s ? `${s.median.toFixed(digits)} ${unit} (min ${s.min.toFixed(digits)}, max ${s.max.toFixed(digits)})` : 'n/a');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-bench-startup-'));
try {
  const home = path.join(tmp, 'agor');
  fs.mkdirSync(path.join(tmp, 'home'));
  fs.mkdirSync(home, { mode: 0o700 });
  fs.writeFileSync(path.join(home, 'config.yaml'), 'daemon:\n  host: 127.0.0.1\n  port: 0\n', { mode: 0o600 });
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: path.join(tmp, 'home'), AGOR_HOME: home };
  const init = spawnSync(process.execPath, [cli, 'init', '--email', 'bench@agor.test', '--password-stdin'], {
    env,
    input: 'bench-password-1\n',
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (init.status !== 0) throw new Error(`agor init failed: ${init.stderr || init.stdout}`);

  const daemon = [];
  const baseline = [];
  console.log(`agor startup benchmark: ${RUNS} runs each, RSS read after ${IDLE_MS} ms idle (node ${process.version}, ${os.cpus().length} CPUs)`);
  for (let i = 0; i < RUNS; i++) {
    // Interleaved so that machine load drifts affect both series alike.
    const d = await measure([cli, 'daemon', 'start', '--foreground'], env);
    const b = await measure(['-e', BASELINE_SOURCE], env);
    daemon.push(d);
    baseline.push(b);
    const kib = (v) => (v === null ? 'n/a' : `${(v / 1024).toFixed(1)} MiB`);
    console.log(
      `  run ${i + 1}: daemon ${d.readyMs.toFixed(0)} ms, ${kib(d.rssKiB)}; baseline ${b.readyMs.toFixed(0)} ms, ${kib(b.rssKiB)}`,
    );
  }

  const dReady = stats(daemon.map((r) => r.readyMs));
  const bReady = stats(baseline.map((r) => r.readyMs));
  const dRss = stats(daemon.map((r) => (r.rssKiB === null ? null : r.rssKiB / 1024)));
  const bRss = stats(baseline.map((r) => (r.rssKiB === null ? null : r.rssKiB / 1024)));
  console.log('');
  console.log(`time to first 200 /health  daemon   ${fmt(dReady, 'ms', 0)}`);
  console.log(`                           baseline ${fmt(bReady, 'ms', 0)}`);
  console.log(`                           ratio    ${(dReady.median / bReady.median).toFixed(1)}x (medians)`);
  console.log(`idle RSS (VmRSS)           daemon   ${fmt(dRss, 'MiB', 1)}`);
  console.log(`                           baseline ${fmt(bRss, 'MiB', 1)}`);
  console.log(`                           ratio    ${dRss && bRss ? `${(dRss.median / bRss.median).toFixed(1)}x (medians)` : 'n/a'}`);
} catch (error) {
  console.error(`bench failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  killStarted();
  fs.rmSync(tmp, { recursive: true, force: true });
}
