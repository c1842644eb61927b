// Paths under worktrees_root, and prepare-worktree. The daemon user owns worktrees_root and can
// rename or replace anything in it at any moment, so no path string is trusted twice:
//  - every lookup below worktrees_root is one component at a time through the directory descriptor
//    already opened (`/proc/self/fd/<dirfd>/<name>` with O_NOFOLLOW — the equivalent of openat), so a
//    symlink anywhere is refused on the way in and never followed while walking;
//  - owner, group and mode are changed through the descriptor (fchown/fchmod), and ACLs through
//    setfacl given /proc/self/fd/<n> of descriptors handed to it, so what is changed is exactly the
//    inode that was checked;
//  - only inodes owned by agor's accounts (the daemon user, the executor user, agor_* people with
//    uid ≥ min_uid) on worktrees_root's filesystem are changed: a hard link to a root file, a file
//    of another account or a mount point inside a tree is refused.
import fs from 'node:fs';
import path from 'node:path';
import type { PrivConfig } from './config.js';
import { configError, quote, refused, unavailable } from './errors.js';
import { USER_PATTERN, WORKTREE_GROUP_PREFIX, type OthersAccess } from './names.js';
import { daemonAccount, executorAccount, worktreeGroup } from './accounts.js';
import { firstLine, lookupUser, runTool } from './system.js';

const O = fs.constants;
const DIR_FLAGS = O.O_RDONLY | O.O_DIRECTORY | O.O_NOFOLLOW | O.O_NONBLOCK;
const FILE_FLAGS = O.O_RDONLY | O.O_NOFOLLOW | O.O_NONBLOCK;
/** Descriptors handed to one setfacl run. */
const ACL_BATCH = 100;
/** Deepest directory nesting walked (one open descriptor per level). */
const MAX_DEPTH = 400;

const fdPath = (fd: number, name?: string): string => (name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`);

function errno(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'error';
}

export interface Root {
  /** realpath of worktrees_root. */
  real: string;
  dev: number;
}

/**
 * worktrees_root must exist, be a directory owned by root or the daemon user and not writable by
 * group/others, and sit below directories only root can rename (root-owned, not group/other-writable
 * unless sticky, like /var/tmp).
 */
export function openRoot(config: PrivConfig): Root {
  let real: string;
  try {
    real = fs.realpathSync(config.worktrees_root);
  } catch (error) {
    throw configError(`worktrees_root ${quote(config.worktrees_root)} is not available (${errno(error)})`);
  }
  const st = fs.lstatSync(real);
  const daemon = daemonAccount(config);
  if (!st.isDirectory()) throw configError(`worktrees_root ${quote(real)} is not a directory`);
  if (st.uid !== 0 && st.uid !== daemon.uid) throw configError(`worktrees_root ${quote(real)} is owned by uid ${st.uid}, not root or ${config.daemon_user}`);
  if ((st.mode & 0o022) !== 0) throw configError(`worktrees_root ${quote(real)} is writable by group or others`);
  for (let p = path.dirname(real); ; p = path.dirname(p)) {
    const a = fs.lstatSync(p);
    const sticky = (a.mode & 0o1000) !== 0;
    if (a.uid !== 0 || ((a.mode & 0o022) !== 0 && !sticky)) throw configError(`worktrees_root ${quote(real)} is not safe: ${quote(p)} is not a root-owned directory closed to others`);
    if (p === '/') break;
  }
  return { real, dev: st.dev };
}

/**
 * The components of `arg` below worktrees_root. `arg` must be absolute, normalised (no `.`, `..`,
 * `//` or trailing `/`) and strictly inside worktrees_root (as configured or as its realpath).
 */
export function componentsBelowRoot(arg: string, configuredRoot: string, realRoot: string, flagName: string): string[] {
  if (!arg.startsWith('/')) throw refused(`--${flagName} ${quote(arg)} must be an absolute path`);
  if (path.posix.normalize(arg) !== arg || arg.endsWith('/')) throw refused(`--${flagName} ${quote(arg)} must be normalised (no ".", "..", "//" or trailing "/")`);
  for (const prefix of [configuredRoot, realRoot]) {
    if (arg.startsWith(prefix + '/')) return arg.slice(prefix.length + 1).split('/');
  }
  throw refused(`--${flagName} ${quote(arg)} is not inside worktrees_root ${quote(configuredRoot)}`);
}

/** Opens `name` inside the directory `dirFd` as a directory, refusing symlinks and other types. */
function openChildDir(dirFd: number, name: string, shown: string, root: Root): { fd: number; st: fs.Stats } {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(fdPath(dirFd, name));
  } catch (error) {
    throw refused(`${quote(shown)} does not exist (${errno(error)})`);
  }
  if (st.isSymbolicLink()) throw refused(`${quote(shown)} is a symlink; agor-priv never follows one`);
  if (!st.isDirectory()) throw refused(`${quote(shown)} is not a directory`);
  let fd: number;
  try {
    fd = fs.openSync(fdPath(dirFd, name), DIR_FLAGS);
  } catch (error) {
    const code = errno(error);
    throw refused(code === 'ELOOP' ? `${quote(shown)} became a symlink; agor-priv never follows one` : `${quote(shown)} cannot be opened (${code})`);
  }
  const opened = fs.fstatSync(fd);
  if (!opened.isDirectory() || opened.dev !== root.dev) {
    fs.closeSync(fd);
    throw refused(`${quote(shown)} ${opened.isDirectory() ? "is on another filesystem than worktrees_root" : 'is not a directory'}`);
  }
  return { fd, st: opened };
}

