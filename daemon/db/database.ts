import knexFactory, { type Knex } from 'knex';
import { ensurePrivateDir, tightenFile } from '../config/home.js';
import path from 'node:path';
import { migrationSource } from './migrations/index.js';

export type Database = Knex;

/** How many distinct SQL texts keep their compiled statement (the daemon issues a few hundred). */
const STATEMENT_CACHE_SIZE = 500;

interface Connection {
  pragma(sql: string): unknown;
  prepare(sql: string): unknown;
}

/**
 * knex prepares every query afresh; compiling a scoped list's statement (subqueries, unions) cost
 * ~0.6 ms of each request, more than running it. Statements are reused by their SQL text (least
 * recently used dropped first): knex only runs them to completion (all/run), never holds one open,
 * and SQLite recompiles a cached statement by itself after a schema change.
 */
function cachePreparedStatements(conn: Connection): void {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, unknown>();
  conn.prepare = (sql: string) => {
    let statement = cache.get(sql);
    if (statement) {
      cache.delete(sql);
    } else {
      statement = prepare(sql);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    }
    cache.set(sql, statement);
    return statement;
  };
}

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
      afterCreate(conn: Connection, done: (err: Error | null, conn: unknown) => void) {
        conn.pragma('journal_mode = WAL');
        conn.pragma('foreign_keys = ON');
        conn.pragma('busy_timeout = 5000');
        cachePreparedStatements(conn);
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
