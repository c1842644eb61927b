import { createHash, randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SecretBox, SecretBoxError, isPlain, kidOf, openAny, sealPlain, type SecretBoxErrorCode } from './secret-box.js';

const master = randomBytes(32);
const box = SecretBox.fromMasterSecret(master);
const alice = { userId: 'user-alice', name: 'ANTHROPIC_API_KEY' };
const SECRET = 'sk-ant-api03-very-secret-value';

function expectError(fn: () => unknown, code: SecretBoxErrorCode, pattern: RegExp): SecretBoxError {
  let caught: unknown;
  try {
    const result = fn();
    assert.fail(`expected ${code}, got a result of type ${typeof result}`);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof SecretBoxError, `expected SecretBoxError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, pattern);
  assert.ok(!caught.message.includes(SECRET), 'error message leaks the secret value');
  return caught;
}

// Rebuilds a v1 string after applying `edit` to one decoded field (1=kid, 2=iv, 3=ct, 4=tag).
function editField(stored: string, index: 2 | 3 | 4, edit: (b: Buffer) => void): string {
  const parts = stored.split(':');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  edit(bytes);
  parts[index] = bytes.toString('base64url');
  return parts.join(':');
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
// A 16-byte tag is 22 chars; the last char carries 2 data bits and 4 padding bits.
function setLowBitOfLastChar(text: string): string {
  const idx = B64URL.indexOf(text.at(-1)!);
  return text.slice(0, -1) + B64URL[idx ^ 1];
}

describe('SecretBox round trip', () => {
  for (const [label, value] of [
    ['ascii', SECRET],
    ['empty string', ''],
    ['unicode', 'pässwörd 🔑 秘密 \u0000 tab\tnewline\n'],
    ['64 KiB', 'x'.repeat(64 * 1024)],
    ['64 KiB random', randomBytes(48 * 1024).toString('base64')],
  ] as const) {
    it(label, () => {
      const stored = box.seal(value, alice);
      assert.match(stored, /^v1:[0-9a-f]{8}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]*:[A-Za-z0-9_-]{22}$/);
      assert.ok(!stored.includes(value) || value === '', 'plaintext visible in stored form');
      assert.equal(box.open(stored, alice), value);
      assert.equal(openAny(stored, alice, box), value);
    });
  }

  it('a box rebuilt from the same master secret opens old values (deterministic derivation)', () => {
    const stored = box.seal(SECRET, alice);
    const again = SecretBox.fromMasterSecret(Buffer.from(master));
    assert.equal(again.kid, box.kid);
    assert.equal(again.open(stored, alice), SECRET);
  });

  it('uses a fresh IV each time, so two seals of one value differ', () => {
    const a = box.seal(SECRET, alice);
    const b = box.seal(SECRET, alice);
    assert.notEqual(a, b);
    assert.notEqual(a.split(':')[2], b.split(':')[2]);
  });

  it('refuses values that are not well-formed Unicode instead of altering them', () => {
    expectError(() => box.seal('abc\uD800', alice), 'INVALID_INPUT', /well-formed/);
  });
});

describe('SecretBox tamper detection', () => {
  const stored = box.seal(SECRET, alice);
  const ctLen = Buffer.from(stored.split(':')[3]!, 'base64url').length;
  const cases: Array<[string, 2 | 3 | 4, number]> = [
    ['iv', 2, 12],
    ['ciphertext', 3, ctLen],
    ['tag', 4, 16],
  ];
  for (const [field, index, len] of cases) {
    it(`flipping any single bit of the ${field} fails authentication`, () => {
      // First/last bit of every byte covers each byte and both bit ends without 8x the runtime.
      let tried = 0;
      for (let byte = 0; byte < len; byte++) {
        for (const bit of [0, 7]) {
          const forged = editField(stored, index, (b) => {
            b[byte]! ^= 1 << bit;
          });
          assert.notEqual(forged, stored);
          expectError(() => box.open(forged, alice), 'AUTH_FAILED', /failed authentication/);
          tried++;
        }
      }
      assert.equal(tried, len * 2);
    });
  }

  it('truncating the tag is malformed, not a weaker check', () => {
    const parts = stored.split(':');
    parts[4] = Buffer.from(parts[4]!, 'base64url').subarray(0, 12).toString('base64url');
    expectError(() => box.open(parts.join(':'), alice), 'MALFORMED', /^malformed stored secret$/);
  });

  it('a changed kid is reported as a key mismatch naming both key ids', () => {
    const parts = stored.split(':');
    const otherKid = parts[1] === '00000000' ? '11111111' : '00000000';
    parts[1] = otherKid;
    const err = expectError(() => box.open(parts.join(':'), alice), 'KEY_MISMATCH', /key id/);
    assert.ok(err.message.includes(otherKid) && err.message.includes(box.kid), err.message);
    assert.match(err.message, /master secret is wrong or rotation did not finish/);
  });

  it('a value moved to another user fails', () => {
    expectError(() => box.open(stored, { ...alice, userId: 'user-bob' }), 'AUTH_FAILED', /bound to another user\/name/);
  });

  it('a value moved to another name fails', () => {
    expectError(() => box.open(stored, { ...alice, name: 'OPENAI_API_KEY' }), 'AUTH_FAILED', /failed authentication/);
  });

  it('the AAD encoding cannot be shifted across the user/name boundary', () => {
    const s = box.seal(SECRET, { userId: 'a', name: 'b' });
    expectError(() => box.open(s, { userId: 'a\u0000name:b', name: 'b' }), 'INVALID_INPUT', /NUL/);
    expectError(() => box.open(s, { userId: '', name: 'b' }), 'INVALID_INPUT', /userId/);
    expectError(() => box.seal(SECRET, { userId: 'a', name: '' }), 'INVALID_INPUT', /name/);
  });
});

describe('SecretBox with a different master secret', () => {
  const other = SecretBox.fromMasterSecret(randomBytes(32));

  it('has a different kid that does not reveal the key', () => {
    assert.notEqual(other.kid, box.kid);
    assert.match(box.kid, /^[0-9a-f]{8}$/);
    assert.ok(!master.toString('hex').includes(box.kid));
    assert.ok(!JSON.stringify(box).includes(master.toString('hex').slice(0, 16)));
  });

  it('fails with the key-id message rather than crashing or returning garbage', () => {
    const stored = box.seal(SECRET, alice);
    const err = expectError(() => other.open(stored, alice), 'KEY_MISMATCH', /encrypted under master key/);
    assert.ok(err.message.includes(box.kid) && err.message.includes(other.kid));
    expectError(() => openAny(stored, alice, other), 'KEY_MISMATCH', /key id/);
  });

  it('still fails authentication if the kid is forged to match', () => {
    const parts = box.seal(SECRET, alice).split(':');
    parts[1] = other.kid;
    expectError(() => other.open(parts.join(':'), alice), 'AUTH_FAILED', /failed authentication/);
  });

  it('refuses master secrets shorter than 32 bytes', () => {
    expectError(() => SecretBox.fromMasterSecret(randomBytes(31)), 'INVALID_INPUT', /at least 32 bytes/);
  });
});

describe('malformed stored values', () => {
  const good = box.seal(SECRET, alice);
  const [, kid, iv, ct, tag] = good.split(':') as [string, string, string, string, string];
  const bad: Array<[string, string]> = [
    ['empty', ''],
    ['garbage', 'hello'],
    ['unknown version', `v2:${kid}:${iv}:${ct}:${tag}`],
    ['too few fields', `v1:${kid}:${iv}:${ct}`],
    ['too many fields', `${good}:x`],
    ['uppercase kid', `v1:ABCDEF12:${iv}:${ct}:${tag}`],
    ['short kid', `v1:${kid.slice(1)}:${iv}:${ct}:${tag}`],
    ['iv wrong length', `v1:${kid}:${iv.slice(4)}:${ct}:${tag}`],
    ['non-base64 char', `v1:${kid}:${iv}:${ct}*:${tag}`],
    ['standard base64 alphabet', `v1:${kid}:${iv}:${ct}+:${tag}`],
    ['padding', `v1:${kid}:${iv}:${ct}:${tag}==`],
    ['impossible base64 length', `v1:${kid}:${iv}A:${ct}:${tag}`], // 17 chars can encode no byte count
    // Same bytes under Buffer's lenient decoder (an unused trailing bit set): must not be accepted.
    ['non-canonical tag encoding', `v1:${kid}:${iv}:${ct}:${setLowBitOfLastChar(tag)}`],
  ];
  for (const [label, stored] of bad) {
    it(label, () => {
      assert.notEqual(stored, good);
      expectError(() => box.open(stored, alice), 'MALFORMED', /^malformed stored secret$/);
    });
  }

  it('kidOf reports the kid, null for plain, and rejects garbage', () => {
    assert.equal(kidOf(good), box.kid);
    assert.equal(kidOf(sealPlain('x')), null);
    expectError(() => kidOf('nonsense'), 'MALFORMED', /malformed/);
  });
});

describe('fingerprint', () => {
  it('is stable for the same key, value and owner', () => {
    const fp = box.fingerprint(SECRET, alice);
    assert.match(fp, /^[0-9a-f]{16}$/);
    assert.equal(box.fingerprint(SECRET, alice), fp);
    assert.equal(SecretBox.fromMasterSecret(Buffer.from(master)).fingerprint(SECRET, alice), fp);
  });

  it('differs across values, owners, and master secrets', () => {
    const fp = box.fingerprint(SECRET, alice);
    assert.notEqual(box.fingerprint(SECRET + 'x', alice), fp);
    assert.notEqual(box.fingerprint(SECRET, { ...alice, userId: 'user-bob' }), fp);
    assert.notEqual(SecretBox.fromMasterSecret(randomBytes(32)).fingerprint(SECRET, alice), fp);
  });

  it('is not a plain hash of the value', () => {
    const fp = box.fingerprint(SECRET, alice);
    for (const alg of ['sha256', 'sha1', 'md5', 'sha512']) {
      assert.ok(!createHash(alg).update(SECRET).digest('hex').startsWith(fp), alg);
    }
    assert.ok(!box.seal(SECRET, alice).includes(fp));
  });
});

describe('plain format', () => {
  for (const value of ['', SECRET, 'ünï 🔑', 'a:b:c']) {
    it(`round trips ${JSON.stringify(value).slice(0, 20)}`, () => {
      const stored = sealPlain(value);
      assert.ok(stored.startsWith('plain:'));
      assert.ok(isPlain(stored));
      assert.equal(openAny(stored, alice, null), value);
      assert.equal(openAny(stored, alice, box), value);
    });
  }

  it('is distinguishable from v1', () => {
    assert.equal(isPlain(box.seal(SECRET, alice)), false);
    assert.equal(isPlain('plainly'), false);
  });

  it('rejects a corrupt plain payload', () => {
    expectError(() => openAny('plain:@@@', alice, null), 'MALFORMED', /malformed/);
    const invalidUtf8 = 'plain:' + Buffer.from([0x61, 0xff, 0xfe]).toString('base64url');
    expectError(() => openAny(invalidUtf8, alice, null), 'MALFORMED', /malformed/);
  });

  it('SecretBox.open refuses plain values (callers must go through openAny)', () => {
    expectError(() => box.open(sealPlain(SECRET), alice), 'MALFORMED', /malformed/);
  });

  it('an encrypted value without a configured master secret says so', () => {
    const err = expectError(() => openAny(box.seal(SECRET, alice), alice, null), 'NO_MASTER_SECRET', /no master secret is configured/);
    assert.ok(err.message.includes(box.kid));
  });
});
