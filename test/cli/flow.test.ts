import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { runCli } from '../helpers/cli.js';
import { isAlive } from '../../daemon/pidfile.js';

const OWNER = { email: 'a@b.co', password: 'first-owner-password-1' };
const MEMBER_EMAIL = 'm@b.co';

function readPid(home: string): number | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(home, 'daemon.pid'), 'utf8')).pid;
  } catch {
    return undefined;
  }
}

/** Stops the daemon this test started in `home` (by the pid it recorded), if it still runs. */
async function stopDaemonIn(home: string): Promise<void> {
  const pid = readPid(home);
  if (!pid || !isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

function occurrences(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** Any object anywhere in `value` with a key named `name`. */
function hasKeyDeep(value: unknown, name: string): boolean {
  if (Array.isArray(value)) return value.some((v) => hasKeyDeep(v, name));
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => k === name || hasKeyDeep(v, name));
  return false;
}

async function loginStatus(url: string, email: string, password: string): Promise<number> {
  const res = await fetch(`${url}/authentication`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ strategy: 'local', email, password }),
  });
  await res.arrayBuffer();
  return res.status;
}

let base: string;
let userHome: string;
const homes: string[] = [];

before(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-cli-flow-'));
  userHome = path.join(base, 'home');
  fs.mkdirSync(userHome);
});

after(async () => {
  for (const home of homes) await stopDaemonIn(home);
  fs.rmSync(base, { recursive: true, force: true });
});

