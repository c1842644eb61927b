#!/usr/bin/env node
// P4 (not part of npm test): the web terminal's cost over a plain PTY. After `npm run build`:
//   node scripts/bench/p4-terminal.mjs [--keys 300] [--mb 20] [--runs 3]
// A daemon (child process, simple mode, terminal on) opens a login shell through the terminals
// service; the bench drives it with the official Feathers Socket.IO client, exactly as the UI does.
// Baseline, measured in the same run: node-pty in this process spawning the same login shell with
// the same kind of clean environment (what the daemon itself does, minus Socket.IO and the service).
//   keystroke → echo  one character sent (terminals.input over Socket.IO / pty.write), timed until
//                     the output carrying its echo arrives; --keys keystrokes, the line cleared
//                     (Ctrl-U, untimed) every 40; p50 / p99 / max and the ratio to the baseline
//   large cat         `cat` of a --mb MB text file in the worktree, from the command's Enter to the
//                     marker printed after it; MB/s (of the file's size), best of --runs, ratio
// Every wait is bounded; only our own daemon child is signalled (by pid).
import { performance } from 'node:perf_hooks';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as pty from 'node-pty';
import { feathers } from '@feathersjs/feathers';
import socketioClient from '@feathersjs/socketio-client';
import authClient from '@feathersjs/authentication-client';
import { io } from 'socket.io-client';
import { dist, intOption, login, makeHome, percentile, printTable, requireBuild, sleep, spawnDaemon, writeConfig } from './lib.mjs';

requireBuild();
const KEYS = intOption('keys', 300);
const MB = intOption('mb', 20);
const RUNS = intOption('runs', 3);
const WAIT_MS = 60_000;
const COLS = 200;
const ROWS = 50;

/**
 * One terminal, whatever carries it: write(data) sends keys; every output chunk goes to the current
 * listener. `until(check)` resolves once check(chunk) is true for an arriving chunk (bounded).
 */
class Driver {
  constructor(write) {
    this.write = write;
    this.listener = null;
    this.bytes = 0;
  }
  data(chunk) {
    this.bytes += chunk.length;
    this.listener?.(chunk);
  }
  /** Sends `keys` and resolves with the ms until an output chunk satisfies `check`. */
  timed(keys, check, what, waitMs = WAIT_MS) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listener = null;
        reject(new Error(`timed out waiting for ${what} (${this.bytes} bytes received)`));
      }, waitMs);
      let t0 = 0;
      this.listener = (chunk) => {
        if (!check(chunk)) return;
        const ms = performance.now() - t0;
        clearTimeout(timer);
        this.listener = null;
        resolve(ms);
      };
      t0 = performance.now();
      this.write(keys);
    });
  }
  /** Runs `command` and waits for a marker printed after it; resolves with the ms from Enter. */
  command(command, waitMs = WAIT_MS) {
    const tag = `M${crypto.randomBytes(4).toString('hex')}`;
    // $((...)) is expanded by the shell only: the echo of the typed line does not match.
    let tail = '';
    return this.timed(`${command}; echo ${tag}-$((40+2))\r`, (chunk) => {
      // The marker may straddle two chunks, or share one with a long prompt after it.
      const seen = tail + chunk;
      tail = seen.slice(-64);
      return seen.includes(`${tag}-42`);
    }, `${command} to finish`, waitMs);
  }
}

async function ready(driver) {
  // The login shell answers a command once it reads input (keys typed while its profile runs may
  // be dropped when readline sets the terminal up, so ask again until one answers).
  for (let attempt = 1; ; attempt++) {
    try {
      return await driver.command('true', 2000);
    } catch (error) {
      if (attempt >= 15) throw error;
    }
  }
}

async function keystrokes(driver) {
  const times = [];
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  for (let i = 0; i < KEYS; i++) {
    if (i % 40 === 0) {
      // Clear the line (untimed) so readline never wraps or redraws; settle before timing again.
      driver.write('\x15');
      await sleep(20);
    }
    const key = letters[i % letters.length];
    times.push(await driver.timed(key, (chunk) => chunk.includes(key), `the echo of ${key}`));
  }
  driver.write('\x15');
  await sleep(20);
  return times.sort((a, b) => a - b);
}

async function catThroughput(driver, file) {
  const size = fs.statSync(file).size;
  const rates = [];
  for (let run = 0; run < RUNS; run++) {
    const ms = await driver.command(`cat ${file}`);
    rates.push(size / 1024 / 1024 / (ms / 1000));
  }
  return { best: Math.max(...rates), rates };
}

/** A text file of `mb` MB: 99-character lines plus newline, like a build log. */
function bigFile(dir, mb) {
  const file = path.join(dir, 'big.txt');
  const line = (i) => `${String(i).padStart(8, '0')} ${'the quick brown fox jumps over the lazy dog '.repeat(3).slice(0, 89)}\n`;
  const fd = fs.openSync(file, 'w');
  const target = mb * 1024 * 1024;
  let written = 0;
  let buf = '';
  for (let i = 0; written + buf.length < target; i++) {
    buf += line(i);
    if (buf.length > 1 << 20) {
      fs.writeSync(fd, buf);
      written += buf.length;
      buf = '';
    }
  }
  fs.writeSync(fd, buf);
  fs.closeSync(fd);
  return file;
}

