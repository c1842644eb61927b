// Known answers for the secret box's on-disk format. secret-box.ts says its HKDF constants and
// format are fixed forever: these values were produced on 2026-12-04 with the master secret below
// and committed; every later build must still open them and derive the same key id and
// fingerprint. If this test fails, stored secrets on real installs no longer open: do not update the
// values, restore the format (a new format gets a new version prefix instead).
import assert from 'node:assert/strict';
import { createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { SecretBox, kidOf, openAny, sealPlain } from './secret-box.js';

const MASTER = Buffer.from('agor secret-box known-answer test master secret (not a real key)', 'utf8');
const AAD = { userId: '7d0c1f3e-5b2a-4c8e-9f10-2a3b4c5d6e7f', name: 'ANTHROPIC_API_KEY' };
const VALUE = 'sk-ant-known-answer-Ünïcødé ✓';
const KID = '63826612';
const STORED = 'v1:63826612:tEAHD_2D3I00K3Jw:gTw8FY8-rSk7gEdOfVT2yZyrOsBgzBVIJsPPirwFekrorIU:KS6Qr2nsiCLhKPmKPZt4Ew';
const FINGERPRINT = 'e2aac4d43a33992c';
const PLAIN_VALUE = 'plain ✓';
const PLAIN_STORED = 'plain:cGxhaW4g4pyT';

/**
 * The v1 format spelled out independently of secret-box.ts: HKDF-SHA256 with these salt and info
 * strings, AES-256-GCM with the canonical AAD. `constants` lets a test change one of them.
 */
function openIndependently(stored: string, constants = { salt: 'agor/secret-box/hkdf-salt/v1', info: 'agor/secret-box/v1/aes-256-gcm', aadVersion: 'v1' }): string {
  const [, , iv, ciphertext, tag] = stored.split(':') as [string, string, string, string, string];
  const key = Buffer.from(hkdfSync('sha256', MASTER, constants.salt, constants.info, 32));
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
  decipher.setAAD(Buffer.from(`agor-secret:${constants.aadVersion}\u0000user:${AAD.userId}\u0000name:${AAD.name}`, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}

describe('secret box known answers (format fixed forever)', () => {
  const box = SecretBox.fromMasterSecret(MASTER);

  it('a value sealed on 2026-12-04 still opens, under the same key id', () => {
    assert.equal(box.kid, KID);
    assert.equal(kidOf(STORED), KID);
    assert.equal(box.open(STORED, AAD), VALUE);
    assert.equal(openAny(STORED, AAD, box), VALUE);
  });

  it('the key id and the fingerprint derive as they did', () => {
    const kidKey = Buffer.from(hkdfSync('sha256', MASTER, 'agor/secret-box/hkdf-salt/v1', 'agor/secret-box/v1/key-id', 32));
    assert.equal(createHmac('sha256', kidKey).update('agor-kid').digest('hex').slice(0, 8), KID);
    assert.equal(box.fingerprint(VALUE, AAD), FINGERPRINT);
  });

  it('the plain format is unchanged', () => {
    assert.equal(sealPlain(PLAIN_VALUE), PLAIN_STORED);
    assert.equal(openAny(PLAIN_STORED, AAD, null), PLAIN_VALUE);
  });

  it('the stored value is bound to exactly these constants: a changed salt, info or AAD version does not open it', () => {
    assert.equal(openIndependently(STORED), VALUE);
    assert.equal(openIndependently(box.seal(VALUE, AAD)), VALUE, 'what seal writes today is the same format');
    for (const changed of [
      { salt: 'agor/secret-box/hkdf-salt/v2', info: 'agor/secret-box/v1/aes-256-gcm', aadVersion: 'v1' },
      { salt: 'agor/secret-box/hkdf-salt/v1', info: 'agor/secret-box/v2/aes-256-gcm', aadVersion: 'v1' },
      { salt: 'agor/secret-box/hkdf-salt/v1', info: 'agor/secret-box/v1/aes-256-gcm', aadVersion: 'v2' },
    ]) {
      assert.throws(() => openIndependently(STORED, changed), /unable to authenticate data/, JSON.stringify(changed));
    }
  });
});
