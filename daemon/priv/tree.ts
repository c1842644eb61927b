// Paths under worktrees_root, and prepare-worktree. The daemon user owns worktrees_root and can
// rename or replace anything in it at any moment, so no path string is trusted twice:
//  - every lookup below worktrees_root is one component at a time through the directory descriptor
//    already opened (`/proc/self/fd/<dirfd>/<name>` with O_NOFOLLOW — the equivalent of openat), so a
//    symlink anywhere is refused on the way in and never followed while walking;
//  - owner, group and mode are changed through the descriptor (fchown/fchmod), and ACLs through
//    setfacl given /proc/self/fd/<n> of descriptors handed to it, so what is changed is exactly the
//    inode that was checked;
//  - only inodes owned by the worktree's identities (the daemon user, the executor user, the
//    members of its group) on worktrees_root's filesystem, and only files with a single link, are
//    changed: a hard link (to a root file, to another worktree's file), a file of another account
//    or a mount point inside a tree is left alone and reported (see prepare-worktree below).
import fs from 'node:fs';
import path from 'node:path';
import type { PrivConfig } from './config.js';
import { configError, quote, refused, unavailable } from './errors.js';
import { USER_PATTERN, WORKTREE_GROUP_PREFIX, type OthersAccess } from './names.js';
import { daemonAccount, executorAccount, worktreeGroup } from './accounts.js';
import { firstLine, lookupUser, runTool, type GroupEntry } from './system.js';

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
//
// The walk is top-down: a directory is prepared before anything below it, so whatever happens
// further down, the way in is already as open as requested and no more. What it cannot handle it
// leaves alone and reports instead of aborting (an agent must not be able to undo its owner's
// tightening by planting something the walk refuses): a file with more than one link (a hard
// link's other names may be anywhere, e.g. another worktree's git metadata), an inode owned by
// anyone but this worktree's identities, an inode on another filesystem, a directory nested
// deeper than MAX_DEPTH. When what it leaves alone is more open to others than requested, the
// directory holding it is closed to others instead (more closed than requested, never more open).

/** Skipped inodes named in the report (the count covers all of them). */
const REPORT_LIMIT = 50;

export interface TreeSkip {
  path: string;
  why: string;
}

export interface PrepareReport {
  /** Inodes left unchanged (never counting symlinks, which are always left alone). */
  skipped: number;
  /** Directories closed to others because something in them could not be tightened. */
  closed: number;
  examples: TreeSkip[];
  closedExamples: string[];
}

interface Walk {
  config: PrivConfig;
  root: Root;
  gid: number;
  others: OthersAccess;
  specs: { dir: string; file: string };
  closedSpec: string;
  /** Owners whose inodes this worktree's walk changes: the daemon user, the executor user, the group's members. */
  identities: Set<number>;
  dirBatch: number[];
  fileBatch: number[];
  closedBatch: number[];
  report: PrepareReport;
}

/** Whether a directory owned by `uid` may lie between worktrees_root and a worktree (agor's accounts). Cached per uid. */
function parentOwnerAllowed(config: PrivConfig, cache: Map<number, boolean>, uid: number): boolean {
  const cached = cache.get(uid);
  if (cached !== undefined) return cached;
  let allowed = false;
  if (uid !== 0) {
    const entry = lookupUser(uid);
    allowed =
      entry !== null &&
      (entry.name === config.daemon_user ||
        entry.name === config.executor_user ||
        (uid >= config.min_uid && USER_PATTERN.test(entry.name) && !entry.name.startsWith(WORKTREE_GROUP_PREFIX)));
  }
  cache.set(uid, allowed);
  return allowed;
}

/** The others bits `--others` allows on anything in the tree. */
const OTHERS_ALLOWED: Record<OthersAccess, number> = { none: 0o000, read: 0o005, write: 0o007 };

/** Whether an inode left as it is gives others more than requested (for a directory: any way in at all). */
function tooOpen(walk: Walk, st: fs.Stats, descended: boolean): boolean {
  const others = st.mode & 0o007;
  if (st.isDirectory() && !descended) return others !== 0 && walk.others !== 'write';
  return (others & ~OTHERS_ALLOWED[walk.others]) !== 0;
}

function note(walk: Walk, shown: string, why: string): void {
  walk.report.skipped += 1;
  if (walk.report.examples.length < REPORT_LIMIT) walk.report.examples.push({ path: shown.slice(0, 300), why });
}

function flushAcl(walk: Walk, kind: 'dir' | 'file' | 'closed'): void {
  // A closed directory's ACL was queued with the requested spec first: that one must land before.
  if (kind === 'closed') flushAcl(walk, 'dir');
  const batch = kind === 'dir' ? walk.dirBatch : kind === 'file' ? walk.fileBatch : walk.closedBatch;
  if (batch.length === 0) return;
  try {
    const targets = batch.map((_, i) => `/proc/self/fd/${i + 3}`);
    const spec = kind === 'dir' ? walk.specs.dir : kind === 'file' ? walk.specs.file : walk.closedSpec;
    const args = kind === 'file' ? ['-b', '-m', spec, ...targets] : ['-b', '-k', '-m', spec, ...targets];
    const result = runTool('setfacl', args, batch);
    if (result.status !== 0) throw unavailable(`setfacl failed (exit ${result.status}): ${firstLine(result.stderr) || 'no message'} (does the filesystem support POSIX ACLs?)`);
  } finally {
    for (const fd of batch) fs.closeSync(fd);
    batch.length = 0;
  }
}