describe('a new user, from init to daemon stop', () => {
  let agorHome: string;
  let env: Record<string, string>;
  let url: string;
  let daemonPid: number;

  before(() => {
    agorHome = path.join(base, 'agor');
    homes.push(agorHome);
    env = { HOME: userHome, AGOR_HOME: agorHome };
  });

  it('init --password-stdin creates the home and the first owner without echoing the password', async () => {
    const init = await runCli(['init', '--email', OWNER.email, '--password-stdin'], env, OWNER.password + '\n');
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /First owner: a@b\.co/);
    assert.ok(!(init.stdout + init.stderr).includes(OWNER.password), 'a password given on stdin is never printed');
    // Any free port: tests never bind a fixed one.
    assert.equal((await runCli(['config', 'set', 'daemon.port', '0'], env)).code, 0);
  });

  it('daemon start returns once the daemon answers /health', async () => {
    const start = await runCli(['daemon', 'start'], env);
    assert.equal(start.code, 0, start.stderr);
    const match = /started \(pid (\d+)\) on (http:\/\/127\.0\.0\.1:\d+)/.exec(start.stdout);
    assert.ok(match, `start says where: ${start.stdout}`);
    daemonPid = Number(match[1]);
    url = match[2]!;
    assert.equal(readPid(agorHome), daemonPid);
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
  });

  it('daemon status exits 0 and says running', async () => {
    const status = await runCli(['daemon', 'status'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /running \(pid \d+\).*healthy/);
    assert.ok(status.stdout.includes(String(daemonPid)));
  });

  it('a second daemon start refuses clearly and leaves the first one alone', async () => {
    const again = await runCli(['daemon', 'start'], env);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already running \(pid \d+/);
    assert.ok(again.stderr.includes(String(daemonPid)));
    assert.equal(again.stderr.trim().split('\n').length, 1);
    assert.ok(isAlive(daemonPid));
    assert.equal(readPid(agorHome), daemonPid);
    const foreground = await runCli(['daemon', 'start', '--foreground'], env, '', 20_000);
    assert.notEqual(foreground.code, null, 'a second foreground daemon must refuse, not run');
    assert.notEqual(foreground.code, 0);
    assert.match(foreground.stderr, /already running/);
  });

  it('login stores a token', async () => {
    const login = await runCli(['login', '--email', OWNER.email, '--password-stdin'], env, OWNER.password);
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Logged in to .* as a@b\.co \(owner\)/);
    assert.ok(fs.existsSync(path.join(agorHome, 'cli-token.json')));
  });

  let memberPassword: string;
  it('user create prints the generated password once, on stderr', async () => {
    const create = await runCli(['user', 'create', '--email', MEMBER_EMAIL, '--role', 'member'], env);
    assert.equal(create.code, 0, create.stderr);
    assert.match(create.stdout, /email: m@b\.co/);
    assert.match(create.stdout, /role: member/);
    const match = /Password \(shown once\): (\S+)/.exec(create.stderr);
    assert.ok(match, `password on stderr: ${create.stderr}`);
    memberPassword = match[1]!;
    assert.equal(occurrences(create.stdout + create.stderr, memberPassword), 1);
    assert.equal(await loginStatus(url, MEMBER_EMAIL, memberPassword), 201, 'the printed password works');
  });

  it('user list --json is valid JSON with both users and no password field anywhere', async () => {
    const list = await runCli(['user', 'list', '--json'], env);
    assert.equal(list.code, 0, list.stderr);
    const users = JSON.parse(list.stdout) as { email: string; role: string }[];
    assert.ok(Array.isArray(users));
    assert.deepEqual(users.map((u) => [u.email, u.role]).sort(), [[OWNER.email, 'owner'], [MEMBER_EMAIL, 'member']]);
    assert.equal(hasKeyDeep(users, 'password'), false);
    assert.doesNotMatch(list.stdout, /\$2[aby]\$/, 'no bcrypt hash');
    assert.ok(!list.stdout.includes(memberPassword));
  });

  it('an API key works on its own (AGOR_API_KEY) until it is revoked', async () => {
    const create = await runCli(['apikey', 'create', '--name', 'x', '--json'], env);
    assert.equal(create.code, 0, create.stderr);
    const key = JSON.parse(create.stdout) as { id: string; key: string; name: string };
    assert.equal(key.name, 'x');
    assert.match(key.key, /^agor_sk_/);
    // A home with no stored token: only the key can authenticate these calls.
    const keyEnv = { HOME: userHome, AGOR_HOME: path.join(base, 'key-only'), AGOR_URL: url, AGOR_API_KEY: key.key };
    const withKey = await runCli(['user', 'list', '--json'], keyEnv);
    assert.equal(withKey.code, 0, withKey.stderr);
    assert.equal((JSON.parse(withKey.stdout) as unknown[]).length, 2);
    const listed = await runCli(['apikey', 'list', '--json'], env);
    assert.ok(!listed.stdout.includes(key.key), 'the key is shown only once');

    const revoke = await runCli(['apikey', 'revoke', key.id], env);
    assert.equal(revoke.code, 0, revoke.stderr);
    const refused = await runCli(['user', 'list'], keyEnv);
    assert.notEqual(refused.code, 0);
    assert.equal(refused.stderr, 'agor: This API key was revoked\n');
    assert.equal(refused.stderr.trim().split('\n').length, 1);
    assert.equal(fs.existsSync(path.join(base, 'key-only')), false, 'a client-only call creates no home');
  });

  it('user passwd ends the old login and keeps the CLI signed in with the fresh token it gets back', async () => {
    const tokenFile = path.join(agorHome, 'cli-token.json');
    const old = (JSON.parse(fs.readFileSync(tokenFile, 'utf8')) as { accessToken: string }).accessToken;
    const passwd = await runCli(['user', 'passwd', '--password-stdin'], env, `${OWNER.password}\nsecond-owner-password-2\n`);
    assert.equal(passwd.code, 0, passwd.stderr);
    assert.match(passwd.stdout, /Password changed/);
    const fresh = (JSON.parse(fs.readFileSync(tokenFile, 'utf8')) as { accessToken: string }).accessToken;
    assert.notEqual(fresh, old);
    const oldStatus = await fetch(`${url}/users/me`, { headers: { authorization: `Bearer ${old}` } });
    assert.equal(oldStatus.status, 401, 'the token of the old login is refused');
    const list = await runCli(['user', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(await loginStatus(url, OWNER.email, 'second-owner-password-2'), 201);
  });

  it('daemon stop waits until the process is gone; status then exits 3', async () => {
    const stop = await runCli(['daemon', 'stop'], env);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /stopped/);
    assert.equal(isAlive(daemonPid), false, 'the pid is gone when stop returns');
    assert.equal(fs.existsSync(path.join(agorHome, 'daemon.pid')), false);
    const status = await runCli(['daemon', 'status'], env);
    assert.equal(status.code, 3);
    assert.match(status.stdout, /not running/);
    const stopAgain = await runCli(['daemon', 'stop'], env);
    assert.equal(stopAgain.code, 0);
    assert.match(stopAgain.stdout, /not running/);
  });

  it('a client command while the daemon is stopped prints one line and exits non-zero', async () => {
    const list = await runCli(['user', 'list'], env);
    assert.notEqual(list.code, 0);
    assert.equal(list.stdout, '');
    assert.equal(list.stderr.trim().split('\n').length, 1, `one line: ${list.stderr}`);
    assert.match(list.stderr, /Cannot reach the daemon/);
  });

  it('nothing was written to ~/.agor', () => {
    assert.deepEqual(fs.readdirSync(userHome), []);
  });
});

