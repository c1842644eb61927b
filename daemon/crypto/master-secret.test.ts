import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MasterSecretError, loadMasterSecret } from './master-secret.js';

const uid = process.getuid!();
const hex = randomBytes(32).toString('hex');
const HOW_TO = /openssl rand -hex 32/;

// Every refusal must be a MasterSecretError that never echoes the candidate secret.
function expectRefused(fn: () => unknown, pattern: RegExp, secretText: string): MasterSecretError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof MasterSecretError, `expected MasterSecretError, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  const needle = secretText.trim();
  if (needle.length > 0) {
    assert.ok(!caught.message.includes(needle), `message leaks the secret: ${caught.message}`);
    assert.ok(!String(caught.stack).includes(needle), 'stack leaks the secret');
  }
  return caught;
}

describe('AGOR_MASTER_SECRET', () => {
  it('is null when neither variable is set', () => {
    assert.equal(loadMasterSecret({}), null);
    assert.equal(loadMasterSecret({ OTHER: hex }), null);
  });

  it('accepts 64 hex chars (either case, surrounding whitespace trimmed)', () => {
    const got = loadMasterSecret({ AGOR_MASTER_SECRET: `  ${hex.toUpperCase()}\n` });
    assert.deepEqual(got, { secret: Buffer.from(hex, 'hex'), source: 'env' });
  });

  it('accepts base64 and base64url, padded or not', () => {
    const bytes = randomBytes(33); // 33 bytes: no padding; use 32 below for padded forms
    const b32 = randomBytes(32);
    for (const [text, want] of [
      [bytes.toString('base64'), bytes],
      [bytes.toString('base64url'), bytes],
      [b32.toString('base64'), b32],
      [b32.toString('base64url'), b32],
      [b32.toString('base64').replace(/=+$/, ''), b32],
    ] as const) {
      const got = loadMasterSecret({ AGOR_MASTER_SECRET: text });
      assert.ok(got, text);
      assert.ok(got.secret.equals(want), text);
      assert.equal(got.source, 'env');
    }
  });

  const refusals: Array<[string, string, RegExp]> = [
    ['short password', 'hunter2', /neither hex nor base64/], // non-canonical as base64 (trailing bits set)
    ['short password that is canonical base64', 'hunter22', /decodes to 6 bytes; at least 32/],
    ['password with spaces', 'correct horse battery staple', /neither hex nor base64/],
    // 48 chars: canonical base64 of 36 bytes with plenty of distinct bytes, so only the case check stops it.
    ['long single-case passphrase that is valid base64', 'thequickbrownfoxjumpsoverthelazydogpackmyboxwith', /passphrase/],
    ['62 hex chars', hex.slice(0, 62), /at least 64/],
    ['odd-length hex', hex + 'a', /even/],
    ['48 hex chars (also valid base64)', hex.slice(0, 48), /looks like hex/],
    ['base64 of 31 bytes', randomBytes(31).toString('base64'), /31 bytes/],
    ['all-zero hex', '0'.repeat(64), /repetitive/],
    ['repeating hex pattern', '0123456789abcdef'.repeat(4), /repetitive/],
    ['repeating base64 pattern', 'PassWord'.repeat(6), /repetitive/],
    ['mixed base64 alphabets', randomBytes(32).toString('base64url').slice(0, 40) + '+/_-', /neither hex nor base64/],
    ['bad padding', randomBytes(33).toString('base64') + '=', /neither hex nor base64/],
    ['non-ascii', 'ключ'.repeat(20), /neither hex nor base64/],
    ['empty', '', /empty/],
    ['whitespace only', '  \n', /empty/],
  ];
  for (const [label, value, pattern] of refusals) {
    it(`refuses ${label}, explaining how to generate one`, () => {
      const err = expectRefused(() => loadMasterSecret({ AGOR_MASTER_SECRET: value }), pattern, value);
      assert.match(err.message, HOW_TO);
      assert.match(err.message, /AGOR_MASTER_SECRET/);
    });
  }

  it('refuses both variables being set, without echoing either', () => {
    const err = expectRefused(
      () => loadMasterSecret({ AGOR_MASTER_SECRET: hex, AGOR_MASTER_SECRET_FILE: '/nonexistent' }),
      /set only one/,
      hex,
    );
    assert.match(err.message, /AGOR_MASTER_SECRET_FILE/);
  });

  it('counts an empty variable as set, so a broken substitution is not silently ignored', () => {
    expectRefused(() => loadMasterSecret({ AGOR_MASTER_SECRET: '', AGOR_MASTER_SECRET_FILE: '/x' }), /set only one/, '');
  });
});

describe('AGOR_MASTER_SECRET_FILE', () => {
  let dir: string;
  let n = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'agor-master-secret-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  // chmod after writing: the mode passed to writeFileSync is filtered by the umask.
  function secretFile(content: string, mode: number): string {
    const path = join(dir, `secret-${n++}`);
    writeFileSync(path, content);
    chmodSync(path, mode);
    return path;
  }
  const load = (path: string, expectedOwnerUid?: number) =>
    loadMasterSecret({ AGOR_MASTER_SECRET_FILE: path }, expectedOwnerUid === undefined ? {} : { expectedOwnerUid });

  it('accepts mode 0600 owned by the daemon user, trimming the trailing newline', () => {
    const got = load(secretFile(`${hex}\n`, 0o600));
    assert.deepEqual(got, { secret: Buffer.from(hex, 'hex'), source: 'file' });
  });

  it('accepts mode 0400', () => {
    const got = load(secretFile(hex, 0o400), uid);
    assert.ok(got?.secret.equals(Buffer.from(hex, 'hex')));
    assert.equal(got?.source, 'file');
  });

  for (const mode of [0o644, 0o640, 0o604, 0o700, 0o660, 0o4600]) {
    it(`refuses mode ${mode.toString(8)} and says how to fix it`, () => {
      const path = secretFile(hex, mode);
      const err = expectRefused(() => load(path), /chmod 600/, hex);
      assert.ok(err.message.includes(path));
      assert.ok(err.message.includes(mode.toString(8)));
    });
  }

  it('refuses a file owned by someone else', () => {
    const path = secretFile(hex, 0o600);
    const other = uid + 4242;
    const err = expectRefused(() => load(path, other), /owned by uid/, hex);
    assert.ok(err.message.includes(`chown ${other}`), err.message);
  });

  it('refuses a directory and a missing path', () => {
    const sub = join(dir, 'a-directory');
    mkdirSync(sub, { mode: 0o700 });
    chmodSync(sub, 0o600);
    expectRefused(() => load(sub), /not a regular file/, hex);
    expectRefused(() => load(join(dir, 'missing')), /cannot be opened \(ENOENT\)/, hex);
  });

  it('checks the target of a symlink, not the link', () => {
    const target = secretFile(hex, 0o644);
    const link = join(dir, 'link');
    symlinkSync(target, link);
    expectRefused(() => load(link), /chmod 600/, hex);
    chmodSync(target, 0o600);
    assert.ok(load(link)?.secret.equals(Buffer.from(hex, 'hex')));
  });

  it('parses file content like the variable, refusing weak secrets without echoing them', () => {
    const weak = 'hunter2hunter2';
    const err = expectRefused(() => load(secretFile(weak, 0o600)), HOW_TO, weak);
    assert.match(err.message, /AGOR_MASTER_SECRET_FILE/);
    expectRefused(() => load(secretFile('\n', 0o600)), /empty/, '');
  });

  it('refuses an oversized file', () => {
    expectRefused(() => load(secretFile(hex.repeat(100), 0o600)), /bytes/, hex);
  });

  it('refuses an empty path', () => {
    expectRefused(() => load(''), /set but empty/, '');
  });
});