function queueAcl(walk: Walk, kind: 'dir' | 'file' | 'closed', fd: number): void {
  const batch = kind === 'dir' ? walk.dirBatch : kind === 'file' ? walk.fileBatch : walk.closedBatch;
  batch.push(fd);
  if (batch.length >= ACL_BATCH) flushAcl(walk, kind);
}

/** A descriptor of its own on a directory, for setfacl (the walk keeps using `fd`). */
function aclDescriptor(fd: number, st: fs.Stats, shown: string): number {
  // /proc/self/fd/<n> is a magic link to that inode: it must be followed, so no O_NOFOLLOW here.
  const aclFd = fs.openSync(fdPath(fd), O.O_RDONLY | O.O_DIRECTORY);
  const again = fs.fstatSync(aclFd);
  if (again.ino !== st.ino || again.dev !== st.dev) {
    fs.closeSync(aclFd);
    throw unavailable(`${quote(shown)}: reopening the directory gave another inode`);
  }
  return aclFd;
}

/**
 * Group, mode and (queued) ACL of one inode the walk may change, through its descriptor, with
 * `others` (the requested access, or none for a directory closed off). A file's descriptor is
 * handed over (queued for setfacl, or closed on failure); a directory's stays the caller's.
 */
function prepareInode(walk: Walk, fd: number, st: fs.Stats, shown: string, others: OthersAccess = walk.others): void {
  try {
    if (st.gid !== walk.gid) fs.fchownSync(fd, st.uid, walk.gid);
    // After fchown, which clears setuid/setgid bits.
    fs.fchmodSync(fd, st.isDirectory() ? directoryMode(st.mode, others) : fileMode(st.mode, others));
  } catch (error) {
    if (!st.isDirectory()) fs.closeSync(fd);
    throw error;
  }
  if (!st.isDirectory()) {
    queueAcl(walk, 'file', fd);
    return;
  }
  queueAcl(walk, others === walk.others ? 'dir' : 'closed', aclDescriptor(fd, st, shown));
}

interface Frame {
  fd: number;
  st: fs.Stats;
  shown: string;
  names: string[];
  next: number;
  closed: boolean;
}

/** Closes a directory the walk already prepared to others (mode and ACL, defaults included). */
function closeToOthers(walk: Walk, frame: Frame): void {
  if (frame.closed || walk.others === 'none') return;
  frame.closed = true;
  fs.fchmodSync(frame.fd, directoryMode(frame.st.mode, 'none'));
  queueAcl(walk, 'closed', aclDescriptor(frame.fd, frame.st, frame.shown));
  walk.report.closed += 1;
  if (walk.report.closedExamples.length < REPORT_LIMIT) walk.report.closedExamples.push(frame.shown.slice(0, 300));
}

function listDir(fd: number): string[] | null {
  try {
    return fs.readdirSync(fdPath(fd));
  } catch {
    return null;
  }
}

/** Why the walk must leave this (opened) inode alone, or null when it is this worktree's to change. */
function whyLeftAlone(walk: Walk, st: fs.Stats): string | null {
  if (st.dev !== walk.root.dev) return 'on another filesystem than worktrees_root';
  if (st.isFile() && st.nlink > 1) return `a file with ${st.nlink} hard links`;
  if (!walk.identities.has(st.uid)) return `owned by uid ${st.uid}, not one of this worktree's identities`;
  return null;
}

