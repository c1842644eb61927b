// Worktrees: each one is its own repository (a "clone" made by hand), borrowing the mirror's
// objects read-only through objects/info/alternates. Nothing of the mirror's metadata is written
// by a worktree's identities, and the daemon never trusts anything a worktree holds: it checks for
// changes in a private git directory (changes.ts) and deletes by a no-follow descriptor walk
// (tree-removal.ts, or agor-priv's remove-tree as root).
import fs from 'node:fs';
import path from 'node:path';
import { Conflict } from '@feathersjs/errors';
import { ChangesUnknownError, changesOf } from './changes.js';
import { GitError, UnsafeRepositoryError, ValidationError, WorktreeDirtyError } from './errors.js';
import { locateRepository, realDirectory } from './location.js';
import { validateRefName, validateWorktreeName } from './names.js';
import { runGit, type GitRepoLocation } from './runner.js';
import { removeTreeNoFollow } from './tree-removal.js';
import { worktreeLayout, type WorktreeLayout } from './worktree-layout.js';

export interface AddWorktreeOptions {
  branch: string;
  /** true: create `branch` from `base` (or HEAD); false: check out the mirror's existing `branch`. */
  createBranch: boolean;
  /** Commit-ish of the mirror the new branch starts from; only with createBranch. */
  base?: string;
  /**
   * Start the new branch from a branch of another worktree (its own repository) instead: the
   * caller has decided it may be seen. Only with createBranch, and not together with `base`.
   */
  baseWorktree?: { path: string; branch: string };
}

export interface AddedWorktree {
  path: string;
  branch: string;
  /** The commit checked out. */
  head: string;
}

/** Deletes a worktree's directory; the default walks it in-process (simple mode). */
export type TreeRemover = (dir: string) => Promise<void>;

function inRepo(repo: GitRepoLocation) {
  return { cwd: repo.workTree ?? repo.gitDir, repo };
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function validateBase(base: string): void {
  if (typeof base !== 'string' || base.length === 0) throw new ValidationError('Invalid base: it is empty');
  if (base.length > 255) throw new ValidationError('Invalid base: it is longer than 255 characters');
  if (base.startsWith('-')) throw new ValidationError(`Invalid base ${JSON.stringify(base)}: it starts with "-"`);
  if (/[\x00-\x20\x7f]/.test(base)) throw new ValidationError(`Invalid base ${JSON.stringify(base)}: it contains a space or control character`);
}

async function resolveCommit(repo: GitRepoLocation, rev: string): Promise<string | null> {
  const r = await runGit(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], { ...inRepo(repo), allowExitCodes: [1, 128] });
  return r.exitCode === 0 ? r.stdout.trim() : null;
}

async function branchExists(repo: GitRepoLocation, branch: string): Promise<boolean> {
  const r = await runGit(['show-ref', '--verify', '--quiet', `refs/heads/${branch}`], { ...inRepo(repo), allowExitCodes: [1] });
  return r.exitCode === 0;
}

/**
 * Makes the worktree `worktreePath` (absolute; its directory must exist, the path itself must not;
 * its last part must be a valid worktree name) as a repository of its own on `branch`, borrowing
 * the objects of the mirror at `repoPath`. With createBranch, the branch starts at `base` (a commit
 * of the mirror), at `baseWorktree`'s branch, or at the mirror's HEAD; otherwise at the mirror's
 * branch of that name. Only that one branch is in the new repository: no other branch of the
 * mirror, and nothing of any other worktree. Hooks and filters do not run (see runner.ts).
 */
