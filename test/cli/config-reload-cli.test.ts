// The CLI side of config reloads, against a real background daemon: `agor config check`,
// `agor config set` through the running daemon, SIGHUP, and "pending restart" in status and doctor.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { isAlive, readRunning } from '../../daemon/pidfile.js';
import { until } from '../runner/support.js';

const PASSWORD = 'reload-cli-password-1';
let base: string;
let config: string;
let env: Record<string, string>;

before(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-cli-reload-'));
  fs.mkdirSync(path.join(base, 'home'));
  config = path.join(base, 'srv', 'config.yaml');
  env = { HOME: path.join(base, 'home'), AGOR_CONFIG_PATH: config };
  assert.equal((await runCli(['init', '--email', 'owner@reload.test', '--password-stdin'], env, PASSWORD)).code, 0);
  assert.equal((await runCli(['config', 'set', 'daemon.port', '0'], env)).code, 0);
  const start = await runCli(['daemon', 'start'], env);
  assert.equal(start.code, 0, start.stderr);
  const login = await runCli(['login', '--email', 'owner@reload.test', '--password-stdin'], env, PASSWORD);
  assert.equal(login.code, 0, login.stderr);
});

after(async () => {
  const running = readRunning(path.join(base, 'srv', 'daemon.pid'));
  if (running) {
    process.kill(running.pid, 'SIGTERM');
    for (let i = 0; i < 100 && isAlive(running.pid); i++) await new Promise((r) => setTimeout(r, 100));
  }
  fs.rmSync(base, { recursive: true, force: true });
});

describe('agor config check / set / reload with a running daemon', () => {
  it('config check validates a file without a daemon: valid, and invalid with the line named (exit 2)', async () => {
    const ok = await runCli(['config', 'check'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /valid/);
    const bad = path.join(base, 'bad.yaml');
    fs.writeFileSync(bad, 'execution:\n  max_terminals: 3\n  max_terminal: 4\n');
    const refused = await runCli(['config', 'check', '--file', bad], env);
    assert.equal(refused.code, 2);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
    assert.match(refused.stderr, /line 3: unknown key "execution\.max_terminal"/);
  });

  it('config set of a live key is applied by the running daemon at once', async () => {
    const set = await runCli(['config', 'set', 'execution.max_terminals', '5'], env);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /applied live: execution\.max_terminals/);
    const log = fs.readFileSync(path.join(base, 'srv', 'daemon.log'), 'utf8');
    assert.match(log, /\[config\] reloaded \((file|api)\): applied execution\.max_terminals/);
  });

  it('a restart-only key is "pending restart" in config set, daemon status and doctor; SIGHUP reloads without stopping the daemon', async () => {
    const set = await runCli(['config', 'set', 'execution.executor_unix_user', 'agor_other'], env);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /pending restart .*execution\.executor_unix_user/);
    const status = await runCli(['daemon', 'status'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /pending restart: execution\.executor_unix_user/);
    const json = JSON.parse((await runCli(['--json', 'daemon', 'status'], env)).stdout);
    assert.deepEqual(json.pending_restart, ['execution.executor_unix_user']);
    const doctor = await runCli(['doctor'], env);
    assert.match(doctor.stdout, /WARN\s+config: pending restart: execution\.executor_unix_user/);

    const running = readRunning(path.join(base, 'srv', 'daemon.pid'))!;
    process.kill(running.pid, 'SIGHUP');
    const after = await runCli(['daemon', 'status'], env);
    assert.match(after.stdout, /running .* healthy/, 'SIGHUP does not end the daemon');
    assert.equal(readRunning(path.join(base, 'srv', 'daemon.pid'))?.pid, running.pid);

    // Set back: nothing pending any more.
    assert.equal((await runCli(['config', 'set', 'execution.executor_unix_user', 'agor_executor'], env)).code, 0);
    assert.doesNotMatch((await runCli(['daemon', 'status'], env)).stdout, /pending restart/);
  });

  it('an invalid hand edit: the daemon refuses it (log, config reload) and status still answers, naming the line', async () => {
    const good = fs.readFileSync(config, 'utf8');
    try {
      assert.match(good, /^ {2}port: 0$/m);
      fs.writeFileSync(config, good.replace(/^ {2}port: 0$/m, '  port: lots'));
      const reload = await runCli(['config', 'reload'], env);
      assert.notEqual(reload.code, 0);
      // The CLI reads the same file first (for the daemon's address), so it names the line itself.
      assert.match(reload.stderr, /line \d+: "daemon\.port" must be a number/);
      const status = await runCli(['daemon', 'status'], env);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /running .* healthy/);
      assert.match(status.stdout, /config file invalid, the daemon keeps its running config: .*line \d+/);
      await until(() => /\[config\] reload \(file\) refused, the daemon keeps its running config: .*line \d+: "daemon\.port"/.test(fs.readFileSync(path.join(base, 'srv', 'daemon.log'), 'utf8')), 'the refusal in the daemon log');
    } finally {
      fs.writeFileSync(config, good);
    }
  });

  it('config reload needs a daemon user who is an admin: it says what it applied', async () => {
    const reload = await runCli(['config', 'reload'], env);
    assert.equal(reload.code, 0, reload.stderr);
    assert.match(reload.stdout, /config\.yaml: nothing changed that applies live/);
  });
});
