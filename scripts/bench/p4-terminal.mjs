#!/usr/bin/env node
// P4 (not part of npm test): the web terminal's cost over a plain PTY. After `npm run build`:
//   node scripts/bench/p4-terminal.mjs [--keys 300] [--mb 20] [--runs 3]
// A daemon (child process, simple mode, terminal on) opens a login shell through the terminals
// service; the bench drives it with the official Feathers Socket.IO client, exactly as the UI does.
// Baselines, measured in the same run: node-pty in this process spawning the same login shell with
// the same clean environment (what the daemon itself does, minus Socket.IO and the service), and the
// same behind a bare Socket.IO server in its own process (the transport's own cost, without Feathers,
// authentication, validation, batching or flow control).
//   keystroke → echo  one character sent (terminals.input over Socket.IO / pty.write), timed until
//                     the output carrying its echo arrives; --keys keystrokes, the line cleared
//                     (Ctrl-U, untimed) every 40; p50 / p99 / max and the ratios to the baselines
//   large cat         `cat` of a --mb MB text file in the worktree, from the command's Enter to the
//                     marker printed after it; MB/s (of the file's size), best of --runs, ratios
// Every wait is bounded; only our own daemon child is signalled (by pid).
import { performance } from 'node:perf_hooks';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import * as pty from 'node-pty';
import { io } from 'socket.io-client';
import { intOption, makeHome, percentile, printTable, requireBuild, sleep, startOwnedDaemon, writeConfig } from './lib.mjs';

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

/** The clean environment the daemon gives a simple-mode terminal's login shell. */
function shellEnv() {
  const me = os.userInfo();
  return { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: me.homedir, USER: me.username, LOGNAME: me.username, SHELL: me.shell || '/bin/sh', LANG: 'C.UTF-8', TERM: 'xterm-256color' };
}

/** node-pty here, spawning the login shell the daemon would start in simple mode. */
function plainTerminal(cwd) {
  const env = shellEnv();
  const proc = pty.spawn(env.SHELL, ['-l'], { name: 'xterm-256color', cols: COLS, rows: ROWS, cwd, env });
  const driver = new Driver((keys) => proc.write(keys));
  proc.onData((d) => driver.data(d));
  return { driver, close: () => proc.kill('SIGKILL') };
}

/**
 * A second baseline: the same login shell behind a bare Socket.IO server in its own Node process (no
 * Feathers, no authentication, no validation, no batching): what any Socket.IO terminal costs.
 */
const BARE_SERVER = `
import http from 'node:http';
import { Server } from 'socket.io';
import * as pty from 'node-pty';
const [cwd, env] = [process.argv[1], JSON.parse(process.argv[2])];
const server = http.createServer();
const io = new Server(server, { transports: ['websocket'] });
io.on('connection', (socket) => {
  const proc = pty.spawn(env.SHELL, ['-l'], { name: 'xterm-256color', cols: ${COLS}, rows: ${ROWS}, cwd, env });
  proc.onData((data) => socket.emit('output', data));
  socket.on('input', (data) => proc.write(data));
  socket.on('disconnect', () => proc.kill('SIGKILL'));
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function bareSocketIoTerminal(cwd) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', BARE_SERVER, cwd, JSON.stringify(shellEnv())], {
    cwd: path.dirname(new URL(import.meta.url).pathname),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the bare Socket.IO server did not start')), 30_000);
    child.stdout.setEncoding('utf8').once('data', (d) => {
      clearTimeout(timer);
      resolve(Number(d.trim()));
    });
    child.once('exit', (code) => reject(new Error(`the bare Socket.IO server exited (${code})`)));
  });
  const sock = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('connect_error', reject);
  });
  const driver = new Driver((data) => sock.emit('input', data));
  sock.on('output', (d) => driver.data(d));
  return {
    driver,
    close: () => {
      sock.close();
      child.kill('SIGKILL');
    },
  };
}

const home = await makeHome('agor-bench-p4-');
writeConfig(home.home, { rbac: true, terminal: true });
let owned;
let plain;
let bare;
try {
  owned = await startOwnedDaemon(home);
  const { worktree, socket, client } = owned;
  const file = bigFile(worktree.path, MB);
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
  bare = await bareSocketIoTerminal(worktree.path);
  const sides = [
    ['daemon (Feathers, Socket.IO)', viaDaemon],
    ['bare Socket.IO + node-pty', bare.driver],
    ['plain node-pty (in process)', plain.driver],
  ];

  console.log(`P4 web terminal: ${KEYS} keystrokes, cat of a ${MB} MB file x ${RUNS} (Node ${process.version}, ${os.cpus().length} CPUs)`);
  for (const [, driver] of sides) await ready(driver);
  // Alternating halves, so drift on a shared machine hits every side alike.
  const keys = sides.map(() => []);
  for (let half = 0; half < 2; half++) {
    for (const [i, [, driver]] of sides.entries()) keys[i].push(...(await keystrokes(driver)));
  }
  const cats = [];
  for (const [, driver] of sides) cats.push(await catThroughput(driver, file));
  await Promise.all(acks);
  await terminals.remove(id);

  for (const k of keys) k.sort((a, b) => a - b);
  const p = (xs, q) => percentile(xs, q);
  const ms = (x) => `${x.toFixed(2)} ms`;
  const [kd, kb, kp] = keys;
  printTable(
    ['keystroke → echo', 'p50', 'p99', 'max', 'p50 ÷ plain', 'p50 ÷ bare'],
    sides.map(([label], i) => [label, ms(p(keys[i], 50)), ms(p(keys[i], 99)), ms(keys[i].at(-1)), `${(p(keys[i], 50) / p(kp, 50)).toFixed(1)}x`, `${(p(keys[i], 50) / p(kb, 50)).toFixed(1)}x`]),
  );
  console.log('');
  const mbs = (x) => `${x.toFixed(1)} MB/s`;
  printTable(
    [`cat ${MB} MB`, 'best', 'runs', '÷ plain', '÷ bare'],
    sides.map(([label], i) => [label, mbs(cats[i].best), cats[i].rates.map((r) => r.toFixed(1)).join(' / '), (cats[i].best / cats[2].best).toFixed(2), (cats[i].best / cats[1].best).toFixed(2)]),
  );
  const summary = (xs) => ({ p50: p(xs, 50), p99: p(xs, 99) });
  console.log(
    JSON.stringify({
      bench: 'p4-terminal',
      keys: KEYS,
      mb: MB,
      keystroke_ms: { daemon: summary(kd), bare_socketio: summary(kb), plain: summary(kp) },
      cat_mb_s: { daemon: cats[0].best, bare_socketio: cats[1].best, plain: cats[2].best },
    }),
  );
} finally {
  plain?.close();
  bare?.close();
  await owned?.stop();
  home.cleanup();
}
