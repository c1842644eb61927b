/**
 * The audit log must never hold a secret. Callers build `details` from known fields, so this is
 * a second line of defence against a future caller passing a whole request body: members whose
 * name says "secret" and strings that look like a credential are replaced before hashing.
 */
export const REDACTED = '[redacted]';

const SECRET_NAME = /^(key|value|ciphertext|authorization|cookie)$|(password|passwd|token|secret|key_hash|api_?key|private_?key)$/i;
const SECRET_VALUE = [
  /agor_sk_[A-Za-z0-9_-]{20,}/, // a whole API key (listings' short prefixes are fine)
  /\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}/, // a bcrypt hash
  /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/, // a JWT
];

export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8) return REDACTED;
  if (typeof value === 'string') return SECRET_VALUE.some((re) => re.test(value)) ? REDACTED : value;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, SECRET_NAME.test(k) ? REDACTED : redactSecrets(v, depth + 1)]),
    );
  }
  return value;
}
