// Fixtures for the user-secrets tests: real SQLite files, users inserted directly, and byte-level
// searches of the database files for values that must not be there.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, nowIso, type Database } from '../../daemon/db/database.js';
import { SecretBox } from '../../daemon/crypto/secret-box.js';
import { sealForStorage } from '../../daemon/crypto/stored-secret.js';
import { USER_SECRETS_TABLE, type UserSecretRow } from '../../daemon/services/user-secrets/user-secrets.schema.js';

export function newMasterHex(): string {
  return crypto.randomBytes(32).toString('hex');
}

export function boxFromHex(hex: string): SecretBox {
  return SecretBox.fromMasterSecret(Buffer.from(hex, 'hex'));
}

/** A distinctive value that can be searched for in bytes and payloads. */
export function testValue(label: string): string {
  return `tv-${label}-${crypto.randomBytes(12).toString('hex')}`;
}

export interface TempDb {
  db: Database;
  dir: string;
  file: string;
  cleanup(): Promise<void>;
}

export async function openTempDb(): Promise<TempDb> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-secrets-'));
  const file = path.join(dir, 'agor.db');
  const db = await openDatabase(file);
  return {
    db,
    dir,
    file,
    async cleanup() {
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A user row without bcrypt (speed); the secrets code only needs the id for the foreign key. */
export async function insertUser(db: Database, label = 'u'): Promise<string> {
  const id = crypto.randomUUID();
  const at = nowIso();
  await db('users').insert({ id, email: `${label}-${id}@test.local`, name: label, password: 'x', role: 'member', disabled: false, created_at: at, updated_at: at });
  return id;
}

/** Stores a secret the way the service does (sealed under `box`, or marked plaintext when null). */
export async function insertSecret(db: Database, box: SecretBox | null, userId: string, name: string, value: string): Promise<string> {
  const id = crypto.randomUUID();
  const at = nowIso();
  const row: UserSecretRow = { id, user_id: userId, name, kind: 'env', ...sealForStorage(box, value, { userId, name }), created_at: at, updated_at: at };
  await db(USER_SECRETS_TABLE).insert(row);
  return id;
}

export async function secretRows(db: Database): Promise<UserSecretRow[]> {
  return db<UserSecretRow>(USER_SECRETS_TABLE).select('*').orderBy('id');
}

/** The encodings a value could appear in on disk: as is, and as base64 / base64url (the plaintext form). */
export function encodingsOf(value: string): Buffer[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms = new Set([value, bytes.toString('base64'), bytes.toString('base64url')]);
  // base64 of a value depends on its alignment in a longer string; the core of each form is enough.
  return [...forms].map((f) => Buffer.from(f.length > 12 ? f.slice(0, -4) : f, 'utf8'));
}

/** Which of `values` occur (in any encoding) in the bytes of `files` that exist. */
export function valuesFoundIn(files: string[], values: string[]): string[] {
  const contents = files.filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f));
  return values.filter((v) => encodingsOf(v).some((needle) => contents.some((c) => c.includes(needle))));
}

export function dbFiles(file: string): string[] {
  return [file, `${file}-wal`];
}
