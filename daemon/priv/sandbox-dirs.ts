// The private HOME and TMPDIR of one identity in one worktree (insulated/strict), made by root:
//
//   <sandboxes_root>/                 root 0711 (installed; checked like agor-priv's own files)
//     <agor_wt_group>/                root 0711   one per worktree
//       <user>/                       root 0711   one per identity in it
//         home/  tmp/                 <user>:<worktree group> 0700, persisted between prompts
//
// Every directory above the two leaves is root-owned and writable by nobody else, so no identity
// can put a symlink on the way; each step is opened with O_NOFOLLOW|O_DIRECTORY and checked through
// that descriptor. A leaf is the identity's own (it may fill or chmod it), never followed either.
// The sandbox hides <sandboxes_root> and binds back only its own two leaves, so worktrees that share
// the executor user (insulated) still never see each other's HOME or /tmp.
import fs from 'node:fs';
import path from 'node:path';
import type { PrivConfig } from './config.js';
import { configError, quote, refused, unavailable } from './errors.js';
import { whyUntrusted } from './trust.js';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = fs.constants;

/** Opens (making it if missing) the directory `name` below the open directory `parentPath`. */
function ensureDir(parentPath: string, name: string, mode: number, owner: { uid: number; gid: number }): string {
  const p = `${parentPath}/${name}`;
  try {
    fs.mkdirSync(p, { mode });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw unavailable(`cannot make ${quote(p)}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let fd: number;
  try {
    fd = fs.openSync(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (error) {
    throw refused(`${quote(p)} is not a plain directory (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.uid === 0 && owner.uid !== 0) fs.fchownSync(fd, owner.uid, owner.gid); // just made by us
    const now = fs.fstatSync(fd);
    if (now.uid !== owner.uid) throw refused(`${quote(p)} is owned by uid ${now.uid}, not ${owner.uid}`);
    if ((now.mode & 0o7777) !== mode) fs.fchmodSync(fd, mode);
    return p;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * sandboxes_root itself root-owned and writable by nobody else; every directory above it root-owned
 * and not writable by group/others unless sticky (like /var/tmp: nobody else can rename a root-owned
 * entry there). Returns its real path.
 */
function trustedRoot(dir: string): string {
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch (error) {
    throw unavailable(`sandboxes_root ${quote(dir)} is not available (${(error as NodeJS.ErrnoException).code ?? 'error'}): re-run scripts/install-unix-isolation.sh`);
  }
  const st = fs.lstatSync(real);
  const why = st.isDirectory() ? whyUntrusted(st) : 'not a directory';
  if (why) throw configError(`sandboxes_root ${quote(real)} is not safe: it is ${why}`);
  for (let p = path.dirname(real); ; p = path.dirname(p)) {
    const up = fs.lstatSync(p);
    if (up.uid !== 0 || ((up.mode & 0o022) !== 0 && (up.mode & 0o1000) === 0)) throw configError(`sandboxes_root ${quote(real)} is not safe: ${quote(p)} above it is not root's or is writable by others without the sticky bit`);
    if (p === '/') break;
  }
  return real;
}

export interface PrivateDirs {
  home: string;
  tmp: string;
}

/** Makes (or finds) the private HOME and TMPDIR of `user` (uid) in the worktree of `group` (name, gid). */
export function ensurePrivateDirs(config: PrivConfig, user: { name: string; uid: number }, group: { name: string; gid: number }): PrivateDirs {
  const root = trustedRoot(config.sandboxes_root);
  const rootOwner = { uid: 0, gid: 0 };
  const perWorktree = ensureDir(root, group.name, 0o711, rootOwner);
  const perUser = ensureDir(perWorktree, user.name, 0o711, rootOwner);
  const mine = { uid: user.uid, gid: group.gid };
  return { home: ensureDir(perUser, 'home', 0o700, mine), tmp: ensureDir(perUser, 'tmp', 0o700, mine) };
}
