import type { Database } from './database.js';

/**
 * Rewrites the SQLite file and empties its WAL, so values that were just replaced (plaintext
 * before encryption, ciphertext under a retired master key) do not linger in freed pages, free
 * space inside pages, or old WAL frames. Run after the transaction that replaced them has
 * committed, while nothing else uses the database (startup, or the daemon stopped).
 */
export async function scrubFreedPages(db: Database): Promise<void> {
  if ((db.client.config as { client?: string }).client !== 'better-sqlite3') return;
  await db.raw('VACUUM');
  await db.raw('PRAGMA wal_checkpoint(TRUNCATE)');
}
