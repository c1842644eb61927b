// Where a worktree's git metadata is, found from what the daemon made — never from a pointer the
// worktree's identities can rewrite. Two layouts exist:
//  - clone (every worktree made now): the worktree is its own repository, `<worktree>/.git` a
//    directory, borrowing objects read-only from the mirror (objects/info/alternates). Everything
//    in it belongs to the worktree's identities; the daemon reads it only as data (changes.ts).
//  - linked (worktrees made by `git worktree add` before): `<worktree>/.git` is a file and the
//    metadata is an admin dir inside the mirror. The admin dir is found by NAME (git names it after
//    the worktree's directory, with digits added on a clash) and its `gitdir` record, which its
//    identities can rewrite, is only used to confirm the name, never to choose between worktrees.
import fs from 'node:fs';
import path from 'node:path';
import { UnsafeRepositoryError, ValidationError } from './errors.js';
import { realDirectory } from './location.js';
import type { GitRepoLocation } from './runner.js';

export type WorktreeLayout =
  | { kind: 'clone'; workTree: string; gitDir: string }
  | { kind: 'linked'; workTree: string; adminDir: string; commonDir: string };

function lstat(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch {
    return null;
  }
}

/** At most 4 KB of a regular file, never through a symlink at its last component; null if unreadable. */
export function readSmallFile(file: string, max = 4096): string | null {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return null;
    const buf = Buffer.alloc(max);
    const n = fs.readSync(fd, buf, 0, max, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

function linkedAdminDir(mirror: GitRepoLocation, workTree: string): string | null {
  const adminRoot = path.join(mirror.commonDir, 'worktrees');
  const name = path.basename(workTree);
  const expected = path.join(workTree, '.git');
  const confirms = (admin: string) => lstat(admin)?.isDirectory() && path.resolve((readSmallFile(path.join(admin, 'gitdir')) ?? '').trim() || '/') === expected;
  const exact = path.join(adminRoot, name);
  if (confirms(exact)) return exact;
  let names: string[] = [];
  try {
    names = fs.readdirSync(adminRoot);
  } catch {
    return null;
  }
  const suffixed = names.filter((n) => n.startsWith(name) && /^\d+$/.test(n.slice(name.length))).map((n) => path.join(adminRoot, n)).filter(confirms);
  if (suffixed.length > 1) {
    throw new UnsafeRepositoryError(`Refusing to use the git metadata of ${workTree}: ${suffixed.length} worktree records of the repository claim it (${suffixed.join(', ')})`);
  }
  return suffixed[0] ?? null;
}

/** The layout of the worktree at `worktreePath` of the repository `mirror` (see the file comment). */
export function worktreeLayout(mirror: GitRepoLocation, worktreePath: string): WorktreeLayout {
  const workTree = realDirectory(worktreePath, 'worktree path');
  if (workTree === mirror.workTree) throw new ValidationError(`${worktreePath} is the repository's main worktree, not one of its worktrees`);
  const dotGit = path.join(workTree, '.git');
  const st = lstat(dotGit);
  if (st?.isDirectory()) return { kind: 'clone', workTree, gitDir: dotGit };
  if (st?.isFile()) {
    const adminDir = linkedAdminDir(mirror, workTree);
    if (adminDir) return { kind: 'linked', workTree, adminDir, commonDir: mirror.commonDir };
  }
  throw new ValidationError(`${worktreePath} is not a worktree of the repository ${mirror.workTree ?? mirror.gitDir}`);
}
