#!/usr/bin/env node
// `npm start`: build whatever part of dist/ is missing or older than its sources (and nothing when
// none is: scripts/build-freshness.mjs decides), initialise AGOR_HOME when missing (printing the
// first owner's credentials once), then run the daemon in the foreground.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from './build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist/cli/main.js');

function run(args) {
  const result = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (!build({ root, onlyStale: true })) process.exit(1);
const passthrough = process.argv.slice(2);
run([cli, ...passthrough, 'init', '--if-missing']);
run([cli, ...passthrough, 'daemon', 'start', '--foreground']);
