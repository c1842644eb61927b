import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { configSchema } from '../config/schema.js';
import { StartupRefusal } from '../startup-checks.js';
import { PLAINTEXT_WARNING, prepareSecretsAtRest } from './secrets-at-rest.js';
import { kidOf, isPlain } from './secret-box.js';
import { credentialsForTask } from './credentials-for-task.js';
import { boxFromHex, dbFiles, insertSecret, insertUser, newMasterHex, openTempDb, secretRows, testValue, valuesFoundIn, type TempDb } from '../../test/helpers/secrets.js';

const config = (over: Record<string, unknown> = {}) => configSchema.parse(over);
const rbac = (allow = false) => config({ execution: { worktree_rbac: true }, security: { allow_plaintext_secrets: allow } });

let t: TempDb;
let logs: string[];
const log = (line: string) => void logs.push(line);
beforeEach(async () => {
  t = await openTempDb();
  logs = [];
});
afterEach(() => t.cleanup());

async function refusal(promise: Promise<unknown>): Promise<StartupRefusal> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof StartupRefusal, `expected StartupRefusal, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a StartupRefusal');
}

describe('secrets at rest: no master secret', () => {
  it('warns with a [SECURITY] line and stores plaintext (default config)', async () => {
    assert.equal(await prepareSecretsAtRest({ config: config(), db: t.db, env: {}, log }), null);
    assert.deepEqual(logs, [PLAINTEXT_WARNING]);
    assert.match(logs[0]!, /^\[SECURITY\] .*plaintext.*AGOR_MASTER_SECRET_FILE/);
  });

  it('refuses with worktree_rbac, saying how to fix it both ways', async () => {
    const error = await refusal(prepareSecretsAtRest({ config: rbac(), db: t.db, env: {}, log }));
    assert.match(error.message, /worktree_rbac/);
    assert.match(error.message, /AGOR_MASTER_SECRET/);
    assert.match(error.message, /openssl rand -hex 32/);
    assert.match(error.message, /security\.allow_plaintext_secrets: true/);
  });

  it('starts with worktree_rbac when plaintext is explicitly allowed, still warning', async () => {
    assert.equal(await prepareSecretsAtRest({ config: rbac(true), db: t.db, env: {}, log }), null);
    assert.deepEqual(logs, [PLAINTEXT_WARNING]);
  });

  it('refuses when values are encrypted but the master secret is missing, naming the key id', async () => {
    const box = boxFromHex(newMasterHex());
    await insertSecret(t.db, box, await insertUser(t.db), 'TOKEN', testValue('a'));
    const error = await refusal(prepareSecretsAtRest({ config: rbac(true), db: t.db, env: {}, log }));
    assert.ok(error.message.includes(box.kid), error.message);
    assert.match(error.message, /no master secret is set/);
  });
});

describe('secrets at rest: with a master secret', () => {
  it('an invalid master secret is a refusal that says how to make one and does not echo it', async () => {
    const weak = 'correct horse battery staple';
    const error = await refusal(prepareSecretsAtRest({ config: config(), db: t.db, env: { AGOR_MASTER_SECRET: weak }, log }));
    assert.match(error.message, /openssl rand -hex 32/);
    assert.ok(!error.message.includes(weak));
  });

  it('encrypts every plaintext value in one pass, logs the count, and the values stay correct', async () => {
    const values = new Map<string, { userId: string; name: string }>();
    for (const label of ['a', 'b']) {
      const userId = await insertUser(t.db, label);
      for (const name of ['ANTHROPIC_API_KEY', 'EXTRA_ENV']) {
        const value = testValue(`${label}-${name}`);
        values.set(value, { userId, name });
        await insertSecret(t.db, null, userId, name, value);
      }
    }
    assert.deepEqual(valuesFoundIn(dbFiles(t.file), [...values.keys()]).length, 4, 'control: plaintext is visible on disk before');
    const hex = newMasterHex();
    const box = await prepareSecretsAtRest({ config: rbac(), db: t.db, env: { AGOR_MASTER_SECRET: hex }, log });
    assert.ok(box);
    assert.deepEqual(logs, [`encrypted 4 plaintext secrets under master key ${box.kid}`]);
    for (const row of await secretRows(t.db)) {
      assert.equal(kidOf(row.value), box.kid);
      assert.match(row.fingerprint!, /^[0-9a-f]{16}$/);
    }
    for (const [value, { userId, name }] of values) {
      assert.deepEqual(await credentialsForTask(t.db, box, { userId, names: [name] }), { [name]: value });
    }
    // The plaintext does not survive in freed pages or WAL frames.
    assert.deepEqual(valuesFoundIn(dbFiles(t.file), [...values.keys()]), []);
    // A second start has nothing left to do and says nothing.
    logs = [];
    await prepareSecretsAtRest({ config: rbac(), db: t.db, env: { AGOR_MASTER_SECRET: hex }, log });
    assert.deepEqual(logs, []);
  });

  it('a wrong master secret is a refusal naming both key ids, and changes nothing', async () => {
    const right = boxFromHex(newMasterHex());
    const userId = await insertUser(t.db);
    await insertSecret(t.db, right, userId, 'TOKEN', testValue('x'));
    await insertSecret(t.db, null, userId, 'PLAIN_ONE', testValue('y'));
    const before = await secretRows(t.db);
    const wrongHex = newMasterHex();
    const wrong = boxFromHex(wrongHex);
    const error = await refusal(prepareSecretsAtRest({ config: config(), db: t.db, env: { AGOR_MASTER_SECRET: wrongHex }, log }));
    assert.match(error.message, /master secret is wrong/);
    assert.ok(error.message.includes(right.kid) && error.message.includes(wrong.kid), error.message);
    assert.deepEqual(await secretRows(t.db), before);
    assert.ok(isPlain(before.find((r) => r.name === 'PLAIN_ONE')!.value));
  });

  it('a malformed stored value stops the start naming its row, not a crash', async () => {
    const userId = await insertUser(t.db);
    const id = await insertSecret(t.db, null, userId, 'BROKEN', 'v');
    await t.db('user_secrets').where('id', id).update({ value: 'v1:zz:not-a-value' });
    const error = await refusal(prepareSecretsAtRest({ config: config(), db: t.db, env: { AGOR_MASTER_SECRET: newMasterHex() }, log }));
    assert.ok(error.message.includes(id) && error.message.includes('BROKEN'), error.message);
  });

  it('removes AGOR_MASTER_SECRET from process.env so nothing spawned inherits it', async () => {
    const saved = process.env.AGOR_MASTER_SECRET;
    process.env.AGOR_MASTER_SECRET = newMasterHex();
    try {
      assert.ok(await prepareSecretsAtRest({ config: config(), db: t.db, env: process.env, log }));
      assert.equal(process.env.AGOR_MASTER_SECRET, undefined);
    } finally {
      if (saved === undefined) delete process.env.AGOR_MASTER_SECRET;
      else process.env.AGOR_MASTER_SECRET = saved;
    }
  });
});
