import fs from 'node:fs';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import type { Runtime } from '../config/load.js';
import { openDatabase } from '../db/database.js';
import { verifyAuditChain, type AuditVerification } from '../audit/chain.js';
import { ConfigError, parseConfigText } from '../config/load.js';
import { VERSION } from '../version.js';

/**
 * One backup is ONE SQLite file: the online-backup copy of the database, plus a table
 * `agor_backup` holding the manifest and config.yaml's text. A single file copies, checksums and
 * restores as one thing, and SQLite's own format keeps it consistent. Never in it: the master
 * secret (AGOR_MASTER_SECRET[_FILE]) and jwt.key, which are backed up separately (README).
 */
export const BACKUP_TABLE = 'agor_backup';
export const BACKUP_FORMAT = 'agor-backup/1';

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  created_at: string;
  agor_version: string;
  /** Rows per table of the copy, so a restore notices a damaged or truncated file. */
  tables: Record<string, number>;
  audit: { count: number; head_hash: string | null };
  /** Not in the backup, on purpose. */
  excluded: string[];
}

export class BackupError extends Error {
  override name = 'BackupError';
}

function tableCounts(db: Sqlite.Database): Record<string, number> {
  const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> ? ORDER BY name").all(BACKUP_TABLE) as { name: string }[]).map((r) => r.name);
  return Object.fromEntries(names.map((n) => [n, (db.prepare(`SELECT COUNT(*) AS n FROM "${n.replaceAll('"', '""')}"`).get() as { n: number }).n]));
}

/** Verifies the audit chain of a database file (through the daemon's own verifier). */
async function verifyFile(file: string): Promise<AuditVerification> {
  const db = await openDatabase(file);
  try {
    return await verifyAuditChain(db);
  } finally {
    await db.destroy();
  }
}

/**
 * Copies the live database with SQLite's online backup API (consistent even while the daemon
 * writes: a page changed mid-copy restarts the copy), then adds the manifest and the config.
 */
export async function createBackup(runtime: Runtime, dest: string): Promise<BackupManifest> {
  if (!fs.existsSync(runtime.databaseFile)) throw new BackupError(`No database at ${runtime.databaseFile}: nothing to back up`);
  if (fs.existsSync(dest)) throw new BackupError(`${dest} already exists; give a new file name`);
  const tmp = path.join(path.dirname(path.resolve(dest)), `.${path.basename(dest)}.partial-${process.pid}`);
  const source = new Sqlite(runtime.databaseFile, { fileMustExist: true });
  try {
    source.pragma('busy_timeout = 5000');
    await source.backup(tmp);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw new BackupError(`Cannot copy ${runtime.databaseFile}: ${(error as Error).message} (run as the daemon user)`);
  } finally {
    source.close();
  }
  try {
    fs.chmodSync(tmp, 0o600);
    const chain = await verifyFile(tmp);
    if (!chain.ok) throw new BackupError(`The database's audit chain is broken at seq ${chain.seq} (${chain.reason}); not backing up a log that does not verify`);
    const copy = new Sqlite(tmp);
    try {
      copy.pragma('journal_mode = DELETE'); // one self-contained file, no -wal beside it
      const manifest: BackupManifest = {
        format: BACKUP_FORMAT,
        created_at: new Date().toISOString(),
        agor_version: VERSION,
        tables: tableCounts(copy),
        audit: { count: chain.count, head_hash: chain.count ? chain.head.hash : null },
        excluded: ['master secret (AGOR_MASTER_SECRET / AGOR_MASTER_SECRET_FILE)', 'jwt.key'],
      };
      const config = fs.existsSync(runtime.paths.configPath) ? fs.readFileSync(runtime.paths.configPath, 'utf8') : null;
      copy.exec(`CREATE TABLE ${BACKUP_TABLE} (name TEXT PRIMARY KEY, value TEXT)`);
      const put = copy.prepare(`INSERT INTO ${BACKUP_TABLE} (name, value) VALUES (?, ?)`);
      put.run('manifest', JSON.stringify(manifest));
      put.run('config', config);
      copy.close();
      fs.renameSync(tmp, dest);
      return manifest;
    } catch (error) {
      copy.close();
      throw error;
    }
  } finally {
    fs.rmSync(tmp, { force: true });
    fs.rmSync(`${tmp}-journal`, { force: true });
  }
}