describe('init without --password-stdin, and re-running init', () => {
  let agorHome: string;
  let env: Record<string, string>;

  before(() => {
    agorHome = path.join(base, 'generated');
    homes.push(agorHome);
    env = { HOME: userHome, AGOR_HOME: agorHome };
  });

  function countUsers(): { count: number; owners: number } {
    const db = new Database(path.join(agorHome, 'agor.db'), { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare("SELECT COUNT(*) AS count, SUM(role = 'owner') AS owners FROM users").get() as { count: number; owners: number };
      return row;
    } finally {
      db.close();
    }
  }

  it('prints a generated password once, which logs in; a second init creates no other owner', async () => {
    const init = await runCli(['init', '--email', 'g@b.co'], env);
    assert.equal(init.code, 0, init.stderr);
    const match = /Password:\s+(\S+)/.exec(init.stdout);
    assert.ok(match, `a generated password is printed: ${init.stdout}`);
    const password = match[1]!;
    assert.ok(password.length >= 16);
    assert.equal(occurrences(init.stdout + init.stderr, password), 1, 'printed exactly once');
    assert.match(init.stdout, /shown once/);
    assert.deepEqual(countUsers(), { count: 1, owners: 1 });

    for (const args of [['init', '--email', 'second@b.co'], ['init']]) {
      const again = await runCli(args, env);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /no owner was created/);
      assert.doesNotMatch(again.stdout, /Password:/);
    }
    const withPassword = await runCli(['init', '--email', 'third@b.co', '--password-stdin'], env, 'third-password-1');
    assert.equal(withPassword.code, 0, withPassword.stderr);
    assert.match(withPassword.stdout, /no owner was created/);
    assert.deepEqual(countUsers(), { count: 1, owners: 1 });

    assert.equal((await runCli(['config', 'set', 'daemon.port', '0'], env)).code, 0);
    const start = await runCli(['daemon', 'start'], env);
    assert.equal(start.code, 0, start.stderr);
    const url = /on (http:\/\/\S+?);/.exec(start.stdout)?.[1];
    assert.ok(url, start.stdout);
    assert.equal(await loginStatus(url, 'g@b.co', password), 201, 'the generated password logs in');
    assert.equal(await loginStatus(url, 'second@b.co', password), 401);
    const stop = await runCli(['daemon', 'stop'], env);
    assert.equal(stop.code, 0, stop.stderr);
    assert.deepEqual(fs.readdirSync(userHome), []);
  });
});