export interface OpenedDir {
  fd: number;
  st: fs.Stats;
  /** Descriptors of worktrees_root and the directories between it and the target, still open. */
  parents: Array<{ fd: number; st: fs.Stats; shown: string }>;
}

/** Opens the directory at `components` below the root, every step without following a symlink. */
export function openBelowRoot(root: Root, components: readonly string[], shownRoot: string): OpenedDir {
  if (!fs.existsSync('/proc/self/fd')) throw unavailable('/proc is not mounted; agor-priv needs /proc/self/fd to walk directories safely');
  const rootFd = fs.openSync(root.real, DIR_FLAGS);
  const chain: Array<{ fd: number; st: fs.Stats; shown: string }> = [{ fd: rootFd, st: fs.fstatSync(rootFd), shown: shownRoot }];
  try {
    for (const name of components) {
      if (name === '' || name === '.' || name === '..') throw refused(`invalid path component ${quote(name)}`);
      const current = chain[chain.length - 1]!;
      const shown = `${current.shown}/${name}`;
      chain.push({ ...openChildDir(current.fd, name, shown, root), shown });
    }
  } catch (error) {
    for (const link of chain) fs.closeSync(link.fd);
    throw error;
  }
  const target = chain.pop()!;
  return { fd: target.fd, st: target.st, parents: chain };
}

export function closeOpened(dir: OpenedDir): void {
  for (const p of dir.parents) fs.closeSync(p.fd);
  fs.closeSync(dir.fd);
}

/** Resolves and checks a directory argument (prepare-worktree --path, exec --cwd); returns its real path. */
export function checkDirBelowRoot(arg: string, config: PrivConfig, flagName: string): string {
  const root = openRoot(config);
  const components = componentsBelowRoot(arg, config.worktrees_root, root.real, flagName);
  const opened = openBelowRoot(root, components, root.real);
  closeOpened(opened);
  return [root.real, ...components].join('/');
}

// ---------------------------------------------------------------------------------------------
// Modes

const OTHERS_DIR: Record<OthersAccess, number> = { none: 0o000, read: 0o005, write: 0o007 };

/** Directory: owner bits and sticky kept, setuid cleared, group rwx + setgid, others per --others. */
export function directoryMode(mode: number, others: OthersAccess): number {
  return (mode & 0o1700) | 0o2070 | OTHERS_DIR[others];
}

/**
 * File: owner bits kept, setuid/setgid/sticky cleared, group rw (+x when anyone may execute it,
 * like chmod's X), others per --others (r/rw, +x likewise).
 */
export function fileMode(mode: number, others: OthersAccess): number {
  const x = (mode & 0o111) !== 0 ? 1 : 0;
  const othersBits = others === 'none' ? 0 : others === 'read' ? 0o004 | x : 0o006 | x;
  return (mode & 0o700) | 0o060 | (x << 3) | othersBits;
}

const OTHERS_ACL: Record<OthersAccess, string> = { none: '---', read: 'rX', write: 'rwX' };

/**
 * The setfacl -m specs: the group's entries, the daemon user's, others, and (directories) the
 * defaults new files inherit. The daemon user gets its own entries because files an executing
 * identity creates are that identity's: without them the daemon could neither inspect nor remove
 * a worktree its agents wrote into. Group and user are named by numeric id, so setfacl makes no
 * lookup of its own.
 */
