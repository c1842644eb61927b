#!/usr/bin/env node
// CLI startup benchmark (not part of npm test). After a build:
//   node scripts/bench/cli-startup.mjs [--runs 15]
// Times `agor --version`, `agor --help` and `agor session --help` (one command's module loaded)
// from spawn to exit, against a bare `node -e 0` measured in the same run, interleaved so that
// machine load affects every series alike. Goal: --version and --help under 2x bare node.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { cli, intOption, percentile, printTable, requireBuild } from './lib.mjs';

const RUNS = intOption('runs', 15);
const EXIT_TIMEOUT_MS = 30_000;

requireBuild();

/** Milliseconds from spawn to exit of `node ...args`; rejects on a non-zero exit or a hang. */
function timeRun(args) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`node ${args.join(' ')} exited ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}

const SERIES = [
  ['node -e 0 (baseline)', ['-e', '0']],
  ['agor --version', [cli, '--version']],
  ['agor --help', [cli, '--help']],
  ['agor session --help', [cli, 'session', '--help']],
];

console.log(`agor CLI startup: ${RUNS} runs each, interleaved (node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)})`);
const times = SERIES.map(() => []);
for (const [, args] of SERIES) await timeRun(args); // warm the file cache once; not counted
for (let i = 0; i < RUNS; i++) for (const [s, [, args]] of SERIES.entries()) times[s].push(await timeRun(args));

const sorted = times.map((t) => [...t].sort((a, b) => a - b));
const baseMedian = percentile(sorted[0], 50);
printTable(
  ['command', 'median ms', 'p90 ms', 'min ms', 'median vs node'],
  SERIES.map(([name], s) => [name, percentile(sorted[s], 50).toFixed(0), percentile(sorted[s], 90).toFixed(0), sorted[s][0].toFixed(0), `${(percentile(sorted[s], 50) / baseMedian).toFixed(2)}x`]),
);
const worst = Math.max(percentile(sorted[1], 50), percentile(sorted[2], 50)) / baseMedian;
console.log(`\n--version/--help: ${worst.toFixed(2)}x bare node (goal: under 2x) ${worst < 2 ? 'OK' : 'OVER'}`);
