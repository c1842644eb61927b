import crypto from 'node:crypto';

/**
 * API keys are 32 random bytes behind a recognisable prefix. They carry their own entropy, so a
 * SHA-256 digest (indexed, constant lookup) is the right stored form; bcrypt would only slow
 * every request down without adding strength.
 */
export const API_KEY_PREFIX = 'agor_sk_';

export function generateApiKey(): string {
  return API_KEY_PREFIX + crypto.randomBytes(32).toString('base64url');
}

export function hashApiKey(key: string): string {
  return crypto.createHash('sha256').update(key).digest('hex');
}

/** The part shown in listings so a person can tell keys apart. */
export function displayPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 6);
}

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX) && /^[A-Za-z0-9_-]{40,80}$/.test(token);
}