export function aclSpecs(group: number, others: OthersAccess, daemonUid: number): { dir: string; file: string } {
  const o = OTHERS_ACL[others];
  const od = others === 'none' ? '---' : others === 'read' ? 'r-x' : 'rwx';
  return {
    dir: `g::rwx,g:${group}:rwx,u:${daemonUid}:rwx,o::${o},d:u::rwx,d:g::rwx,d:g:${group}:rwx,d:u:${daemonUid}:rwx,d:o::${od}`,
    file: `g::rwX,g:${group}:rwX,u:${daemonUid}:rwX,o::${o}`,
  };
}

// ---------------------------------------------------------------------------------------------
// prepare-worktree

interface Walk {
  config: PrivConfig;
  root: Root;
  gid: number;
  others: OthersAccess;
  specs: { dir: string; file: string };
  allowedUids: Map<number, boolean>;
  dirBatch: number[];
  fileBatch: number[];
}

/** Whether files owned by `uid` are agor's to change. Cached per uid. */
function ownerAllowed(walk: Walk, uid: number): boolean {
  const cached = walk.allowedUids.get(uid);
  if (cached !== undefined) return cached;
  let allowed = false;
  if (uid !== 0) {
    const entry = lookupUser(uid);
    allowed =
      entry !== null &&
      (entry.name === walk.config.daemon_user ||
        entry.name === walk.config.executor_user ||
        (uid >= walk.config.min_uid && USER_PATTERN.test(entry.name) && !entry.name.startsWith(WORKTREE_GROUP_PREFIX)));
  }
  walk.allowedUids.set(uid, allowed);
  return allowed;
}

function checkOwner(walk: Walk, st: fs.Stats, shown: string): void {
  if (!ownerAllowed(walk, st.uid)) throw refused(`${quote(shown)} is owned by uid ${st.uid}, which is not an agor account; nothing under it is changed further`);
  if (st.dev !== walk.root.dev) throw refused(`${quote(shown)} is on another filesystem than worktrees_root`);
}

function flushAcl(walk: Walk, kind: 'dir' | 'file'): void {
  const batch = kind === 'dir' ? walk.dirBatch : walk.fileBatch;
  if (batch.length === 0) return;
  try {
    const targets = batch.map((_, i) => `/proc/self/fd/${i + 3}`);
    const args = kind === 'dir' ? ['-b', '-k', '-m', walk.specs.dir, ...targets] : ['-b', '-m', walk.specs.file, ...targets];
    const result = runTool('setfacl', args, batch);
    if (result.status !== 0) throw unavailable(`setfacl failed (exit ${result.status}): ${firstLine(result.stderr) || 'no message'} (does the filesystem support POSIX ACLs?)`);
  } finally {
    for (const fd of batch) fs.closeSync(fd);
    batch.length = 0;
  }
}

function queueAcl(walk: Walk, kind: 'dir' | 'file', fd: number): void {
  const batch = kind === 'dir' ? walk.dirBatch : walk.fileBatch;
  batch.push(fd);
  if (batch.length >= ACL_BATCH) flushAcl(walk, kind);
}

/**
 * Group, mode and (queued) ACL of one inode, through its descriptor. A file's descriptor is handed
 * over (queued for setfacl, or closed on failure); a directory's stays the caller's.
 */
function prepareInode(walk: Walk, fd: number, st: fs.Stats, shown: string): void {
  try {
    checkOwner(walk, st, shown);
    if (st.gid !== walk.gid) fs.fchownSync(fd, st.uid, walk.gid);
    // After fchown, which clears setuid/setgid bits.
    fs.fchmodSync(fd, st.isDirectory() ? directoryMode(st.mode, walk.others) : fileMode(st.mode, walk.others));
  } catch (error) {
    if (!st.isDirectory()) fs.closeSync(fd);
    throw error;
  }
  if (!st.isDirectory()) {
    queueAcl(walk, 'file', fd);
    return;
  }
  // The walk keeps using `fd`; setfacl gets its own descriptor on the same inode.
  // (/proc/self/fd/<n> is a magic link to that inode: it must be followed, so no O_NOFOLLOW here.)
  const aclFd = fs.openSync(fdPath(fd), O.O_RDONLY | O.O_DIRECTORY);
  const again = fs.fstatSync(aclFd);
  if (again.ino !== st.ino || again.dev !== st.dev) {
    fs.closeSync(aclFd);
    throw unavailable(`${quote(shown)}: reopening the directory gave another inode`);
  }
  queueAcl(walk, 'dir', aclFd);
}

