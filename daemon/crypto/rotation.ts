// Re-encrypts every user secret under a new master secret. All or nothing: one transaction, so a
// crash at any point leaves every value sealed under exactly one key (all old, or all new).
import type { Database } from '../db/database.js';
import { scrubFreedPages } from '../db/scrub.js';
import { USER_SECRETS_TABLE, type UserSecretRow } from '../services/user-secrets/user-secrets.schema.js';
import { SecretBox, SecretBoxError, isPlain, openAny } from './secret-box.js';
import { aadOf, sealForStorage } from './stored-secret.js';

export interface RotationResult {
  /** Values moved from the old key to the new one. */
  reencrypted: number;
  /** Marked-plaintext values sealed for the first time. */
  encrypted: number;
}

export interface RotationOptions {
  /** Called after each row is rewritten, inside the transaction (progress; tests interrupt here). */
  onProgress?: (done: number, total: number) => void | Promise<void>;
}

/**
 * Opens every value with `oldBox` (null: there was no master secret, only plaintext values) and
 * seals it with `newBox`, fingerprints included (they are keyed by the master secret too). Throws
 * without changing anything if any value does not open under `oldBox`. Afterwards the file is
 * scrubbed so ciphertext under the old key does not linger in freed pages.
 */
export async function rotateMasterSecret(
  db: Database,
  oldBox: SecretBox | null,
  newBox: SecretBox,
  { onProgress }: RotationOptions = {},
): Promise<RotationResult> {
  if (oldBox && oldBox.kid === newBox.kid) {
    throw new SecretBoxError('INVALID_INPUT', `the new master secret is the current one (key id ${newBox.kid}); generate a new one with: openssl rand -hex 32`);
  }
  const result = await db.transaction(async (trx) => {
    const rows = await trx<UserSecretRow>(USER_SECRETS_TABLE).select('id', 'user_id', 'name', 'value').orderBy('id');
    const counts: RotationResult = { reencrypted: 0, encrypted: 0 };
    for (const [index, row] of rows.entries()) {
      const plain = isPlain(row.value);
      let value: string;
      try {
        value = openAny(row.value, aadOf(row), oldBox);
      } catch (error) {
        if (!(error instanceof SecretBoxError)) throw error;
        throw new SecretBoxError(error.code, `nothing was changed: secret ${row.name} of user ${row.user_id} cannot be opened with the current master secret: ${error.message}`);
      }
      await trx(USER_SECRETS_TABLE).where('id', row.id).update(sealForStorage(newBox, value, aadOf(row)));
      if (plain) counts.encrypted += 1;
      else counts.reencrypted += 1;
      await onProgress?.(index + 1, rows.length);
    }
    return counts;
  });
  await scrubFreedPages(db);
  return result;
}
