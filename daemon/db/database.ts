import knexFactory, { type Knex } from 'knex';
import { ensurePrivateDir, tightenFile } from '../config/home.js';
import path from 'node:path';
import { migrationSource } from './migrations/index.js';

export type Database = Knex;

/**
 * Opens the SQLite database (WAL, foreign keys on) and runs pending migrations.
 * The file, its WAL and shared-memory files are kept 0600.
 */
export async function openDatabase(file: string): Promise<Database> {
  ensurePrivateDir(path.dirname(file));
  const db = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: file },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
        conn.pragma('journal_mode = WAL');
        conn.pragma('foreign_keys = ON');
        conn.pragma('busy_timeout = 5000');
        done(null, conn);
      },
    },
  });
  await db.migrate.latest({ migrationSource });
  for (const suffix of ['', '-wal', '-shm']) tightenFile(file + suffix);
  return db;
}

export function nowIso(): string {
  return new Date().toISOString();
}
