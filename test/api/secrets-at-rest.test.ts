// Secrets at rest across daemon starts: plaintext mode, later encryption, wrong secrets, rotation.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadRuntime, type Runtime } from '../../daemon/config/load.js';
import { initHome } from '../../daemon/bootstrap/init.js';
import { startDaemon, type RunningDaemon } from '../../daemon/main.js';
import { StartupRefusal } from '../../daemon/startup-checks.js';
import { writePidfile } from '../../daemon/pidfile.js';
import { credentialsForTask } from '../../daemon/crypto/credentials-for-task.js';
import { isPlain, kidOf } from '../../daemon/crypto/secret-box.js';
import type { PublicUser } from '../../daemon/services/users/users.schema.js';
import type { PublicUserSecret } from '../../daemon/services/user-secrets/user-secrets.shared.js';
import { makeTempHome, OWNER } from '../helpers/daemon.js';
import { boxFromHex, dbFiles, insertUser, newMasterHex, testValue, valuesFoundIn } from '../helpers/secrets.js';
import { runCli } from '../helpers/cli.js';

const homes: string[] = [];
after(() => homes.forEach((h) => fs.rmSync(h, { recursive: true, force: true })));

async function newHome(config: Record<string, unknown> = {}): Promise<Runtime> {
  const home = makeTempHome();
  homes.push(home);
  const configPath = path.join(home, 'config.yaml');
  fs.writeFileSync(configPath, stringify({ ...config, daemon: { host: '127.0.0.1', port: 0 } }), { mode: 0o600 });
  const runtime = loadRuntime({ configFlag: configPath, env: {} });
  await initHome(runtime, OWNER);
  return runtime;
}

async function start(runtime: Runtime, env: NodeJS.ProcessEnv): Promise<RunningDaemon & { logs: string[] }> {
  const logs: string[] = [];
  const daemon = await startDaemon(runtime, { env, log: (line) => logs.push(line) });
  return { ...daemon, logs };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    const daemon = (await promise) as RunningDaemon;
    await daemon.close();
  } catch (error) {
    assert.ok(error instanceof StartupRefusal, `expected StartupRefusal, got ${String(error)}`);
    return error.message;
  }
  assert.fail('the daemon started but should have refused');
}

/** Stores `count` secrets for each of `users` new users through the service, as those users. Returns value -> owner/name. */
async function storeSecrets(daemon: RunningDaemon, users: number, count: number): Promise<Map<string, { userId: string; name: string }>> {
  const stored = new Map<string, { userId: string; name: string }>();
  const service = daemon.app.service('user-secrets');
  for (let u = 0; u < users; u++) {
    const userId = await insertUser(daemon.app.get('db'), `u${u}`);
    for (let i = 0; i < count; i++) {
      const name = `SECRET_${i}`;
      const value = testValue(`u${u}-${name}`);
      await service.create({ name, value }, { user: { id: userId } as PublicUser });
      stored.set(value, { userId, name });
    }
  }
  return stored;
}

async function assertValues(daemonOrDb: RunningDaemon, hex: string, stored: Map<string, { userId: string; name: string }>): Promise<void> {
  const db = daemonOrDb.app.get('db');
  for (const [value, { userId, name }] of stored) {
    assert.deepEqual(await credentialsForTask(db, boxFromHex(hex), { userId, names: [name] }), { [name]: value });
  }
}

describe('no master secret', () => {
  it('warns with a [SECURITY] line and stores marked plaintext without a fingerprint', async () => {
    const daemon = await start(await newHome(), {});
    try {
      assert.equal(daemon.logs.filter((l) => l.startsWith('[SECURITY]') && /plaintext/.test(l)).length, 1, daemon.logs.join('\n'));
      const owner = (await daemon.app.get('db')('users').first()) as PublicUser;
      const created = (await daemon.app.service('user-secrets').create({ name: 'PLAIN_TOKEN', value: testValue('p') }, { user: owner })) as PublicUserSecret;
      assert.equal(created.fingerprint, null);
      const [row] = await daemon.app.get('db')('user_secrets');
      assert.ok(isPlain(row.value));
    } finally {
      await daemon.close();
    }
  });

  it('refuses to start with worktree_rbac, saying how to fix it', async () => {
    const message = await refusal(start(await newHome({ execution: { worktree_rbac: true } }), {}));
    assert.match(message, /no master secret/);
    assert.match(message, /AGOR_MASTER_SECRET_FILE/);
    assert.match(message, /security\.allow_plaintext_secrets: true/);
  });

  it('starts with worktree_rbac when allow_plaintext_secrets is true, still warning', async () => {
    const daemon = await start(await newHome({ execution: { worktree_rbac: true }, security: { allow_plaintext_secrets: true } }), {});
    await daemon.close();
    assert.ok(daemon.logs.some((l) => l.startsWith('[SECURITY]') && /plaintext/.test(l)));
  });
});

