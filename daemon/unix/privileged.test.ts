import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describePrepareReport, parsePrepareReport, parsePrivStderr, PrivilegedClient } from './privileged.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-priv-client-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stand-in for sudo: records its argv and environment, answers as told by FAKE_ANSWER in a file. */
function fakeSudo(answer: { code: number; stderr?: string }): { client: PrivilegedClient; calls: () => string[][]; envs: () => string[] } {
  const log = path.join(dir, `log-${Math.random().toString(36).slice(2)}`);
  const script = path.join(dir, `sudo-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(
    script,
    `#!/bin/bash\nprintf '%s\\0' "$@" >> ${log}\nprintf '\\n' >> ${log}\nenv | sort | tr '\\n' ' ' >> ${log}.env\necho >> ${log}.env\n${answer.stderr ? `printf '%s\\n' ${JSON.stringify(answer.stderr)} >&2\n` : ''}exit ${answer.code}\n`,
    { mode: 0o755 },
  );
  return {
    client: new PrivilegedClient({ sudoPath: script, privPath: '/usr/local/libexec/agor/agor-priv' }),
    calls: () =>
      fs.existsSync(log)
        ? fs
            .readFileSync(log, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => l.split('\0').filter(Boolean))
        : [],
    envs: () => (fs.existsSync(`${log}.env`) ? fs.readFileSync(`${log}.env`, 'utf8').split('\n').filter(Boolean) : []),
  };
}

async function failure(promise: Promise<unknown>): Promise<{ name: string; code: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { name: string; code: number; message: string };
  }
  assert.fail('expected a failure');
}

describe('PrivilegedClient', () => {
  it('calls sudo -n <priv_path> <verb> --flag value, one argument each, with none of our environment', async () => {
    const fake = fakeSudo({ code: 0 });
    process.env.AGOR_MASTER_SECRET_LEAK_CHECK = 'nope';
    try {
      await fake.client.ensureUser('agor_alice');
      await fake.client.ensureGroup('agor_wt_0123456789ab');
      await fake.client.setGroupMembers('agor_wt_0123456789ab', ['agor_bob', 'agor_alice']);
      await fake.client.setGroupMembers('agor_wt_0123456789ab', []);
      await fake.client.prepareWorktree('/srv/agor/worktrees/p/a b', 'agor_wt_0123456789ab', 'read');
      await fake.client.removeGroup('agor_wt_0123456789ab');
    } finally {
      delete process.env.AGOR_MASTER_SECRET_LEAK_CHECK;
    }
    const p = '/usr/local/libexec/agor/agor-priv';
    assert.deepEqual(fake.calls(), [
      ['-n', p, 'ensure-user', '--user', 'agor_alice'],
      ['-n', p, 'ensure-group', '--group', 'agor_wt_0123456789ab'],
      ['-n', p, 'set-group-members', '--group', 'agor_wt_0123456789ab', '--members', 'agor_alice,agor_bob'],
      // An empty member list is an empty argument (printf %s\0 drops it from the log, so only the flag shows).
      ['-n', p, 'set-group-members', '--group', 'agor_wt_0123456789ab', '--members'],
      ['-n', p, 'prepare-worktree', '--path', '/srv/agor/worktrees/p/a b', '--group', 'agor_wt_0123456789ab', '--others', 'read'],
      ['-n', p, 'remove-group', '--group', 'agor_wt_0123456789ab'],
    ]);
    for (const env of fake.envs()) assert.doesNotMatch(env, /AGOR_/);
  });

  it('refuses malformed names before calling anything', async () => {
    const fake = fakeSudo({ code: 0 });
    for (const call of [() => fake.client.ensureUser('root'), () => fake.client.ensureGroup('agor_wt_../x'), () => fake.client.setGroupMembers('agor_wt_0123abcd', ['agor_a;b'])]) {
      assert.equal((await failure(call())).name, 'BadRequest');
    }
    assert.deepEqual(fake.calls(), []);
  });

  it("maps agor-priv's exit codes to errors that carry its message", async () => {
    const cases: Array<[number, string, string, RegExp]> = [
      [65, 'agor-priv: refused: agor_x is the daemon user', 'GeneralError', /ensure-user failed \(refused\): agor_x is the daemon user/],
      [64, 'agor-priv: usage: unknown flag --bogus', 'GeneralError', /\(usage\): unknown flag --bogus/],
      [66, 'agor-priv: config: /etc/agor/priv.yaml is writable by others', 'Unavailable', /priv\.yaml is writable by others.*install-unix-isolation/],
      [69, 'agor-priv: unavailable: useradd failed (exit 1)', 'Unavailable', /\(unavailable\): useradd failed/],
      [70, 'agor-priv: internal: boom', 'GeneralError', /\(internal\): boom/],
      [1, 'sudo: a password is required', 'Unavailable', /password is required.*sudoers rule/],
    ];
    for (const [code, stderr, name, message] of cases) {
      const fake = fakeSudo({ code, stderr });
      const error = await failure(fake.client.ensureUser('agor_x'));
      assert.equal(error.name, name, stderr);
      assert.match(error.message, message);
    }
  });

  it('reports a missing sudo as unavailable', async () => {
    const client = new PrivilegedClient({ sudoPath: path.join(dir, 'no-such-sudo'), privPath: '/x' });
    const error = await failure(client.ensureGroup('agor_wt_0123abcd'));
    assert.equal(error.name, 'Unavailable');
    assert.match(error.message, /not installed|ENOENT/);
  });

  it('parsePrivStderr takes the last agor-priv line', () => {
    assert.deepEqual(parsePrivStderr('noise\nagor-priv: refused: no\n'), { codeName: 'refused', detail: 'no' });
    assert.deepEqual(parsePrivStderr('sudo: sorry\n'), { codeName: null, detail: 'sudo: sorry' });
  });

  it("prepare-worktree's report of what it left alone is parsed from its one JSON line; nothing printed is null", () => {
    assert.equal(parsePrepareReport(''), null);
    assert.equal(parsePrepareReport('{"prepare_worktree": broken'), null);
    const line = JSON.stringify({ prepare_worktree: { skipped: 2, closed: 1, examples: [{ path: '/w/a', why: 'a file with 2 hard links: left unchanged' }], closedExamples: ['/w'] } });
    const report = parsePrepareReport(`${line}\n`)!;
    assert.deepEqual(report, { skipped: 2, closed: 1, examples: [{ path: '/w/a', why: 'a file with 2 hard links: left unchanged' }], closedExamples: ['/w'] });
    assert.equal(describePrepareReport(report), '2 inode(s) left unchanged, 1 directory closed to others instead (/w/a: a file with 2 hard links: left unchanged; ...)');
  });
});