interface Frame {
  fd: number;
  shown: string;
  names: string[];
  next: number;
}

function listDir(fd: number, shown: string): string[] {
  try {
    return fs.readdirSync(fdPath(fd));
  } catch (error) {
    throw unavailable(`cannot list ${quote(shown)} (${errno(error)})`);
  }
}

/** Walks the tree below `top` (already prepared), depth first, one descriptor per level. */
function walkTree(walk: Walk, topFd: number, topShown: string): { skipped: number } {
  let skipped = 0;
  const stack: Frame[] = [{ fd: topFd, shown: topShown, names: listDir(topFd, topShown), next: 0 }];
  try {
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      if (frame.next >= frame.names.length) {
        stack.pop();
        if (frame.fd !== topFd) fs.closeSync(frame.fd);
        continue;
      }
      const name = frame.names[frame.next++]!;
      const shown = `${frame.shown}/${name}`;
      let lst: fs.Stats;
      try {
        lst = fs.lstatSync(fdPath(frame.fd, name));
      } catch {
        continue; // removed since it was listed
      }
      // Symlinks (inside or pointing out of the tree), FIFOs, sockets and devices are left alone.
      if (!lst.isDirectory() && !lst.isFile()) {
        skipped += 1;
        continue;
      }
      let fd: number;
      try {
        fd = fs.openSync(fdPath(frame.fd, name), lst.isDirectory() ? DIR_FLAGS : FILE_FLAGS);
      } catch (error) {
        const code = errno(error);
        if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENXIO') {
          skipped += 1; // replaced since lstat: whatever it is now, it is not followed
          continue;
        }
        throw unavailable(`cannot open ${quote(shown)} (${code})`);
      }
      const st = fs.fstatSync(fd);
      if (!st.isDirectory() && !st.isFile()) {
        fs.closeSync(fd);
        skipped += 1;
        continue;
      }
      if (!st.isDirectory()) {
        prepareInode(walk, fd, st, shown);
        continue;
      }
      try {
        if (stack.length >= MAX_DEPTH) throw refused(`${quote(shown)} is nested deeper than ${MAX_DEPTH} directories`);
        prepareInode(walk, fd, st, shown);
        stack.push({ fd, shown, names: listDir(fd, shown), next: 0 });
      } catch (error) {
        fs.closeSync(fd);
        throw error;
      }
    }
  } finally {
    for (const frame of stack) if (frame.fd !== topFd) fs.closeSync(frame.fd);
  }
  return { skipped };
}

/**
 * prepare-worktree --path <dir> --group agor_wt_<hex> --others none|read|write
 *
 * worktrees_root and each directory between it and <dir> gain o+x (search only, never read or
 * write) so the worktree's identities can reach <dir>; nothing above worktrees_root is changed.
 * <dir> and everything below it (symlinks excepted) get the group, setgid directories, group
 * rw(x), others per --others, and an ACL: the group's entry, and on directories the default entries
 * that keep every new file group-writable whoever creates it.
 */
export function prepareWorktree(arg: string, groupName: string, others: OthersAccess, config: PrivConfig): void {
  const group = worktreeGroup(groupName, config);
  // Resolve these before the walk: the walk refuses anything owned by another account.
  const daemon = daemonAccount(config);
  executorAccount(config);
  const root = openRoot(config);
  const components = componentsBelowRoot(arg, config.worktrees_root, root.real, 'path');
  const opened = openBelowRoot(root, components, root.real);
  const walk: Walk = {
    config,
    root,
    gid: group.gid,
    others,
    specs: aclSpecs(group.gid, others, daemon.uid),
    allowedUids: new Map(),
    dirBatch: [],
    fileBatch: [],
  };
  const shownTop = [root.real, ...components].join('/');
  try {
    for (const parent of opened.parents) {
      checkOwner(walk, parent.st, parent.shown);
      if ((parent.st.mode & 0o001) === 0) fs.fchmodSync(parent.fd, (parent.st.mode & 0o7777) | 0o001);
    }
    prepareInode(walk, opened.fd, opened.st, shownTop);
    walkTree(walk, opened.fd, shownTop);
    flushAcl(walk, 'dir');
    flushAcl(walk, 'file');
  } finally {
    for (const fd of [...walk.dirBatch, ...walk.fileBatch]) fs.closeSync(fd);
    walk.dirBatch.length = 0;
    walk.fileBatch.length = 0;
    closeOpened(opened);
  }
}
