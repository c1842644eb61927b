// Finds a repository's or worktree's git directories from the filesystem layout the daemon
// created, never by following a pointer an agent could have rewritten (a worktree's `.git` file,
// an admin dir's `commondir`). The result is what runGit pins as GIT_DIR/GIT_COMMON_DIR.
import fs from 'node:fs';
import path from 'node:path';
import { GitError, ValidationError } from './errors.js';
import { runGit, type GitRepoLocation } from './runner.js';

export function realDirectory(p: string, what: string): string {
  if (typeof p !== 'string' || !path.isAbsolute(p)) throw new ValidationError(`The ${what} must be an absolute path (got ${JSON.stringify(p)})`);
  let real: string;
  try {
    real = fs.realpathSync(p);
  } catch {
    throw new ValidationError(`The ${what} ${p} does not exist`);
  }
  if (!fs.statSync(real).isDirectory()) throw new ValidationError(`The ${what} ${p} is not a directory`);
  return real;
}

function kind(p: string): 'dir' | 'file' | 'symlink' | 'other' | null {
  try {
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) return 'symlink';
    if (st.isDirectory()) return 'dir';
    if (st.isFile()) return 'file';
    return 'other';
  } catch {
    return null;
  }
}

/**
 * The main repository at `repoPath` (its top-level directory, or a bare repository's directory).
 * Refuses, with a ValidationError saying why, anything else: a subdirectory, a linked worktree,
 * a path that is not a repository. Then asks git to confirm (which also audits its config).
 */
export async function locateRepository(repoPath: string): Promise<GitRepoLocation> {
  const real = realDirectory(repoPath, 'repository path');
  const dotGit = path.join(real, '.git');
  let location: GitRepoLocation;
  switch (kind(dotGit)) {
    case 'dir':
      location = { gitDir: dotGit, commonDir: dotGit, workTree: real };
      break;
    case 'file':
      throw new ValidationError(`${repoPath} is a linked worktree or a submodule checkout (its .git is a file), not a repository; use the main repository`);
    case 'symlink':
    case 'other':
      throw new ValidationError(`${repoPath} is not usable as a repository: its .git is not a plain directory`);
    default:
      if (kind(path.join(real, 'HEAD')) === 'file' && kind(path.join(real, 'objects')) === 'dir' && kind(path.join(real, 'refs')) === 'dir') {
        location = { gitDir: real, commonDir: real, workTree: null };
      } else {
        throw new ValidationError(`${repoPath} is not a git repository (no .git directory there, and it is not a bare repository)`);
      }
  }
  try {
    await runGit(['rev-parse', '--git-dir'], { cwd: location.workTree ?? location.gitDir, repo: location });
  } catch (error) {
    if (error instanceof GitError && /not a git repository/i.test(error.stderrLine)) {
      throw new ValidationError(`${repoPath} is not a git repository (${error.stderrLine})`);
    }
    throw error;
  }
  return location;
}

export interface WorktreeRecord {
  path: string;
  head: string | null;
  /** Short branch name, or null when detached. */
  branch: string | null;
  bare: boolean;
  locked: boolean;
  prunable: boolean;
}

/** `git worktree list --porcelain -z`, parsed. The first record is the main worktree. */
export async function listWorktreeRecords(repo: GitRepoLocation): Promise<WorktreeRecord[]> {
  const { stdout } = await runGit(['worktree', 'list', '--porcelain', '-z'], { cwd: repo.workTree ?? repo.gitDir, repo });
  const records: WorktreeRecord[] = [];
  let current: WorktreeRecord | null = null;
  for (const field of stdout.split('\0')) {
    if (field === '') {
      if (current) records.push(current);
      current = null;
      continue;
    }
    const space = field.indexOf(' ');
    const key = space === -1 ? field : field.slice(0, space);
    const value = space === -1 ? '' : field.slice(space + 1);
    if (key === 'worktree') current = { path: value, head: null, branch: null, bare: false, locked: false, prunable: false };
    else if (!current) continue;
    else if (key === 'HEAD') current.head = value;
    else if (key === 'branch') current.branch = value.replace(/^refs\/heads\//, '');
    else if (key === 'bare') current.bare = true;
    else if (key === 'locked') current.locked = true;
    else if (key === 'prunable') current.prunable = true;
  }
  if (current) records.push(current);
  return records;
}
