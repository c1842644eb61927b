#!/usr/bin/env node
// Builds what the daemon serves and runs, into dist/:
//   node scripts/build.mjs              every step (`npm run build`, which `npm test` runs)
//   node scripts/build.mjs --if-stale   only the steps whose sources changed (`npm start`)
//   node scripts/build.mjs ui           only the named steps (tsc, ui, agor-priv, agor-executor)
// What is stale is decided by scripts/build-freshness.mjs; each step that succeeds is recorded there.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUILD_STEPS, forgetBuilt, readState, recordBuilt, staleSteps } from './build-freshness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TSC = 'node_modules/typescript/bin/tsc';
const VITE = 'node_modules/vite/bin/vite.js';

/** The commands of each step (node scripts, run with this node; never through a shell). */
const COMMANDS = {
  tsc: [[TSC, '-p', 'tsconfig.json']],
  ui: [[TSC, '-p', 'ui/tsconfig.json'], [VITE, 'build', '--config', 'ui/vite.config.ts', '--logLevel', 'warn'], ['ui/precompress.mjs']],
  'agor-priv': [['scripts/build-bundles.mjs', 'agor-priv']],
  'agor-executor': [['scripts/build-bundles.mjs', 'agor-executor']],
};

/**
 * Incremental tsc emits what changed since its last run (and new files), never again an output
 * deleted since: when one is gone, its record (dist/.tsbuildinfo) must go so everything is emitted.
 */
function tscLostOutputs(root, step) {
  const info = fs.statSync(path.join(root, 'dist/.tsbuildinfo'), { throwIfNoEntry: false });
  if (!info) return false;
  const exists = (f) => fs.existsSync(path.join(root, f));
  if ((readState(root).steps?.tsc?.outputs ?? []).some((f) => !exists(f))) return true;
  return step.expected(root).some((out) => {
    if (typeof out !== 'string' || exists(out)) return false;
    const source = out.replace(/^dist\//, '').replace(/js$/, 'ts');
    // A source newer than tsc's last run is compiled anyway (changed or new).
    return (fs.statSync(path.join(root, source), { throwIfNoEntry: false })?.mtimeMs ?? Infinity) <= info.mtimeMs;
  });
}

function runStep(root, { step }) {
  const startedAt = Date.now();
  if (step.name === 'tsc' && tscLostOutputs(root, step)) fs.rmSync(path.join(root, 'dist/.tsbuildinfo'));
  forgetBuilt(root, step);
  for (const [script, ...args] of COMMANDS[step.name]) {
    const result = spawnSync(process.execPath, [path.join(root, script), ...args], { stdio: 'inherit', cwd: root });
    if (result.status !== 0) {
      console.error(`build: ${step.what} failed (${[script, ...args].join(' ')})`);
      return false;
    }
  }
  // The `bin` of package.json: `npm link` / `npx agor` run it directly.
  if (step.name === 'tsc') fs.chmodSync(path.join(root, 'dist/cli/main.js'), 0o755);
  recordBuilt(root, step, startedAt);
  return true;
}

/**
 * Runs the stale steps (all of them unless onlyStale), printing one line about what and why.
 * Returns false when a step failed (its output is then not recorded as built).
 */
export function build({ root = ROOT, onlyStale = false, only = [], log = console.log } = {}) {
  const all = onlyStale ? staleSteps(root) : BUILD_STEPS.map((step) => ({ step, reason: 'asked for' }));
  const todo = all.filter(({ step }) => only.length === 0 || only.includes(step.name));
  if (todo.length === 0) {
    log('Nothing to build: dist/ is up to date with every source.');
    return true;
  }
  log(`Building agor: ${onlyStale ? todo.map(({ step, reason }) => `${step.what} (${reason})`).join('; ') : todo.map(({ step }) => step.what).join(', ')}`);
  return todo.every((item) => runStep(root, item));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const only = args.filter((a) => !a.startsWith('--'));
  const unknown = only.filter((name) => !BUILD_STEPS.some((s) => s.name === name));
  if (unknown.length > 0) {
    console.error(`build: unknown step(s) ${unknown.join(', ')}; known: ${BUILD_STEPS.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  process.exit(build({ onlyStale: args.includes('--if-stale'), only }) ? 0 : 1);
}
