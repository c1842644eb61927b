#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with node's built-in test runner.
// Node 20's `--test` does not expand globs, so the files are listed here.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function findTests(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return findTests(full);
    return entry.name.endsWith('.test.js') ? [full] : [];
  });
}

const filters = process.argv.slice(2);
const files = ['dist/daemon', 'dist/cli', 'dist/test']
  .flatMap(findTests)
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('run-tests: no test files found (did the build run?)');
  process.exit(1);
}
// The programs the daemon starts are esbuild bundles, not tsc output: without them the runner, agent,
// terminal and unix suites fail far from the cause (a spawn ENOENT, an executor that never answers).
const BUNDLES = ['dist/executor/agor-executor.mjs', 'dist/priv/agor-priv.mjs'];
const missing = BUNDLES.filter((f) => !fs.existsSync(f));
const missingNote = () =>
  console.error(`run-tests: MISSING BUNDLES ${missing.join(', ')}: tests that start an executor or agor-priv fail without them; build them with \`node scripts/build-bundles.mjs\` (or \`npm run build\`)`);
if (missing.length > 0) missingNote();
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
// Said again at the end, where a reader of the failures looks.
if (missing.length > 0 && result.status !== 0) missingNote();
process.exit(result.status ?? 1);
