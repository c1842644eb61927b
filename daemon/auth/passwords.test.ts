import assert from 'node:assert/strict';
import { test } from 'node:test';
import { comparePassword, hashPassword } from './passwords.js';

test('a hash made in the worker pool matches its password and no other', async () => {
  const hash = await hashPassword('correct horse battery', 4);
  assert.match(hash, /^\$2[aby]\$04\$/);
  assert.equal(await comparePassword('correct horse battery', hash), true);
  assert.equal(await comparePassword('correct horse batterY', hash), false);
});

test('more jobs than workers at once each get their own answer', async () => {
  const passwords = Array.from({ length: 9 }, (_, i) => `password-${i}`);
  const hashes = await Promise.all(passwords.map((p) => hashPassword(p, 4)));
  const right = await Promise.all(passwords.map((p, i) => comparePassword(p, hashes[i]!)));
  const wrong = await Promise.all(passwords.map((p, i) => comparePassword(p, hashes[(i + 1) % hashes.length]!)));
  assert.deepEqual(right, passwords.map(() => true));
  assert.deepEqual(wrong, passwords.map(() => false));
});

test('a malformed hash is an error, not a match', async () => {
  await assert.rejects(comparePassword('x', '$2b$04$' + '!'.repeat(53)), /password hashing failed|Invalid|Illegal/i);
});
