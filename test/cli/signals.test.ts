import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';

// `agor daemon start --foreground` is what a service manager runs: SIGTERM/SIGINT must shut it down cleanly.
const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const EXIT_WITHIN_MS = 5000;

let base: string;
let home: string;
let env: Record<string, string>;
const children: ChildProcessWithoutNullStreams[] = [];

function runCli(args: string[], input = ''): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.resume();
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
    child.stdin.end(input);
  });
}

before(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-cli-signals-'));
  fs.mkdirSync(path.join(base, 'home'));
  home = path.join(base, 'agor');
  fs.mkdirSync(home, { mode: 0o700 });
  fs.writeFileSync(path.join(home, 'config.yaml'), 'daemon:\n  host: 127.0.0.1\n  port: 0\n', { mode: 0o600 });
  env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: path.join(base, 'home'), AGOR_HOME: home };
  const init = await runCli(['init', '--email', 'sig@b.co', '--password-stdin'], 'signals-password-1');
  assert.equal(init.code, 0, init.stderr);
});

after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  fs.rmSync(base, { recursive: true, force: true });
});

interface Foreground {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Starts the foreground daemon and resolves once it has printed the URL it listens on. */
async function startForeground(): Promise<Foreground> {
  const child = spawn(process.execPath, [CLI, 'daemon', 'start', '--foreground'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  child.stdin.end();
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const deadline = Date.now() + 20_000;
  let url: string | undefined;
  while (!url) {
    url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
    if (url) break;
    if (child.exitCode !== null) throw new Error(`the daemon exited early: ${out}`);
    if (Date.now() > deadline) throw new Error(`the daemon printed no URL within 20s: ${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return { child, url, output: () => out, exited };
}

async function connectSocket(url: string) {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** An idle keep-alive HTTP connection: the kind that keeps a careless server.close() waiting forever. */
async function idleKeepAliveConnection(url: string): Promise<{ closed: () => boolean; agent: http.Agent }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let closed = false;
  await new Promise<void>((resolve, reject) => {
    const req = http.get(`${url}/health`, { agent }, (res) => {
      res.resume();
      res.once('end', resolve);
    });
    req.once('socket', (socket) => socket.once('close', () => (closed = true)));
    req.once('error', reject);
  });
  return { closed: () => closed, agent };
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  describe(`daemon start --foreground on ${signal}`, () => {
    it('exits 0 within a few seconds, disconnects its sockets and removes its pidfile', async () => {
      const daemon = await startForeground();
      const pidFile = path.join(home, 'daemon.pid');
      assert.equal(JSON.parse(fs.readFileSync(pidFile, 'utf8')).pid, daemon.child.pid, 'the foreground daemon owns the pidfile');

      const socket = await connectSocket(daemon.url);
      let disconnectReason: string | undefined;
      socket.once('disconnect', (reason) => (disconnectReason = reason));
      const keepAlive = await idleKeepAliveConnection(daemon.url);

      const sentAt = Date.now();
      daemon.child.kill(signal);
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no exit within ${EXIT_WITHIN_MS}ms after ${signal}: ${daemon.output()}`)), EXIT_WITHIN_MS).unref(),
      );
      const exit = await Promise.race([daemon.exited, timeout]);
      assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, daemon.output());
      assert.ok(exit.at - sentAt < EXIT_WITHIN_MS);
      assert.match(daemon.output(), new RegExp(`${signal} received`));

      // The client notices promptly; give the event loop a moment to deliver the close.
      for (let i = 0; i < 40 && (!disconnectReason || !keepAlive.closed()); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(disconnectReason, 'the Socket.IO client saw a disconnect');
      assert.ok(keepAlive.closed(), 'the idle keep-alive connection was closed');
      socket.close();
      keepAlive.agent.destroy();

      assert.equal(fs.existsSync(pidFile), false, 'the pidfile is removed');
      await assert.rejects(fetch(`${daemon.url}/health`), 'nothing listens any more');
    });
  });
}
