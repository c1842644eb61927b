#!/usr/bin/env node
// Login stall (not part of npm test): does password hashing hold the daemon's event loop? After
// `npm run build`:   node scripts/bench/login-stall.mjs [--logins 10] [--rounds 3]
// A daemon (child process, fresh AGOR_HOME, owner hashed at the daemon's bcrypt cost 12). One
// client polls GET /health back to back; its latencies are recorded first with nothing else going
// on (the baseline, same daemon, same run), then while --logins concurrent password logins
// (POST /authentication, local strategy) run. Repeated --rounds times; percentiles over all rounds.
// Every wait is bounded; only our own daemon child is signalled (by pid).
import { performance } from 'node:perf_hooks';
import { intOption, login, makeHome, percentile, printTable, requireBuild, spawnDaemon } from './lib.mjs';

requireBuild();
const LOGINS = intOption('logins', 10);
const ROUNDS = intOption('rounds', 3);
const IDLE_MS = 1500;

async function healthOnce(url) {
  const t0 = performance.now();
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(30_000) });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`/health answered ${res.status}`);
  return performance.now() - t0;
}

/** Polls /health back to back until `done()` is true; returns the latencies. */
async function poll(url, done) {
  const out = [];
  while (!done() && out.length < 100_000) out.push(await healthOnce(url));
  return out;
}

const home = await makeHome('agor-bench-login-');
const daemon = await spawnDaemon(home.env);
try {
  const idle = [];
  const busy = [];
  const loginMs = [];
  for (let i = 0; i < 50; i++) await healthOnce(daemon.url); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    const until = performance.now() + IDLE_MS;
    idle.push(...(await poll(daemon.url, () => performance.now() > until)));
    let finished = false;
    const t0 = performance.now();
    const logins = Promise.all(
      Array.from({ length: LOGINS }, () => login(daemon.url, 'bench-owner@agor.test', 'bench-owner-password-1').then(() => loginMs.push(performance.now() - t0))),
    ).finally(() => (finished = true));
    busy.push(...(await poll(daemon.url, () => finished)));
    await logins;
  }
  const row = (name, xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return [name, s.length, percentile(s, 50).toFixed(2), percentile(s, 99).toFixed(2), s[s.length - 1].toFixed(2)];
  };
  printTable(['GET /health (ms)', 'n', 'p50', 'p99', 'max'], [row('idle (baseline)', idle), row(`during ${LOGINS} concurrent logins`, busy)]);
  const sortedIdle = [...idle].sort((a, b) => a - b);
  const sortedBusy = [...busy].sort((a, b) => a - b);
  const logins = [...loginMs].sort((a, b) => a - b);
  console.log(`\np99 during logins ÷ idle p99: ${(percentile(sortedBusy, 99) / percentile(sortedIdle, 99)).toFixed(1)}×  (goal: p99 during logins ≤ 50 ms)`);
  console.log(`login completion (from start of the burst): p50 ${percentile(logins, 50).toFixed(0)} ms, last ${logins[logins.length - 1].toFixed(0)} ms`);
} finally {
  await daemon.stop();
  home.cleanup();
}
