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
import type { PrivConfig } from './config.js';
import { quote, refused, unavailable } from './errors.js';
import { assertTrustedFile } from './trust.js';

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

export interface PrivateDirs {
  home: string;
  tmp: string;
}

/** Makes (or finds) the private HOME and TMPDIR of `user` (uid) in the worktree of `group` (name, gid). */
export function ensurePrivateDirs(config: PrivConfig, user: { name: string; uid: number }, group: { name: string; gid: number }): PrivateDirs {
  const root = assertTrustedFile(config.sandboxes_root, 'sandboxes_root', { kind: 'dir', onMissing: unavailable });
  const rootOwner = { uid: 0, gid: 0 };
  const perWorktree = ensureDir(root, group.name, 0o711, rootOwner);
  const perUser = ensureDir(perWorktree, user.name, 0o711, rootOwner);
  const mine = { uid: user.uid, gid: group.gid };
  return { home: ensureDir(perUser, 'home', 0o700, mine), tmp: ensureDir(perUser, 'tmp', 0o700, mine) };
}
