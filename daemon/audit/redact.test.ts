import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { redactSecrets, REDACTED } from './redact.js';

describe('redactSecrets', () => {
  it('replaces members named like secrets, at any depth', () => {
    assert.deepEqual(redactSecrets({ password: 'p', old_password: 'p', nested: [{ accessToken: 't', api_key: 'k', name: 'ok' }] }), {
      password: REDACTED,
      old_password: REDACTED,
      nested: [{ accessToken: REDACTED, api_key: REDACTED, name: 'ok' }],
    });
  });

  it('replaces values that look like a credential, but keeps display prefixes and ids', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl';
    const bcrypt = '$2b$12$' + 'a'.repeat(53);
    assert.deepEqual(redactSecrets({ a: jwt, b: bcrypt, c: 'agor_sk_' + 'Z'.repeat(43), prefix: 'agor_sk_abcdef', key_id: 'id-1' }), {
      a: REDACTED,
      b: REDACTED,
      c: REDACTED,
      prefix: 'agor_sk_abcdef',
      key_id: 'id-1',
    });
  });
});
