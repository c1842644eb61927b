import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentialsForTask } from './credentials-for-task.js';
import { SecretBoxError } from './secret-box.js';
import { boxFromHex, insertSecret, insertUser, newMasterHex, openTempDb, testValue, type TempDb } from '../../test/helpers/secrets.js';

const box = boxFromHex(newMasterHex());
let t: TempDb;
let alice: string;
let bob: string;
const A = { key: testValue('alice-key'), env: testValue('alice-env'), other: testValue('alice-other') };
const B = { key: testValue('bob-key') };

before(async () => {
  t = await openTempDb();
  alice = await insertUser(t.db, 'alice');
  bob = await insertUser(t.db, 'bob');
  await insertSecret(t.db, box, alice, 'ANTHROPIC_API_KEY', A.key);
  await insertSecret(t.db, box, alice, 'DATABASE_URL', A.env);
  await insertSecret(t.db, box, alice, 'UNRELATED', A.other);
  await insertSecret(t.db, box, bob, 'ANTHROPIC_API_KEY', B.key);
  await insertSecret(t.db, null, bob, 'PLAIN_VAR', 'plain value');
});
after(() => t.cleanup());

describe('credentialsForTask', () => {
  it("returns exactly the named secrets of exactly that user", async () => {
    assert.deepEqual(await credentialsForTask(t.db, box, { userId: alice, names: ['ANTHROPIC_API_KEY', 'DATABASE_URL'] }), {
      ANTHROPIC_API_KEY: A.key,
      DATABASE_URL: A.env,
    });
    assert.deepEqual(await credentialsForTask(t.db, box, { userId: bob, names: ['ANTHROPIC_API_KEY'] }), { ANTHROPIC_API_KEY: B.key });
  });

  it("never returns another user's value for a name the user has not set", async () => {
    assert.deepEqual(await credentialsForTask(t.db, box, { userId: bob, names: ['DATABASE_URL', 'UNRELATED'] }), {});
    assert.deepEqual(await credentialsForTask(t.db, box, { userId: 'no-such-user', names: ['ANTHROPIC_API_KEY'] }), {});
  });

  it('opens marked plaintext values too, and asks for nothing when no names are given', async () => {
    assert.deepEqual(await credentialsForTask(t.db, box, { userId: bob, names: ['PLAIN_VAR', 'PLAIN_VAR'] }), { PLAIN_VAR: 'plain value' });
    assert.deepEqual(await credentialsForTask(t.db, box, { userId: alice, names: [] }), {});
  });

  it('a value moved to another user does not open', async () => {
    const [row] = await t.db('user_secrets').where({ user_id: alice, name: 'UNRELATED' });
    await t.db('user_secrets').insert({ ...row, id: 'moved', user_id: bob });
    await assert.rejects(credentialsForTask(t.db, box, { userId: bob, names: ['UNRELATED'] }), (e: unknown) => e instanceof SecretBoxError && e.code === 'AUTH_FAILED' && !e.message.includes(A.other));
    await t.db('user_secrets').where('id', 'moved').delete();
  });

  it('the wrong key or no key fails with a message that says so', async () => {
    await assert.rejects(credentialsForTask(t.db, boxFromHex(newMasterHex()), { userId: alice, names: ['ANTHROPIC_API_KEY'] }), /master secret is wrong/);
    await assert.rejects(credentialsForTask(t.db, null, { userId: alice, names: ['ANTHROPIC_API_KEY'] }), /no master secret is configured/);
  });

  it('refuses a call without a user id', async () => {
    await assert.rejects(credentialsForTask(t.db, box, { userId: '', names: ['X'] }), TypeError);
  });
});
