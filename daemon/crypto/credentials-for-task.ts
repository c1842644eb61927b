// Just-in-time credentials: the only code path that turns stored secrets back into values.
import type { Database } from '../db/database.js';
import { USER_SECRETS_TABLE, type UserSecretRow } from '../services/user-secrets/user-secrets.schema.js';
import { openAny, type SecretBox } from './secret-box.js';
import { aadOf } from './stored-secret.js';

export interface CredentialsRequest {
  /**
   * Whose secrets: the executing identity, i.e. the session's frozen creator. Taken from the
   * session record by the daemon, never from a client or an executor message.
   */
  userId: string;
  /** Exactly which secrets the task needs (e.g. the agent's API key name and its env names). */
  names: readonly string[];
}

/**
 * Decrypts exactly `names` of exactly `userId`'s secrets, for one answer to an executor's
 * get_credentials. Names the user has not set are absent from the result. Nothing is cached:
 * the returned object is the only place the values exist, and the caller drops it after sending.
 * A value that fails to open (tampered, wrong key) throws SecretBoxError; its message names no value.
 */
export async function credentialsForTask(db: Database, box: SecretBox | null, { userId, names }: CredentialsRequest): Promise<Record<string, string>> {
  if (typeof userId !== 'string' || userId.length === 0) throw new TypeError('credentialsForTask needs the executing user id');
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) throw new TypeError('credentialsForTask needs a list of secret names');
  const wanted = [...new Set(names)];
  if (wanted.length === 0) return {};
  const rows = await db<UserSecretRow>(USER_SECRETS_TABLE).where('user_id', userId).whereIn('name', wanted).select('user_id', 'name', 'value');
  const values: Record<string, string> = {};
  for (const row of rows) values[row.name] = openAny(row.value, aadOf(row), box);
  return values;
}
