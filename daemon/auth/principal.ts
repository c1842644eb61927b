import { NotAuthenticated } from '@feathersjs/errors';
import type { Database } from '../db/database.js';
import { toPublicUser, type PublicUser, type UserRow } from '../services/users/users.schema.js';
import type { ApiKeyRow, ApiKeyScope } from '../services/api-keys/api-keys.schema.js';

/**
 * Loads the user behind a credential, refusing one that is missing or disabled, or whose
 * credential was issued before the user's sessions were revoked. Runs on every call, so
 * disabling a user stops its tokens and keys at once. Reads the table directly: going through
 * the users service would run that service's authorization for a caller not yet known.
 */
export async function loadActiveUser(db: Database, id: unknown, issuedAtMs: number, { viaApiKey = false } = {}): Promise<PublicUser> {
  if (typeof id !== 'string') throw new NotAuthenticated('Invalid credentials');
  const row = await db<UserRow>('users').where('id', id).first();
  if (!row || row.disabled) throw new NotAuthenticated('This account does not exist or is disabled');
  if (row.sessions_revoked_at && issuedAtMs < Date.parse(row.sessions_revoked_at)) {
    throw new NotAuthenticated('This credential was revoked; log in again');
  }
  // A password change ends the logins made with the old one; API keys have their own revocation.
  if (!viaApiKey && row.password_changed_at && issuedAtMs < Date.parse(row.password_changed_at)) {
    throw new NotAuthenticated('The password of this account was changed; log in again');
  }
  return toPublicUser(row);
}

/**
 * When a token was issued, in milliseconds: `iat_ms` (set by the daemon, signed like every claim)
 * when present, else the second-granular `iat`, which errs early (toward refusing).
 */
export function issuedAtMsOf(payload: { iat?: unknown; iat_ms?: unknown }): number {
  return Number.isSafeInteger(payload.iat_ms) ? (payload.iat_ms as number) : Number(payload.iat) * 1000;
}

export interface ActiveApiKey {
  id: string;
  scope: ApiKeyScope;
}

/** The key if it is neither revoked nor expired and still belongs to `userId`. */
export async function loadActiveApiKey(db: Database, where: { id: string } | { key_hash: string }): Promise<ApiKeyRow> {
  const row = await db<ApiKeyRow>('api_keys').where(where).first();
  if (!row) throw new NotAuthenticated('Invalid API key');
  if (row.revoked_at) throw new NotAuthenticated('This API key was revoked');
  if (row.expires_at && Date.parse(row.expires_at) <= Date.now()) throw new NotAuthenticated('This API key has expired');
  return row;
}
