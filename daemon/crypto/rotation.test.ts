import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { rotateMasterSecret } from './rotation.js';
import { SecretBoxError, kidOf, openAny, type SecretBox } from './secret-box.js';
import { credentialsForTask } from './credentials-for-task.js';
import type { UserSecretRow } from '../services/user-secrets/user-secrets.schema.js';
import { boxFromHex, dbFiles, insertSecret, insertUser, newMasterHex, openTempDb, secretRows, testValue, type TempDb } from '../../test/helpers/secrets.js';

const CHILD = fileURLToPath(new URL('../../test/helpers/rotate-child.js', import.meta.url));
const NAMES = ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'DATABASE_URL', 'GITHUB_TOKEN'];

let t: TempDb;
let oldHex: string;
let newHex: string;
let oldBox: SecretBox;
let newBox: SecretBox;
/** value -> owner and name, for every stored secret (3 users x 4 names). */
let stored: Map<string, { userId: string; name: string }>;

beforeEach(async () => {
  t = await openTempDb();
  oldHex = newMasterHex();
  newHex = newMasterHex();
  oldBox = boxFromHex(oldHex);
  newBox = boxFromHex(newHex);
  stored = new Map();
  for (const label of ['ann', 'ben', 'cat']) {
    const userId = await insertUser(t.db, label);
    for (const name of NAMES) {
      const value = testValue(`${label}-${name}`);
      stored.set(value, { userId, name });
      await insertSecret(t.db, oldBox, userId, name, value);
    }
  }
});
afterEach(() => t.cleanup());

function opensWith(row: UserSecretRow, box: SecretBox): boolean {
  try {
    openAny(row.value, { userId: row.user_id, name: row.name }, box);
    return true;
  } catch {
    return false;
  }
}

async function assertAllUnder(expected: SecretBox, other: SecretBox): Promise<void> {
  const rows = await secretRows(t.db);
  assert.equal(rows.length, stored.size);
  for (const row of rows) {
    assert.equal(kidOf(row.value), expected.kid);
    assert.ok(opensWith(row, expected) && !opensWith(row, other), `${row.name} must open under exactly one key`);
  }
  for (const [value, { userId, name }] of stored) {
    assert.deepEqual(await credentialsForTask(t.db, expected, { userId, names: [name] }), { [name]: value });
  }
}

describe('rotateMasterSecret', () => {
  it('moves every value of every user to the new key; the old key no longer opens them', async () => {
    const before = await secretRows(t.db);
    assert.deepEqual(await rotateMasterSecret(t.db, oldBox, newBox), { reencrypted: 12, encrypted: 0 });
    await assertAllUnder(newBox, oldBox);
    const after = await secretRows(t.db);
    for (const row of after) {
      const old = before.find((r) => r.id === row.id)!;
      assert.equal(row.updated_at, old.updated_at, 'rotation is not a change of value');
      assert.notEqual(row.fingerprint, old.fingerprint, 'fingerprints are keyed by the master secret too');
      assert.throws(() => oldBox.open(row.value, { userId: row.user_id, name: row.name }), (e: unknown) => e instanceof SecretBoxError && e.code === 'KEY_MISMATCH');
    }
    // The retired ciphertexts do not linger in the file or the WAL.
    const bytes = dbFiles(t.file).map((f) => (fs.existsSync(f) ? fs.readFileSync(f).toString('latin1') : ''));
    for (const row of before) assert.ok(!bytes.some((b) => b.includes(row.value.split(':')[3]!)), 'old ciphertext still on disk');
  });

  it('seals plaintext values too, and refuses a "new" secret equal to the current one', async () => {
    const userId = await insertUser(t.db, 'dan');
    const value = testValue('plain');
    await insertSecret(t.db, null, userId, 'PLAIN_VAR', value);
    stored.set(value, { userId, name: 'PLAIN_VAR' });
    await assert.rejects(rotateMasterSecret(t.db, oldBox, boxFromHex(oldHex)), /is the current one/);
    assert.deepEqual(await rotateMasterSecret(t.db, oldBox, newBox), { reencrypted: 12, encrypted: 1 });
    await assertAllUnder(newBox, oldBox);
  });

  it('with the wrong current key it changes nothing', async () => {
    const before = await secretRows(t.db);
    await assert.rejects(rotateMasterSecret(t.db, boxFromHex(newMasterHex()), newBox), /nothing was changed/);
    assert.deepEqual(await secretRows(t.db), before);
  });

  it('a failure midway rolls everything back: all values stay under the old key', async () => {
    await assert.rejects(
      rotateMasterSecret(t.db, oldBox, newBox, {
        onProgress(done) {
          if (done === 5) throw new Error('simulated failure after 5 rows');
        },
      }),
      /simulated failure/,
    );
    await assertAllUnder(oldBox, newBox);
    // And a later rotation completes normally.
    await rotateMasterSecret(t.db, oldBox, newBox);
    await assertAllUnder(newBox, oldBox);
  });

  it('a process SIGKILLed mid-transaction leaves every value readable under exactly one key', async () => {
    const child = spawn(process.execPath, [CHILD], {
      env: { ...process.env, ROTATE_DB: t.file, ROTATE_OLD_HEX: oldHex, ROTATE_NEW_HEX: newHex, ROTATE_STOP_AFTER: '6' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('MIDWAY')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`child exited (${code}) before reaching the middle: ${out}`)));
    });
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    await assertAllUnder(oldBox, newBox);
    await rotateMasterSecret(t.db, oldBox, newBox);
    await assertAllUnder(newBox, oldBox);
  });
});
