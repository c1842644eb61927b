// Removing a directory tree that someone else can write while it is removed. Whoever works in a
// worktree can swap any directory in it for a symlink at any moment (rename, RENAME_EXCHANGE), so a
// path is never used twice: every step is relative to a directory descriptor opened with
// O_NOFOLLOW|O_DIRECTORY (`/proc/self/fd/<dirfd>/<name>` is openat/unlinkat: the kernel resolves the
// magic link to that very directory and looks `name` up in it), and unlink/rmdir never follow their
// last component. A symlink is therefore only ever unlinked itself; a directory swapped in or out
// while the walk runs is either walked through its descriptor (it is still that directory, wherever
// it was moved) or unlinked as whatever it is now. Nothing outside the tree can be reached.
//
// Shared by agor-priv's `remove-tree` verb (root, insulated/strict) and the daemon (simple mode, in
// a worker thread), so it imports only Node built-ins and agor-priv's own errors.
import fs from 'node:fs';
import { quote, refused, unavailable } from './errors.js';

const O = fs.constants;
const DIR_FLAGS = O.O_RDONLY | O.O_DIRECTORY | O.O_NOFOLLOW | O.O_NONBLOCK;
/** Deepest nesting walked (one open descriptor per level); deeper trees are refused, not followed. */
export const REMOVE_MAX_DEPTH = 1000;
/** Whole walks before giving up on a tree something keeps refilling. */
const MAX_PASSES = 8;

const at = (fd: number, name: string): string => `/proc/self/fd/${fd}/${name}`;

function code(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'error';
}

export interface RemoveReport {
  /** Entries removed (files, symlinks, directories). */
  removed: number;
  /** Whole walks it took (more than one when entries kept appearing). */
  passes: number;
}

interface Walk {
  dev: number;
  removed: number;
  /** Directories on another filesystem (mount points) are refused, never entered. */
  shown: string;
}

/** Unlinks `name` in `dirFd` as a non-directory; true when it is gone. */
function unlinkEntry(dirFd: number, name: string): boolean {
  try {
    fs.unlinkSync(at(dirFd, name));
    return true;
  } catch (error) {
    const c = code(error);
    if (c === 'ENOENT') return true;
    if (c === 'EISDIR' || c === 'EPERM') return false; // a directory now (Linux says EISDIR; EPERM elsewhere)
    throw unavailable(`cannot remove an entry of the tree (${c})`);
  }
}

/** Removes the empty directory `name` in `dirFd`; false when it is not (or no longer) an empty directory. */
function rmdirEntry(dirFd: number, name: string): boolean {
  try {
    fs.rmdirSync(at(dirFd, name));
    return true;
  } catch (error) {
    const c = code(error);
    if (c === 'ENOENT') return true;
    if (c === 'ENOTDIR' || c === 'ENOTEMPTY' || c === 'EEXIST') return false;
    throw unavailable(`cannot remove a directory of the tree (${c})`);
  }
}

/** Empties the directory open as `fd` (depth first). Returns whether it was seen empty. */
function emptyDirectory(walk: Walk, fd: number, depth: number): boolean {
  let names: string[];
  try {
    names = fs.readdirSync(`/proc/self/fd/${fd}`);
  } catch (error) {
    throw unavailable(`cannot list a directory of ${quote(walk.shown)} (${code(error)})`);
  }
  let clean = true;
  for (const name of names) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(at(fd, name));
    } catch {
      continue; // gone since it was listed
    }
    if (!st.isDirectory()) {
      if (unlinkEntry(fd, name)) walk.removed += 1;
      else clean = false; // became a directory: the next pass walks it
      continue;
    }
    let child: number;
    try {
      child = fs.openSync(at(fd, name), DIR_FLAGS);
    } catch (error) {
      const c = code(error);
      if (c === 'ENOENT') continue;
      if (c === 'ELOOP' || c === 'ENOTDIR') {
        // Swapped for a symlink or a file since lstat: unlink whatever it is now, never follow it.
        if (unlinkEntry(fd, name)) walk.removed += 1;
        else clean = false;
        continue;
      }
      throw unavailable(`cannot open a directory of ${quote(walk.shown)} (${c})`);
    }
    try {
      const opened = fs.fstatSync(child);
      if (opened.dev !== walk.dev) throw refused(`${quote(walk.shown)} contains a mount point (another filesystem); unmount it first`);
      if (depth + 1 >= REMOVE_MAX_DEPTH) throw refused(`${quote(walk.shown)} is nested deeper than ${REMOVE_MAX_DEPTH} directories`);
      if (!emptyDirectory(walk, child, depth + 1)) clean = false;
    } finally {
      fs.closeSync(child);
    }
    if (rmdirEntry(fd, name)) walk.removed += 1;
    else clean = false;
  }
  return clean;
}

/**
 * Removes the directory `name` inside the directory open as `parentFd`, with everything in it, never
 * following a symlink. `shown` names it in messages. A `name` that is not a directory (a symlink
 * swapped in before the walk started) is refused: the caller asked for a directory.
 */
export function removeTreeAt(parentFd: number, name: string, shown: string): RemoveReport {
  if (!fs.existsSync('/proc/self/fd')) throw unavailable('/proc is not mounted; a tree can only be removed safely through /proc/self/fd');
  if (name === '' || name === '.' || name === '..' || name.includes('/')) throw refused(`invalid directory name ${quote(name)}`);
  let top: number;
  try {
    top = fs.openSync(at(parentFd, name), DIR_FLAGS);
  } catch (error) {
    const c = code(error);
    if (c === 'ENOENT') return { removed: 0, passes: 0 };
    if (c === 'ELOOP' || c === 'ENOTDIR') throw refused(`${quote(shown)} is not a directory (a symlink or a file); nothing was removed`);
    throw unavailable(`cannot open ${quote(shown)} (${c})`);
  }
  const walk: Walk = { dev: fs.fstatSync(top).dev, removed: 0, shown };
  let passes = 0;
  try {
    const parentDev = fs.fstatSync(parentFd).dev;
    if (parentDev !== walk.dev) throw refused(`${quote(shown)} is a mount point; unmount it first`);
    for (;;) {
      passes += 1;
      if (emptyDirectory(walk, top, 0)) break;
      if (passes >= MAX_PASSES) throw unavailable(`${quote(shown)} kept changing while it was removed (${passes} passes); stop what writes there and try again`);
    }
  } finally {
    fs.closeSync(top);
  }
  // The name may now be something else (the directory was renamed away and replaced): then only
  // that replacement's own entry is removed, never followed.
  if (!rmdirEntry(parentFd, name)) {
    let st: fs.Stats | null = null;
    try {
      st = fs.lstatSync(at(parentFd, name));
    } catch {
      st = null;
    }
    if (st && !st.isDirectory()) unlinkEntry(parentFd, name);
    else if (st) throw unavailable(`${quote(shown)} was refilled while it was removed; try again`);
  }
  return { removed: walk.removed + 1, passes };
}

/** Opens `dir` (an absolute path the caller has already validated) as a directory, never through a final symlink. */
export function openDirectoryNoFollow(dir: string): number {
  try {
    return fs.openSync(dir, DIR_FLAGS);
  } catch (error) {
    const c = code(error);
    if (c === 'ELOOP' || c === 'ENOTDIR') throw refused(`${quote(dir)} is not a directory (a symlink or a file)`);
    throw unavailable(`cannot open ${quote(dir)} (${c})`);
  }
}
