import fs from 'node:fs';
import path from 'node:path';
import { GitError, ValidationError } from './errors.js';
import { locateRepository, realDirectory } from './location.js';
import { redactArg } from './exec.js';
import { runGit, type GitProtocol } from './runner.js';

export const DEFAULT_CLONE_TIMEOUT_MS = 30 * 60_000;

export interface CloneOptions {
  timeoutMs?: number;
}

interface CloneSource {
  /** What git is given. */
  arg: string;
  protocol: GitProtocol;
}

/**
 * Accepts an absolute local path, a file:// URL or an https:// URL. Everything else is refused
 * by name: ssh (scp-style too), git://, http://, ext:: and any other `<helper>::` transport,
 * relative paths, anything starting with "-", credentials inside the URL, control characters.
 */
export function classifyCloneSource(source: string): CloneSource {
  const protocol = cloneSourceProtocol(source);
  if (protocol === 'https') return { arg: source, protocol };
  if (source.startsWith('/')) return { arg: realDirectory(source, 'clone source'), protocol };
  realDirectory(decodeURIComponent(new URL(source).pathname), 'clone source');
  return { arg: source, protocol };
}

/**
 * The protocol a clone source would use, from its text alone (the file system is not looked at):
 * 'file' for an absolute path or a file:// URL on this machine, 'https' for an https:// URL. Every
 * other form is refused here, so this is the one place that decides whether a source is local.
 */
export function cloneSourceProtocol(source: string): GitProtocol {
  if (typeof source !== 'string' || source.length === 0) throw new ValidationError('The clone source is empty');
  if (source.length > 4096) throw new ValidationError('The clone source is longer than 4096 characters');
  if (/[\x00-\x1f\x7f]/.test(source)) throw new ValidationError('The clone source contains control characters');
  if (source.startsWith('-')) throw new ValidationError(`The clone source ${JSON.stringify(source)} starts with "-"`);
  if (/^[A-Za-z0-9][A-Za-z0-9+.-]*::/.test(source)) {
    throw new ValidationError(`The clone source uses the "${source.split('::')[0]}::" remote-helper transport, which the daemon refuses; use an https:// URL, a file:// URL or a local path`);
  }
  if (source.startsWith('/')) return 'file';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(source)?.[1]?.toLowerCase();
  if (scheme === 'file') {
    let url: URL;
    try {
      url = new URL(source);
    } catch {
      throw new ValidationError(`The clone source ${JSON.stringify(source)} is not a valid file:// URL`);
    }
    if (url.host !== '' && url.host !== 'localhost') throw new ValidationError('A file:// clone source must name a path on this machine (file:///path)');
    return 'file';
  }
  if (scheme === 'https') {
    let url: URL;
    try {
      url = new URL(source);
    } catch {
      throw new ValidationError(`The clone source ${JSON.stringify(source)} is not a valid URL`);
    }
    if (url.username || url.password) {
      throw new ValidationError('The clone URL contains credentials; remove them from the URL (they would be stored in the repository config and shown in process lists)');
    }
    return 'https';
  }
  if (scheme) throw new ValidationError(`The clone source uses ${scheme}://, which the daemon refuses; use an https:// URL, a file:// URL or a local path`);
  if (/^[^/]*:/.test(source)) throw new ValidationError(`The clone source ${JSON.stringify(source)} looks like an ssh address (host:path), which the daemon refuses; use an https:// URL`);
  throw new ValidationError(`The clone source ${JSON.stringify(source)} is a relative path; give an absolute path, a file:// URL or an https:// URL`);
}

/**
 * `git clone --progress <source> <dest>`, forwarding each progress line. `dest` must be an absolute
 * path that does not exist yet, in an existing directory. On failure nothing is left at `dest`.
 */
export async function cloneRepo(source: string, dest: string, onProgress?: (line: string) => void, options: CloneOptions = {}): Promise<void> {
  const from = classifyCloneSource(source);
  if (typeof dest !== 'string' || !path.isAbsolute(dest)) throw new ValidationError(`The clone destination must be an absolute path (got ${JSON.stringify(dest)})`);
  const parent = realDirectory(path.dirname(dest), 'clone destination directory');
  const target = path.join(parent, path.basename(dest));
  if (fs.existsSync(target) || isSymlink(target)) throw new ValidationError(`The clone destination ${dest} already exists`);
  try {
    await runGit(
      // --template= : no sample hooks or other template files in the new repository.
      // --no-hardlinks: a local source's object files are copied, never shared with their owner.
      ['clone', '--progress', '--template=', '--no-hardlinks', '--no-recurse-submodules', '--', from.arg, target],
      { cwd: parent, repo: null, allowProtocols: [from.protocol], onProgress, timeoutMs: options.timeoutMs ?? DEFAULT_CLONE_TIMEOUT_MS },
    );
  } catch (error) {
    // git removes a half-made clone itself, but not when it was killed (timeout). Never remove a
    // directory that appeared from elsewhere in the meantime: git refuses those as "already exists".
    const raced = error instanceof GitError && /already exists/i.test(error.stderrLine);
    if (!raced) fs.rmSync(target, { recursive: true, force: true });
    if (error instanceof GitError) throw error.withContext(`Cloning ${redactArg(source)}`, error.timedOut ? 500 : 400);
    throw error;
  }
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

export interface RepoInfo {
  /** Real path of the repository: its top-level directory, or the bare repository's directory. */
  path: string;
  gitDir: string;
  /** The branch HEAD names (for a clone: the remote's default branch), or null when detached. */
  defaultBranch: string | null;
  isBare: boolean;
}

/** Describes the repository at `repoPath`; a ValidationError says why when it is not one. */
export async function inspectRepo(repoPath: string): Promise<RepoInfo> {
  const repo = await locateRepository(repoPath);
  const head = await runGit(['symbolic-ref', '--quiet', 'HEAD'], { cwd: repo.workTree ?? repo.gitDir, repo, allowExitCodes: [1] });
  const ref = head.exitCode === 0 ? head.stdout.trim() : '';
  return {
    path: repo.workTree ?? repo.gitDir,
    gitDir: repo.gitDir,
    defaultBranch: ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : null,
    isBare: repo.workTree === null,
  };
}

/** Local branch names of the repository, sorted. */
export async function listBranches(repoPath: string): Promise<string[]> {
  const repo = await locateRepository(repoPath);
  const { stdout } = await runGit(['for-each-ref', '--format=%(refname)', 'refs/heads/'], { cwd: repo.workTree ?? repo.gitDir, repo });
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('refs/heads/'))
    .map((l) => l.slice('refs/heads/'.length))
    .sort();
}