export interface RestoreReport {
  manifest: BackupManifest;
  audit: { count: number };
  /** Where the files the restore replaced were moved. */
  movedAside: string[];
}

/** Restores a backup into the runtime's database and config. The caller made sure no daemon runs. */
export async function restoreBackup(runtime: Runtime, file: string): Promise<RestoreReport> {
  if (!fs.existsSync(file)) throw new BackupError(`${file}: no such backup file`);
  const staging = `${runtime.databaseFile}.restoring-${process.pid}`;
  fs.mkdirSync(path.dirname(runtime.databaseFile), { recursive: true, mode: 0o700 });
  fs.copyFileSync(file, staging);
  fs.chmodSync(staging, 0o600);
  try {
    let manifest: BackupManifest;
    let config: string | null;
    const db = new Sqlite(staging, { fileMustExist: true });
    try {
      const rows = (() => {
        try {
          return db.prepare(`SELECT name, value FROM ${BACKUP_TABLE}`).all() as { name: string; value: string | null }[];
        } catch {
          throw new BackupError(`${file} is not an agor backup (no manifest in it)`);
        }
      })();
      const get = (name: string) => rows.find((r) => r.name === name)?.value ?? null;
      manifest = JSON.parse(get('manifest') ?? '{}') as BackupManifest;
      if (manifest.format !== BACKUP_FORMAT) throw new BackupError(`${file}: unknown backup format ${JSON.stringify(manifest.format)}`);
      config = get('config');
      db.exec(`DROP TABLE ${BACKUP_TABLE}`);
      const counts = tableCounts(db);
      const differ = Object.keys(manifest.tables).filter((t) => counts[t] !== manifest.tables[t]);
      if (differ.length) throw new BackupError(`${file} is damaged: row counts of ${differ.join(', ')} differ from its manifest`);
    } finally {
      db.close();
    }
    if (config !== null) {
      try {
        parseConfigText(config, `${file} (config.yaml)`);
      } catch (error) {
        throw new BackupError(`The config in the backup does not validate with this agor: ${(error as ConfigError).message}`);
      }
    }
    const chain = await verifyFile(staging);
    if (!chain.ok) throw new BackupError(`Refusing to restore ${file}: its audit chain is broken at seq ${chain.seq} (${chain.reason})`);
    if (chain.count !== manifest.audit.count || (chain.count > 0 && chain.head.hash !== manifest.audit.head_hash)) {
      throw new BackupError(`Refusing to restore ${file}: its audit log does not end where its manifest says`);
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const movedAside: string[] = [];
    for (const suffix of ['', '-wal', '-shm']) {
      const current = runtime.databaseFile + suffix;
      if (!fs.existsSync(current)) continue;
      const aside = `${runtime.databaseFile}.before-restore-${stamp}${suffix}`;
      fs.renameSync(current, aside);
      if (suffix === '') movedAside.push(aside);
    }
    fs.renameSync(staging, runtime.databaseFile);
    if (config !== null) {
      if (fs.existsSync(runtime.paths.configPath)) {
        const aside = `${runtime.paths.configPath}.before-restore-${stamp}`;
        fs.renameSync(runtime.paths.configPath, aside);
        movedAside.push(aside);
      }
      fs.writeFileSync(runtime.paths.configPath, config, { mode: 0o600 });
    }
    return { manifest, audit: { count: chain.count }, movedAside };
  } finally {
    fs.rmSync(staging, { force: true });
    for (const suffix of ['-wal', '-shm', '-journal']) fs.rmSync(staging + suffix, { force: true });
  }
}
