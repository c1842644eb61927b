import fs from 'node:fs';
import path from 'node:path';

/**
 * AGOR_HOME holds the database, the JWT key and tokens: it is 0700 and every file in it 0600,
 * whatever the umask. Modes are set explicitly after creation because umask only ever removes bits
 * and an existing file keeps whatever mode it had.
 */
export const HOME_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: HOME_DIR_MODE });
  fs.chmodSync(dir, HOME_DIR_MODE);
}

/** Writes a file atomically (temp file + rename) with mode 0600. */
export function writePrivateFile(file: string, content: string | Buffer): void {
  ensurePrivateDir(path.dirname(file));
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode: PRIVATE_FILE_MODE });
  fs.chmodSync(tmp, PRIVATE_FILE_MODE);
  fs.renameSync(tmp, file);
}

/** Tightens an existing file (e.g. one SQLite created) to 0600; missing files are ignored. */
export function tightenFile(file: string): void {
  try {
    fs.chmodSync(file, PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Opens a file for appending (logs) with mode 0600. */
export function openPrivateAppend(file: string): number {
  ensurePrivateDir(path.dirname(file));
  const fd = fs.openSync(file, 'a', PRIVATE_FILE_MODE);
  fs.fchmodSync(fd, PRIVATE_FILE_MODE);
  return fd;
}