/** node-pty here, spawning the login shell the daemon would start in simple mode. */
function plainTerminal(cwd) {
  const me = os.userInfo();
  const shell = me.shell || '/bin/sh';
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: me.homedir, USER: me.username, LOGNAME: me.username, SHELL: shell, LANG: 'C.UTF-8', TERM: 'xterm-256color' };
  const proc = pty.spawn(shell, ['-l'], { name: 'xterm-256color', cols: COLS, rows: ROWS, cwd, env });
  const driver = new Driver((keys) => proc.write(keys));
  proc.onData((d) => driver.data(d));
  return { driver, close: () => proc.kill('SIGKILL') };
}

const home = await makeHome('agor-bench-p4-');
writeConfig(home.home, { rbac: true, terminal: true });
const { makeRepo } = await import(dist('daemon/git/test-support.js'));
let daemon;
let socket;
let plain;
try {
  daemon = await spawnDaemon(home.env);
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
  const repo = await api('POST', '/repos', { path: makeRepo(path.join(fs.mkdtempSync(path.join(home.tmp, 'repo-')), 'project')) });
  const worktree = await api('POST', '/worktrees', { repo_id: repo.id, name: 'bench' });
  const file = bigFile(worktree.path, MB);

  socket = io(daemon.url, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 20_000 });
  const client = feathers().configure(socketioClient(socket, { timeout: 20_000 })).configure(authClient());
  await client.authenticate({ strategy: 'jwt', accessToken });
  const terminals = client.service('terminals');
  terminals.methods('input', 'resize');
  const { id } = await terminals.create({ worktree_id: worktree.id, cols: COLS, rows: ROWS });
  // Keys are sent without waiting for the call's acknowledgement, as a terminal UI does; the
  // acknowledgements are collected so a refused call still fails the run.
  const acks = [];
  const viaDaemon = new Driver((data) => acks.push(terminals.input({ id, data })));
  socket.on('terminals output', (e) => {
    if (e.id === id) viaDaemon.data(e.data);
  });
  plain = plainTerminal(worktree.path);

  console.log(`P4 web terminal: ${KEYS} keystrokes, cat of a ${MB} MB file x ${RUNS} (Node ${process.version}, ${os.cpus().length} CPUs)`);
  await ready(viaDaemon);
  await ready(plain.driver);
  // Alternating halves, so drift on a shared machine hits both sides alike.
  const keysDaemon = [];
  const keysPlain = [];
  for (let half = 0; half < 2; half++) {
    keysPlain.push(...(await keystrokes(plain.driver)));
    keysDaemon.push(...(await keystrokes(viaDaemon)));
  }
  const catPlain = await catThroughput(plain.driver, file);
  const catDaemon = await catThroughput(viaDaemon, file);
  await Promise.all(acks);
  await terminals.remove(id);

  keysDaemon.sort((a, b) => a - b);
  keysPlain.sort((a, b) => a - b);
  const p = (xs, q) => percentile(xs, q);
  const ms = (x) => `${x.toFixed(2)} ms`;
  printTable(
    ['keystroke → echo', 'p50', 'p99', 'max'],
    [
      ['daemon (Socket.IO)', ms(p(keysDaemon, 50)), ms(p(keysDaemon, 99)), ms(keysDaemon.at(-1))],
      ['plain node-pty', ms(p(keysPlain, 50)), ms(p(keysPlain, 99)), ms(keysPlain.at(-1))],
      ['ratio', `${(p(keysDaemon, 50) / p(keysPlain, 50)).toFixed(1)}x`, `${(p(keysDaemon, 99) / p(keysPlain, 99)).toFixed(1)}x`, ''],
    ],
  );
  console.log('');
  const mbs = (x) => `${x.toFixed(1)} MB/s`;
  printTable(
    [`cat ${MB} MB`, 'best', 'runs'],
    [
      ['daemon (Socket.IO)', mbs(catDaemon.best), catDaemon.rates.map((r) => r.toFixed(1)).join(' / ')],
      ['plain node-pty', mbs(catPlain.best), catPlain.rates.map((r) => r.toFixed(1)).join(' / ')],
      ['ratio (daemon ÷ plain)', (catDaemon.best / catPlain.best).toFixed(2), ''],
    ],
  );
  console.log(
    JSON.stringify({
      bench: 'p4-terminal',
      keys: KEYS,
      mb: MB,
      keystroke_ms: { daemon: { p50: p(keysDaemon, 50), p99: p(keysDaemon, 99) }, plain: { p50: p(keysPlain, 50), p99: p(keysPlain, 99) } },
      cat_mb_s: { daemon: catDaemon.best, plain: catPlain.best },
    }),
  );
} finally {
  plain?.close();
  socket?.close();
  await daemon?.stop();
  home.cleanup();
}
