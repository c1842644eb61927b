#!/usr/bin/env node
// `npm start`: build when the sources are newer than dist/, initialise AGOR_HOME when missing
// (printing the first owner's credentials once), then run the daemon in the foreground.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist/cli/main.js');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function run(cmd, args) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', cwd: root });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const sources = Math.max(newestMtime(path.join(root, 'daemon')), newestMtime(path.join(root, 'cli')));
if (!fs.existsSync(cli) || fs.statSync(cli).mtimeMs < sources) {
  console.log('Building agor...');
  run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
}
const passthrough = process.argv.slice(2);
run(process.execPath, [cli, ...passthrough, 'init', '--if-missing']);
run(process.execPath, [cli, ...passthrough, 'daemon', 'start', '--foreground']);
