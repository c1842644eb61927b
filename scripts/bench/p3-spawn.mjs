#!/usr/bin/env node
// P3: the cost of the one spawn path (daemon/unix/spawn.ts) per Unix mode.
//   - time from "spawn requested" to the first output ("ready") of the spawned login shell, for
//     simple (direct spawn), insulated (sudo -> agor-priv, replaced by setpriv -> env -> bwrap -> the sandboxed shell as the executor user
//     with the worktree group) and strict (the same, as a person's own account);
//   - each divided by the OS floors measured in the same run: plain `node -e 0` and
//     `sudo -n -u <executor user> node -e 0` (spawn to exit);
//   - the processes alive per running executor/shell and their RSS (what lingers: sudo, and bwrap
//     outside and inside the sandbox; agor-priv hands over by exec and does not stay).
// Run as root after `npm run build`: it installs Unix isolation with throwaway names inside a private
// mount namespace (test/unix/fixture.ts), measures from a process running AS the daemon user, and
// removes everything it made. Without root it measures simple mode and the node floor only.
//   node scripts/bench/p3-spawn.mjs [--runs 20]
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dist, intOption, percentile, printTable, requireBuild, root } from './lib.mjs';

requireBuild();
const runs = intOption('runs', 20);
const { UnixFixture, unixSuiteBlocker } = await import(dist('test/unix/fixture.js'));
const { acquireUnixSuiteLock } = await import(dist('test/helpers/unix-suite-lock.js'));

/** ms from spawn to exit of argv, `runs` times (after one warm-up). */
function floor(argv) {
  const times = [];
  for (let i = 0; i <= runs; i += 1) {
    const t0 = process.hrtime.bigint();
    // A clean environment, like the spawned processes get (NODE_EXTRA_CA_CERTS alone doubles node's start).
    const r = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore', env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' } });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
    if (i > 0) times.push(ms);
  }
  return times.sort((a, b) => a - b);
}

const median = (xs) => percentile([...xs].sort((a, b) => a - b), 50);
const fmt = (x) => x.toFixed(1);

function report(timings, resident, floors) {
  console.log(`\nP3 spawn path, ${runs} runs per row (medians; spawn requested -> first "ready" from the login shell)\n`);
  const rows = Object.entries(timings).map(([name, xs]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const m = median(sorted);
    return [name, fmt(m), fmt(percentile(sorted, 90)), (m / floors.node).toFixed(2), floors.sudo ? (m / floors.sudo).toFixed(2) : '-'];
  });
  rows.push(['floor: node -e 0', fmt(floors.node), '', '1.00', floors.sudo ? (floors.node / floors.sudo).toFixed(2) : '-']);
  if (floors.sudo) rows.push(['floor: sudo -n -u X node -e 0', fmt(floors.sudo), '', (floors.sudo / floors.node).toFixed(2), '1.00']);
  printTable(['mode', 'median ms', 'p90 ms', '÷ node floor', '÷ sudo floor'], rows);
  console.log('\nProcesses alive per running executor/shell (RSS):\n');
  const rrows = [];
  for (const [name, procs] of Object.entries(resident)) {
    const total = procs.reduce((s, p) => s + p.rssKb, 0);
    const rootKb = procs.filter((p) => p.uid === 0).reduce((s, p) => s + p.rssKb, 0);
    rrows.push([name, String(procs.length), procs.map((p) => `${p.name}(uid ${p.uid}, ${(p.rssKb / 1024).toFixed(1)} MB)`).join(' > '), (total / 1024).toFixed(1), (rootKb / 1024).toFixed(1)]);
  }
  printTable(['mode', 'processes', 'chain', 'total RSS MB', 'of which root MB'], rrows);
  console.log(JSON.stringify({ bench: 'p3-spawn', runs, floors, medians: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, median(v)])), resident }));
}

const blocker = unixSuiteBlocker();
if (blocker) {
  // Simple mode only, as whoever runs this.
  console.log(`(insulated/strict not measured: ${blocker})`);
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-p3-'));
  const spec = { runs, sudoPath: '/usr/bin/sudo', privPath: '/nonexistent', agorHome: path.join(cwd, '.agor'), modes: [{ name: 'simple', mode: 'simple', identity: { kind: 'daemon' }, cwd }] };
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/bench/p3-spawn-worker.mjs'), JSON.stringify(spec)], { encoding: 'utf8' });
  fs.rmSync(cwd, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(r.stderr);
  const result = JSON.parse(r.stdout);
  report(result.timings, result.resident, { node: median(floor([process.execPath, '-e', '0'])), sudo: 0 });
  process.exit(0);
}

const release = await acquireUnixSuiteLock('scripts/bench/p3-spawn.mjs');
const fx = new UnixFixture();
try {
  await fx.setupNamespace();
  const installed = fx.install();
  if (installed.status !== 0) throw new Error(`install failed: ${installed.stdout}\n${installed.stderr}`);
  fx.prepareApp();
  // The checkout, or its read-only bind mount where the daemon user can reach it.
  const worker = path.join(fx.appRoot, 'scripts/bench/p3-spawn-worker.mjs');

  // A worktree directory, its group, and a person who is a member (what the daemon's sync would do).
  const priv = '/usr/local/libexec/agor/agor-priv';
  const asDaemon = (argv) => {
    const r = fx.run(argv, { asUser: fx.daemonUser });
    if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  };
  const wt = `${fx.worktreesRoot}/bench`;
  const group = `agor_wt_${crypto.randomBytes(6).toString('hex')}`;
  fx.groupsSeen.add(group);
  const person = fx.person('bench');
  asDaemon(['/bin/mkdir', wt]);
  asDaemon(['/usr/bin/sudo', '-n', priv, 'ensure-group', '--group', group]);
  asDaemon(['/usr/bin/sudo', '-n', priv, 'prepare-worktree', '--path', wt, '--group', group, '--others', 'none']);
  asDaemon(['/usr/bin/sudo', '-n', priv, 'ensure-user', '--user', person]);
  asDaemon(['/usr/bin/sudo', '-n', priv, 'set-group-members', '--group', group, '--members', person]);

  const spec = {
    runs,
    sudoPath: '/usr/bin/sudo',
    privPath: priv,
    agorHome: `${fx.daemonHome}/p3-agor`,
    modes: [
      { name: 'simple', mode: 'simple', identity: { kind: 'daemon' }, cwd: wt },
      { name: 'insulated', mode: 'insulated', identity: { kind: 'insulated', user: fx.executorUser, group }, cwd: wt },
      { name: 'strict', mode: 'strict', identity: { kind: 'strict', user: person, group }, cwd: wt },
    ],
  };
  const r = fx.run([process.execPath, worker, JSON.stringify(spec)], { asUser: fx.daemonUser, timeoutMs: 600_000 });
  if (r.status !== 0) throw new Error(`worker failed: ${r.stderr}`);
  const result = JSON.parse(r.stdout.trim().split('\n').pop());
  const floors = {
    node: median(floor([process.execPath, '-e', '0'])),
    sudo: median(floor(['/usr/bin/sudo', '-n', '-u', fx.executorUser, process.execPath, '-e', '0'])),
  };
  report(result.timings, result.resident, floors);
} finally {
  fx.cleanup();
  release();
}
