import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, type CliResult } from '../helpers/cli.js';
import { isAlive } from '../../daemon/pidfile.js';

const OWNER = { email: 'modes@b.co', password: 'file-modes-password-1' };

/** Runs `node <args>` through /bin/sh with umask 000 (no argument is ever interpreted by the shell). */
function runUnderUmask000(nodeArgs: string[], env: Record<string, string>, input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', 'umask 000; exec "$@"', 'sh', process.execPath, ...nodeArgs], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

const agor = (args: string[], env: Record<string, string>, input = '') => runUnderUmask000([CLI, ...args], env, input);

/** Every entry under `dir` with its permission bits, e.g. { "config.yaml": 0o600 }. */
function modesUnder(dir: string, prefix = ''): Record<string, number> {
  const modes: Record<string, number> = {};
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = path.join(prefix, entry.name);
    const full = path.join(dir, entry.name);
    const stat = fs.lstatSync(full);
    modes[rel] = stat.mode & 0o7777;
    if (entry.isDirectory()) Object.assign(modes, modesUnder(full, rel));
    else assert.ok(stat.isFile(), `${rel} is a regular file (not a symlink, socket or fifo)`);
  }
  return modes;
}

function assertPrivate(home: string, mustExist: string[]): void {
  assert.equal(fs.statSync(home).mode & 0o7777, 0o700, 'AGOR_HOME is 0700');
  const modes = modesUnder(home);
  for (const name of mustExist) assert.ok(name in modes, `${name} exists`);
  for (const [name, mode] of Object.entries(modes)) {
    const isDir = fs.statSync(path.join(home, name)).isDirectory();
    assert.equal(mode, isDir ? 0o700 : 0o600, `${name} is ${mode.toString(8)}, expected ${isDir ? '700' : '600'}`);
  }
}

let base: string;
let home: string;
let env: Record<string, string>;

before(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-cli-modes-'));
  fs.mkdirSync(path.join(base, 'home'));
  home = path.join(base, 'agor'); // created by `agor init`, under umask 000
  env = { HOME: path.join(base, 'home'), AGOR_HOME: home };
});

after(async () => {
  let pid: number | undefined;
  try {
    pid = JSON.parse(fs.readFileSync(path.join(home, 'daemon.pid'), 'utf8')).pid;
  } catch {
    // no daemon of ours left running
  }
  if (pid && isAlive(pid)) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  fs.rmSync(base, { recursive: true, force: true });
});

describe('file modes under umask 000', () => {
  it('the wrapper really runs node with umask 000 (control)', async () => {
    const probe = await runUnderUmask000(['-e', 'console.log(process.umask())'], env);
    assert.equal(probe.stdout.trim(), '0');
    const file = path.join(base, 'control');
    await runUnderUmask000(['-e', `require('fs').writeFileSync(${JSON.stringify(file)}, 'x')`], env);
    assert.equal(fs.statSync(file).mode & 0o777, 0o666, 'an ordinary file would be world-writable');
    fs.rmSync(file);
  });

  it('init, daemon start, login, apikey create and daemon stop keep AGOR_HOME 0700 and every file 0600', async () => {
    const init = await agor(['init', '--email', OWNER.email, '--password-stdin'], env, OWNER.password);
    assert.equal(init.code, 0, init.stderr);
    assertPrivate(home, ['config.yaml', 'agor.db', 'jwt.key']);

    const set = await agor(['config', 'set', 'daemon.port', '0'], env);
    assert.equal(set.code, 0, set.stderr);
    assertPrivate(home, ['config.yaml']);

    const start = await agor(['daemon', 'start'], env);
    assert.equal(start.code, 0, start.stderr);
    assertPrivate(home, ['config.yaml', 'agor.db', 'jwt.key', 'daemon.log', 'daemon.pid']);

    const login = await agor(['login', '--email', OWNER.email, '--password-stdin'], env, OWNER.password);
    assert.equal(login.code, 0, login.stderr);
    const key = await agor(['apikey', 'create', '--name', 'modes', '--json'], env);
    assert.equal(key.code, 0, key.stderr);
    // While running, after writes: the WAL and shared-memory files exist now and must be private too.
    assertPrivate(home, ['config.yaml', 'agor.db', 'jwt.key', 'daemon.log', 'daemon.pid', 'cli-token.json']);

    const pid = JSON.parse(fs.readFileSync(path.join(home, 'daemon.pid'), 'utf8')).pid as number;
    const stop = await agor(['daemon', 'stop'], env);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(isAlive(pid), false);
    assertPrivate(home, ['config.yaml', 'agor.db', 'jwt.key', 'daemon.log', 'cli-token.json']);
    assert.deepEqual(fs.readdirSync(env.HOME!), [], 'nothing in ~/.agor');
  });
});
