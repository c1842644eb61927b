import fs from 'node:fs';
import path from 'node:path';
import { Conflict } from '@feathersjs/errors';
import { GitError, ValidationError, WorktreeDirtyError } from './errors.js';
import { listWorktreeRecords, locateRepository, locateWorktree, realDirectory } from './location.js';
import { validateRefName, validateWorktreeName } from './names.js';
import { runGit, type GitRepoLocation } from './runner.js';

export interface AddWorktreeOptions {
  branch: string;
  /** true: create `branch` from `base` (or HEAD); false: check out the existing `branch`. */
  createBranch: boolean;
  /** Commit-ish the new branch starts from; only with createBranch. */
  base?: string;
}

export interface AddedWorktree {
  path: string;
  branch: string;
  /** The commit checked out. */
  head: string;
}

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
 * `git worktree add` at `worktreePath` (absolute; its directory must exist, the path itself must
 * not; its last part must be a valid worktree name). With createBranch, a new branch is made from
 * `base` (or HEAD); otherwise the existing branch is checked out. Hooks do not run and the
 * repository's filters are not applied (see runner.ts).
 */
export async function addWorktree(repoPath: string, worktreePath: string, opts: AddWorktreeOptions): Promise<AddedWorktree> {
  return oneAtATime(repoPath, () => addWorktreeNow(repoPath, worktreePath, opts));
}

/**
 * Worktree additions and removals of one repository run one at a time: git reads every worktree's
 * admin directory (<common>/worktrees/<id>) while adding or listing, and fails ("failed to read
 * .../commondir") on one another git process is still making or removing.
 */
const queues = new Map<string, Promise<unknown>>();

async function oneAtATime<T>(repoPath: string, run: () => Promise<T>): Promise<T> {
  let key = typeof repoPath === 'string' ? path.resolve(repoPath) : String(repoPath);
  try {
    key = fs.realpathSync(key);
  } catch {
    // A missing repository fails inside `run`, with its own message.
  }
  // The queue's tail never rejects, so one failure does not stop the operations after it.
  const result = (queues.get(key) ?? Promise.resolve()).then(run);
  const settled = result.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, settled);
  void settled.then(() => queues.get(key) === settled && queues.delete(key));
  return result;
}

async function addWorktreeNow(repoPath: string, worktreePath: string, opts: AddWorktreeOptions): Promise<AddedWorktree> {
  const { branch, createBranch, base } = opts;
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

  const repo = await locateRepository(repoPath);
  const where = repo.workTree ?? repo.gitDir;
  const has = await branchExists(repo, branch);
  let head: string;
  let args: string[];
  if (createBranch) {
    if (has) throw new Conflict(`A branch named ${branch} already exists in ${where}; check it out instead, or pick another branch name`);
    if (base !== undefined) validateBase(base);
    const start = await resolveCommit(repo, base ?? 'HEAD');
    if (!start) {
      throw new ValidationError(
        base !== undefined ? `Invalid base ${JSON.stringify(base)}: it is not a commit in ${where}` : `The repository ${where} has no commits yet, so a branch cannot start from HEAD; pass a base`,
      );
    }
    head = start;
    args = ['worktree', 'add', '--no-track', '-b', branch, '--', target, start];
  } else {
    if (base !== undefined) throw new ValidationError(`A base only applies when creating a new branch; ${branch} already exists`);
    if (!has) throw new ValidationError(`There is no branch named ${branch} in ${where}; create it instead`);
    const user = (await listWorktreeRecords(repo)).find((r) => r.branch === branch);
    if (user) throw new Conflict(`Branch ${branch} is already checked out in ${user.path}; a branch can be checked out in one worktree at a time`);
    head = (await resolveCommit(repo, `refs/heads/${branch}`))!;
    args = ['worktree', 'add', '--', target, branch];
  }
  await runGit(args, inRepo(repo));
  return { path: target, branch, head };
}

/** Paths `git status` reports as changed, staged or untracked (ignored files excluded). */
export async function worktreeChanges(worktree: GitRepoLocation): Promise<string[]> {
  const { stdout } = await runGit(['status', '--porcelain=v1', '-z', '--ignore-submodules=none', '--untracked-files=normal', '--no-renames'], {
    cwd: worktree.workTree!,
    repo: worktree,
  });
  const fields = stdout.split('\0').filter(Boolean);
  return fields.map((f) => f.slice(3));
}

/** Whether the worktree has uncommitted changes or untracked files. */
export async function worktreeIsDirty(repoPath: string, worktreePath: string): Promise<boolean> {
  const repo = await locateRepository(repoPath);
  return (await worktreeChanges(locateWorktree(repo, worktreePath))).length > 0;
}

/**
 * `git worktree remove`. Without `force`, refuses (WorktreeDirtyError, 409) when the worktree has
 * uncommitted changes or untracked files, and (Conflict) when it is locked.
 *
 * The dirty check is ours, run with the metadata pinned from the main repository: git's own check
 * runs `git status` with GIT_DIR=<worktree>/.git, a file whoever works there can point anywhere.
 * So git is always called with --force, after our check.
 */
export async function removeWorktree(repoPath: string, worktreePath: string, opts: { force: boolean }): Promise<void> {
  return oneAtATime(repoPath, () => removeWorktreeNow(repoPath, worktreePath, opts));
}

async function removeWorktreeNow(repoPath: string, worktreePath: string, opts: { force: boolean }): Promise<void> {
  const repo = await locateRepository(repoPath);
  if (typeof worktreePath === 'string' && repo.workTree && exists(worktreePath) && fs.realpathSync(worktreePath) === repo.workTree) {
    throw new ValidationError(`${worktreePath} is the repository's main worktree; it cannot be removed`);
  }
  const worktree = locateWorktree(repo, worktreePath);
  const record = (await listWorktreeRecords(repo)).find((r) => r.path === worktree.workTree || path.resolve(r.path) === path.resolve(worktreePath));
  if (!opts.force) {
    const changed = await worktreeChanges(worktree);
    if (changed.length > 0) {
      const shown = changed.slice(0, 5).join(', ') + (changed.length > 5 ? `, and ${changed.length - 5} more` : '');
      throw new WorktreeDirtyError(`The worktree ${worktreePath} has uncommitted changes (${shown}); commit or discard them, or remove it with force`, changed);
    }
    if (record?.locked) throw new Conflict(`The worktree ${worktreePath} is locked (git worktree lock); unlock it, or remove it with force`);
  }
  try {
    await runGit(['worktree', 'remove', '--force', ...(opts.force ? ['--force'] : []), '--', worktree.workTree!], inRepo(repo));
  } catch (error) {
    // git refuses when the worktree's .git file no longer points back at its record (someone
    // rewrote it). The decision to remove was made on pinned metadata, so finish the job directly.
    if (error instanceof GitError && /validation failed/i.test(error.stderrLine)) {
      fs.rmSync(worktree.workTree!, { recursive: true, force: true });
      fs.rmSync(worktree.gitDir, { recursive: true, force: true });
      return;
    }
    throw error;
  }
}