describe('setting a master secret later', () => {
  it('encrypts the existing plaintext values at the next start: count logged, values intact, none left on disk', async () => {
    const runtime = await newHome();
    const plain = await start(runtime, {});
    const stored = await storeSecrets(plain, 3, 2);
    await plain.close();
    assert.equal(valuesFoundIn(dbFiles(runtime.databaseFile), [...stored.keys()]).length, stored.size, 'control: plaintext is on disk before');

    const hex = newMasterHex();
    const daemon = await start(runtime, { AGOR_MASTER_SECRET: hex });
    try {
      assert.ok(daemon.logs.includes(`encrypted 6 plaintext secrets under master key ${boxFromHex(hex).kid}`), daemon.logs.join('\n'));
      assert.ok(!daemon.logs.some((l) => l.startsWith('[SECURITY]') && /plaintext/.test(l)));
      for (const row of await daemon.app.get('db')('user_secrets')) {
        assert.equal(kidOf(row.value), boxFromHex(hex).kid);
        assert.match(row.fingerprint, /^[0-9a-f]{16}$/);
      }
      await assertValues(daemon, hex, stored);
      assert.deepEqual(valuesFoundIn(dbFiles(runtime.databaseFile), [...stored.keys()]), []);
      assert.ok(!daemon.logs.some((l) => [...stored.keys()].some((v) => l.includes(v))));
    } finally {
      await daemon.close();
    }

    // Now the secret is required: a wrong one, or none, is a refusal naming the key id, not a crash.
    const kid = boxFromHex(hex).kid;
    const wrong = await refusal(start(runtime, { AGOR_MASTER_SECRET: newMasterHex() }));
    assert.match(wrong, /master secret is wrong/);
    assert.ok(wrong.includes(kid), wrong);
    const missing = await refusal(start(runtime, {}));
    assert.ok(missing.includes(kid), missing);
    const again = await start(runtime, { AGOR_MASTER_SECRET: hex });
    await assertValues(again, hex, stored);
    await again.close();
  });
});

describe('agor secrets rotate', () => {
  it('re-encrypts every value offline and says which variable to change; the old secret then opens nothing', async () => {
    const runtime = await newHome();
    const oldHex = newMasterHex();
    const first = await start(runtime, { AGOR_MASTER_SECRET: oldHex });
    const stored = await storeSecrets(first, 3, 3);
    await first.close();

    const newHex = newMasterHex();
    const newFile = path.join(runtime.paths.home, 'master-2.key');
    fs.writeFileSync(newFile, newHex + '\n');
    fs.chmodSync(newFile, 0o644); // explicitly: the in-process daemon set a 077 umask
    const args = ['--config', runtime.paths.configPath, 'secrets', 'rotate', '--new-secret-file', newFile];
    const env = { AGOR_MASTER_SECRET: oldHex, HOME: runtime.paths.home };
    const before = await (async () => {
      const daemon = await start(runtime, { AGOR_MASTER_SECRET: oldHex });
      const rows = await daemon.app.get('db')('user_secrets').orderBy('id');
      await daemon.close();
      return rows;
    })();
    const unchanged = async () => {
      const daemon = await start(runtime, { AGOR_MASTER_SECRET: oldHex });
      assert.deepEqual(await daemon.app.get('db')('user_secrets').orderBy('id'), before);
      await daemon.close();
    };

    // A secret file others can read is refused, with the fix.
    const loose = await runCli(args, { env });
    assert.notEqual(loose.code, 0);
    assert.match(loose.stderr, /chmod 600/);
    fs.chmodSync(newFile, 0o600);

    // While the daemon runs (it holds the old key) rotation is refused.
    writePidfile(runtime.paths.pidFile, { pid: process.pid, url: 'http://127.0.0.1:1', started_at: new Date().toISOString() });
    const busy = await runCli(args, { env });
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /daemon is running/);
    fs.unlinkSync(runtime.paths.pidFile);
    await unchanged();

    const done = await runCli(args, { env });
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /Re-encrypted 9 secrets/);
    assert.ok(done.stdout.includes(`AGOR_MASTER_SECRET_FILE=${newFile}`), done.stdout);
    assert.match(done.stdout, /remove AGOR_MASTER_SECRET\b/);
    for (const text of [done.stdout, done.stderr, loose.stderr, busy.stderr]) {
      for (const secret of [oldHex, newHex, ...stored.keys()]) assert.ok(!text.includes(secret), 'CLI output leaks a secret');
    }

    const oldKid = boxFromHex(oldHex).kid;
    const stale = await refusal(start(runtime, { AGOR_MASTER_SECRET: oldHex }));
    assert.ok(stale.includes(oldKid) && stale.includes(boxFromHex(newHex).kid), stale);
    const daemon = await start(runtime, { AGOR_MASTER_SECRET_FILE: newFile });
    try {
      await assertValues(daemon, newHex, stored);
      await assert.rejects(credentialsForTask(daemon.app.get('db'), boxFromHex(oldHex), { userId: [...stored.values()][0]!.userId, names: ['SECRET_0'] }), /master secret is wrong/);
      assert.deepEqual(valuesFoundIn(dbFiles(runtime.databaseFile), [...stored.keys()]), []);
    } finally {
      await daemon.close();
    }
  });
});
