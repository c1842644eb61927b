// The accounts agor-priv created: one root-owned marker file per account in a root-owned directory
// (/etc/agor/accounts/<name>, holding the uid it was created with). agor-priv runs as a person only
// when that person's account has a marker with its current uid, so an `agor_*` account made by
// someone else (an administrator's own login, an account in `sudo` or `disk`) can never be linked to
// an agor user and run sessions, and an account deleted and re-created under the same name (a new
// uid) is not the one agor made. One file per account: creating one is a single atomic rename, with
// no read-modify-write of a shared list that two concurrent calls could lose an entry from.
import fs from 'node:fs';
import path from 'node:path';
import { configError, quote, unavailable } from './errors.js';
import { USER_PATTERN } from './names.js';
import { assertTrustedFile } from './trust.js';

export const ACCOUNTS_DIR = '/etc/agor/accounts';
const MAX_MARKER_BYTES = 64;

function errno(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'error';
}

/** The directory, checked like agor-priv's own files (root's, writable by nobody else, up to /); false when missing. */
function trustedDir(dir: string): boolean {
  if (!fs.existsSync(dir)) return false;
  assertTrustedFile(dir, 'account registry', { kind: 'dir' });
  return true;
}

/** The uid the account `name` was created with, or null when agor-priv did not create it. */
export function registeredUid(name: string, dir = ACCOUNTS_DIR): number | null {
  if (!USER_PATTERN.test(name)) return null;
  if (!trustedDir(dir)) return null;
  let fd: number;
  try {
    fd = fs.openSync(path.join(dir, name), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (error) {
    if (errno(error) === 'ENOENT') return null;
    throw configError(`cannot open ${quote(path.join(dir, name))} (${errno(error)})`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.uid !== 0 || (st.mode & 0o022) !== 0 || st.size > MAX_MARKER_BYTES) {
      throw configError(`${quote(path.join(dir, name))} must be a small regular file owned by root and not writable by group or others`);
    }
    const m = /^([0-9]{1,10})\n$/.exec(fs.readFileSync(fd, 'utf8'));
    if (!m) throw configError(`${quote(path.join(dir, name))} does not hold a uid`);
    return Number(m[1]);
  } finally {
    fs.closeSync(fd);
  }
}

/** Records that agor-priv created (or adopted) `name` with `uid`: written to a temporary file, then renamed. */
export function registerAccount(name: string, uid: number, dir = ACCOUNTS_DIR): void {
  if (!USER_PATTERN.test(name)) throw unavailable(`refusing to register ${quote(name)}`);
  if (!fs.existsSync(dir)) {
    try {
      fs.mkdirSync(dir, { mode: 0o755 });
    } catch (error) {
      if (errno(error) !== 'EEXIST') throw unavailable(`cannot create ${quote(dir)} (${errno(error)})`);
    }
  }
  trustedDir(dir);
  const tmp = path.join(dir, `.${name}.${process.pid}`);
  let fd: number;
  try {
    fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
  } catch (error) {
    throw unavailable(`cannot write ${quote(tmp)} (${errno(error)})`);
  }
  try {
    fs.writeSync(fd, `${uid}\n`);
    fs.fchmodSync(fd, 0o644);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(dir, name));
  const dirFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}