/** Walks the tree below `top` (already prepared), depth first, one descriptor per level. */
function walkTree(walk: Walk, top: Frame): void {
  const stack: Frame[] = [top];
  try {
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      if (frame.next >= frame.names.length) {
        stack.pop();
        if (frame !== top) fs.closeSync(frame.fd);
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
      if (lst.isSymbolicLink()) continue; // never followed, never changed; its mode means nothing
      if (!lst.isDirectory() && !lst.isFile()) {
        // FIFOs, sockets, devices: left alone; others must not reach one more open than requested.
        if (tooOpen(walk, lst, true)) {
          note(walk, shown, 'a FIFO, socket or device');
          closeToOthers(walk, frame);
        }
        continue;
      }
      let fd: number;
      try {
        fd = fs.openSync(fdPath(frame.fd, name), lst.isDirectory() ? DIR_FLAGS : FILE_FLAGS);
      } catch (error) {
        const code = errno(error);
        if (code === 'ENOENT') continue;
        // Replaced since lstat (ELOOP: now a symlink), or not openable: whatever it is, it is not
        // followed; the directory holding it is closed when the old inode was open to others.
        note(walk, shown, `cannot be opened (${code})`);
        if (code !== 'ELOOP' || tooOpen(walk, lst, !lst.isDirectory())) closeToOthers(walk, frame);
        continue;
      }
      const st = fs.fstatSync(fd);
      const why = st.isDirectory() || st.isFile() ? whyLeftAlone(walk, st) : 'a FIFO, socket or device';
      if (why !== null) {
        fs.closeSync(fd);
        note(walk, shown, `${why}: left unchanged`);
        if (tooOpen(walk, st, !st.isDirectory())) closeToOthers(walk, frame);
        continue;
      }
      if (!st.isDirectory()) {
        prepareInode(walk, fd, st, shown);
        continue;
      }
      const child: Frame = { fd, st, shown, names: [], next: 0, closed: false };
      try {
        if (stack.length >= MAX_DEPTH) {
          // Closed to others at this depth, so whatever lies deeper is out of their reach.
          prepareInode(walk, fd, st, shown, 'none');
          note(walk, shown, `nested deeper than ${MAX_DEPTH} directories: closed to others, not walked further`);
          fs.closeSync(fd);
          continue;
        }
        prepareInode(walk, fd, st, shown);
        const names = listDir(fd);
        if (names === null) {
          note(walk, shown, 'cannot be listed: closed to others, not walked further');
          closeToOthers(walk, child);
          fs.closeSync(fd);
          continue;
        }
        child.names = names;
      } catch (error) {
        fs.closeSync(fd);
        throw error;
      }
      stack.push(child);
    }
  } finally {
    for (const frame of stack) if (frame !== top) fs.closeSync(frame.fd);
  }
}

/** uids whose inodes this worktree's walk may change: the daemon user, the executor user, the group's members. */
function identitiesOf(group: GroupEntry, config: PrivConfig): Set<number> {
  const ids = new Set([daemonAccount(config).uid, executorAccount(config).uid]);
  for (const member of group.members) {
    const entry = lookupUser(member);
    if (entry && entry.uid >= config.min_uid) ids.add(entry.uid);
  }
  ids.delete(0);
  return ids;
}

/**
 * prepare-worktree --path <dir> --group agor_wt_<hex> --others none|read|write
 *
 * worktrees_root and each directory between it and <dir> gain o+x (search only, never read or
 * write) so the worktree's identities can reach <dir>; nothing above worktrees_root is changed.
 * <dir> and everything below it (symlinks excepted) get the group, setgid directories, group
 * rw(x), others per --others, and an ACL: the group's entry, and on directories the default entries
 * that keep every new file group-writable whoever creates it. What the walk leaves alone is in the
 * returned report.
 */
export function prepareWorktree(arg: string, groupName: string, others: OthersAccess, config: PrivConfig): PrepareReport {
  const group = worktreeGroup(groupName, config);
  // Resolve these before the walk.
  const daemon = daemonAccount(config);
  const identities = identitiesOf(group, config);
  const root = openRoot(config);
  const components = componentsBelowRoot(arg, config.worktrees_root, root.real, 'path');
  const opened = openBelowRoot(root, components, root.real);
  const walk: Walk = {
    config,
    root,
    gid: group.gid,
    others,
    specs: aclSpecs(group.gid, others, daemon.uid),
    closedSpec: aclSpecs(group.gid, 'none', daemon.uid).dir,
    identities,
    dirBatch: [],
    fileBatch: [],
    closedBatch: [],
    report: { skipped: 0, closed: 0, examples: [], closedExamples: [] },
  };
  const shownTop = [root.real, ...components].join('/');
  try {
    const parentOwners = new Map<number, boolean>();
    for (const parent of opened.parents) {
      if (!parentOwnerAllowed(config, parentOwners, parent.st.uid)) throw refused(`${quote(parent.shown)} is owned by uid ${parent.st.uid}, which is not an agor account; nothing under it is changed`);
      if ((parent.st.mode & 0o001) === 0) fs.fchmodSync(parent.fd, (parent.st.mode & 0o7777) | 0o001);
    }
    // The worktree's own directory is the daemon's (it made it): anything else is refused outright.
    const why = whyLeftAlone(walk, opened.st);
    if (why !== null) throw refused(`${quote(shownTop)} is ${why}; nothing under it is changed`);
    prepareInode(walk, opened.fd, opened.st, shownTop);
    const names = listDir(opened.fd);
    if (names === null) throw unavailable(`cannot list ${quote(shownTop)}`);
    walkTree(walk, { fd: opened.fd, st: opened.st, shown: shownTop, names, next: 0, closed: false });
    flushAcl(walk, 'dir');
    flushAcl(walk, 'file');
    flushAcl(walk, 'closed');
  } finally {
    for (const fd of [...walk.dirBatch, ...walk.fileBatch, ...walk.closedBatch]) fs.closeSync(fd);
    walk.dirBatch.length = 0;
    walk.fileBatch.length = 0;
    walk.closedBatch.length = 0;
    closeOpened(opened);
  }
  return walk.report;
}
