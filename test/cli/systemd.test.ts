// scripts/agor.service and the CLI's deference to systemd. systemd cannot run in this container
// (PID 1 is not systemd), so the unit is checked with `systemd-analyze verify` (when installed) and
// against the hardening rule that keeps sudo to agor-priv working.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../daemon/version.js';
import { systemdUnitOf } from '../../daemon/systemd.js';
import { runCli } from '../helpers/cli.js';

const unitText = fs.readFileSync(path.join(packageRoot(), 'scripts', 'agor.service'), 'utf8');
const directives = unitText
  .split('\n')
  .filter((l) => /^[A-Za-z]+=/.test(l))
  .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const);
const value = (key: string) => directives.filter(([k]) => k === key).map(([, v]) => v);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-systemd-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('scripts/agor.service', () => {
  it('keeps sudo working: no NoNewPrivileges=yes and none of the directives that imply it for a non-root User=', () => {
    // systemd.exec(5): each of these implies NoNewPrivileges=yes when User= is not root; some also
    // break sudo or agor-priv directly (bounding set, read-only /etc, private users).
    const forbidden = [
      'SystemCallFilter', 'SystemCallArchitectures', 'RestrictAddressFamilies', 'RestrictNamespaces', 'RestrictSUIDSGID', 'RestrictRealtime',
      'MemoryDenyWriteExecute', 'LockPersonality', 'PrivateDevices', 'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectKernelLogs',
      'ProtectClock', 'CapabilityBoundingSet', 'PrivateUsers', 'ProtectSystem', 'ProtectHome', 'DynamicUser',
    ];
    assert.deepEqual(directives.filter(([k]) => forbidden.includes(k)).map(([k]) => k), []);
    assert.deepEqual(value('NoNewPrivileges'), ['no']);
  });

  it('runs as the daemon user, restarts on failure, reads the master secret from a credential, stops within the grace', () => {
    assert.deepEqual(value('User'), ['@DAEMON_USER@']);
    assert.deepEqual(value('Restart'), ['on-failure']);
    assert.ok(value('ExecStart')[0]!.endsWith('daemon start --foreground'));
    assert.deepEqual(value('LoadCredential'), ['master.key:/etc/agor/master.key']);
    assert.ok(value('Environment').includes('AGOR_MASTER_SECRET_FILE=%d/master.key'));
    assert.equal(value('Environment').some((v) => v.startsWith('AGOR_MASTER_SECRET=')), false, 'never the secret itself');
    assert.deepEqual(value('KillMode'), ['mixed']);
    // Above the largest stop grace the config allows by default (10 s) plus the runner's margin.
    assert.ok(Number.parseInt(value('TimeoutStopSec')[0]!, 10) > 10 + 5);
    assert.deepEqual(value('ExecReload'), ['/bin/kill -HUP $MAINPID']);
  });

  it('systemd-analyze verify finds nothing to say about it (placeholders filled as the installer does)', (t) => {
    const which = spawnSync('sh', ['-c', 'command -v systemd-analyze']);
    if (which.status !== 0) return t.skip('systemd-analyze is not installed (the static checks above still ran)');
    const file = path.join(work, 'agor.service');
    fs.writeFileSync(
      file,
      unitText
        .replaceAll('@NODE@', process.execPath)
        .replaceAll('@AGOR_CLI@', path.join(packageRoot(), 'dist', 'cli', 'main.js'))
        .replaceAll('@AGOR_DIR@', packageRoot())
        .replaceAll('@DAEMON_USER@', 'root')
        .replaceAll('@DAEMON_HOME@', '/root'),
    );
    const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(`${result.stdout}${result.stderr}`.trim(), '', 'no warnings either (systemd-analyze exits 0 on unknown keys)');
  });
});

describe('agor daemon under systemd', () => {
  it('systemdUnitOf: a system service from its cgroup, not a shell a user-session service started', () => {
    assert.equal(systemdUnitOf({ INVOCATION_ID: 'x' }, '0::/system.slice/agor.service\n'), 'agor.service');
    assert.equal(systemdUnitOf({ INVOCATION_ID: 'x' }, '0::/user.slice/user-1000.slice/user@1000.service/app.slice/gnome-terminal-server.service\n'), undefined);
    assert.equal(systemdUnitOf({}, '0::/system.slice/agor.service\n'), undefined);
  });

  it('stop and status defer to systemd for a daemon it manages', async () => {
    const home = path.join(work, 'home');
    fs.mkdirSync(home, { mode: 0o700 });
    fs.writeFileSync(path.join(home, 'config.yaml'), 'daemon:\n  port: 0\n');
    // A daemon recorded as systemd's: this test process stands in for it (alive, our own pid).
    fs.writeFileSync(path.join(home, 'daemon.pid'), JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:9', started_at: new Date().toISOString(), systemd_unit: 'agor.service' }));
    const env = { HOME: work, AGOR_HOME: home };
    const stop = await runCli(['daemon', 'stop'], env);
    assert.notEqual(stop.code, 0);
    assert.match(stop.stderr, /managed by systemd: stop it with `sudo systemctl stop agor\.service`/);
    const status = await runCli(['daemon', 'status'], env);
    assert.match(status.stdout, /managed by systemd: systemctl status agor\.service/);
    const start = await runCli(['daemon', 'start'], env);
    assert.notEqual(start.code, 0);
    assert.match(start.stderr, /under systemd \(agor\.service\)/);
  });
});