export async function addWorktree(repoPath: string, worktreePath: string, opts: AddWorktreeOptions): Promise<AddedWorktree> {
  const { branch, createBranch, base, baseWorktree } = opts;
  validateRefName(branch);
  if (typeof worktreePath !== 'string' || !path.isAbsolute(worktreePath)) {
    throw new ValidationError(`The worktree path must be an absolute path (got ${JSON.stringify(worktreePath)})`);
  }
  if (worktreePath.split('/').some((part) => part === '..' || part === '.')) {
    throw new ValidationError(`The worktree path ${JSON.stringify(worktreePath)} contains "." or ".." parts; give the path itself`);
  }
  const name = path.basename(worktreePath);
  validateWorktreeName(name);
  const parent = realDirectory(path.dirname(worktreePath), 'worktree parent directory');
  const target = path.join(parent, name);
  if (exists(target)) throw new Conflict(`${worktreePath} already exists; remove it or pick another worktree name`);

  const mirror = await locateRepository(repoPath);
  const where = mirror.workTree ?? mirror.gitDir;
  let start: string | null = null;
  let source: WorktreeLayout | null = null;
  if (createBranch) {
    if (await branchExists(mirror, branch)) throw new Conflict(`A branch named ${branch} already exists in ${where}; check it out instead, or pick another branch name`);
    if (base !== undefined && baseWorktree) throw new ValidationError('Give a base or a base worktree, not both');
    if (baseWorktree) {
      validateRefName(baseWorktree.branch);
      source = worktreeLayout(mirror, baseWorktree.path);
    } else {
      if (base !== undefined) validateBase(base);
      start = await resolveCommit(mirror, base ?? 'HEAD');
      if (!start) {
        throw new ValidationError(
          base !== undefined ? `Invalid base ${JSON.stringify(base)}: it is not a commit in ${where}` : `The repository ${where} has no commits yet, so a branch cannot start from HEAD; pass a base`,
        );
      }
    }
  } else {
    if (base !== undefined || baseWorktree) throw new ValidationError(`A base only applies when creating a new branch; ${branch} already exists`);
    if (!(await branchExists(mirror, branch))) throw new ValidationError(`There is no branch named ${branch} in ${where}; create it instead`);
    start = (await resolveCommit(mirror, `refs/heads/${branch}`))!;
  }

  const own: GitRepoLocation = { gitDir: path.join(target, '.git'), commonDir: path.join(target, '.git'), workTree: target };
  try {
    // --template=: no sample hooks, no info/exclude from the system's templates.
    await runGit(['init', '-q', '--template=', `--initial-branch=${branch}`, '--', target], { cwd: parent, repo: null });
    fs.writeFileSync(path.join(own.gitDir, 'objects', 'info', 'alternates'), `${path.join(mirror.commonDir, 'objects')}\n`);
    if (source) {
      // upload-pack serves another worktree's repository: git documents it as safe to run in an
      // untrusted repository (it runs none of that repository's hooks or configured programs).
      // Known limit: it also serves objects that repository borrows through its own alternates, so
      // an identity who knows the id of a commit in a repository only the daemon can read could
      // point its branch there; ids of other worktrees' commits are never shown to it.
      const from = source.kind === 'clone' ? source.gitDir : source.commonDir;
      await runGit(['fetch', '-q', '--no-tags', '--no-write-fetch-head', '--update-head-ok', '--no-recurse-submodules', '--', from, `+refs/heads/${baseWorktree!.branch}:refs/heads/${branch}`], {
        cwd: target,
        repo: own,
        allowProtocols: ['file'],
      });
      start = await resolveCommit(own, `refs/heads/${branch}`);
      if (!start) throw new ValidationError(`The branch ${baseWorktree!.branch} of ${baseWorktree!.path} has no commit to start from`);
    } else {
      await runGit(['update-ref', `refs/heads/${branch}`, start!], { cwd: target, repo: own });
    }
    await runGit(['reset', '-q', '--hard', start!], { cwd: target, repo: own });
  } catch (error) {
    if (exists(target)) await removeTreeNoFollow(target).catch(() => undefined);
    if (error instanceof GitError && source) throw error.withContext(`Starting ${branch} from the branch ${baseWorktree!.branch} of another worktree`, 400);
    throw error;
  }
  return { path: target, branch, head: start! };
}

/** Paths `git status` reports as changed, staged or untracked (ignored files excluded); see changes.ts. */
export async function worktreeChanges(repoPath: string, worktreePath: string): Promise<string[]> {
  const mirror = await locateRepository(repoPath);
  return changesOf(worktreeLayout(mirror, worktreePath), path.join(mirror.commonDir, 'objects'));
}

/** Whether the worktree has uncommitted changes or untracked files (or they cannot be determined). */
export async function worktreeIsDirty(repoPath: string, worktreePath: string): Promise<boolean> {
  try {
    return (await worktreeChanges(repoPath, worktreePath)).length > 0;
  } catch (error) {
    if (error instanceof ChangesUnknownError) return true;
    throw error;
  }
}

/**
 * Deletes the worktree. Without `force`, refuses (WorktreeDirtyError, 409) when it has uncommitted
 * changes or untracked files, or when they cannot be determined. The directory is deleted by
 * `removeTree` (default: the in-process no-follow walk); a worktree of the old linked layout also
 * loses its admin dir in the mirror, by the same walk. The branch lives in the worktree's own
 * repository, so it goes with it.
 */
export async function removeWorktree(
  repoPath: string,
  worktreePath: string,
  opts: { force: boolean; removeTree?: TreeRemover | undefined; recorded?: boolean },
): Promise<void> {
  const mirror = await locateRepository(repoPath);
  let layout: WorktreeLayout;
  try {
    layout = worktreeLayout(mirror, worktreePath);
  } catch (error) {
    // Its identities removed or replaced `.git`, or rewrote an old linked worktree's record. When the
    // caller knows the directory is a worktree it made (`recorded`, from the database), its changes
    // are unknown (refused without force) and forced it still goes.
    if (!opts.recorded || !(error instanceof ValidationError || error instanceof UnsafeRepositoryError)) throw error;
    const workTree = realDirectory(worktreePath, 'worktree path');
    if (workTree === mirror.workTree) throw error;
    if (!opts.force) throw new WorktreeDirtyError(`The changes in worktree ${worktreePath} cannot be determined (${error.message}); remove it with force`, []);
    await (opts.removeTree ?? removeTreeNoFollow)(workTree);
    return;
  }
  if (!opts.force) {
    let changed: string[];
    try {
      changed = await changesOf(layout, path.join(mirror.commonDir, 'objects'));
    } catch (error) {
      if (!(error instanceof ChangesUnknownError)) throw error;
      throw new WorktreeDirtyError(`The changes in worktree ${worktreePath} cannot be determined (${error.message}); remove it with force`, []);
    }
    if (changed.length > 0) {
      const shown = changed.slice(0, 5).join(', ') + (changed.length > 5 ? `, and ${changed.length - 5} more` : '');
      throw new WorktreeDirtyError(`The worktree ${worktreePath} has uncommitted changes (${shown}); commit or discard them, or remove it with force`, changed);
    }
  }
  await (opts.removeTree ?? removeTreeNoFollow)(layout.workTree);
  // Best effort: in insulated/strict its files are the identities' and may refuse the daemon; a
  // leftover admin dir points at nothing and `git worktree prune` in the mirror clears it.
  if (layout.kind === 'linked') await removeTreeNoFollow(layout.adminDir).catch(() => undefined);
}
