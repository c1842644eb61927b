/*
 * runGit: the only way the daemon runs git. Agents (possibly other Unix identities) can write in
 * worktrees, and git runs programs named by configuration, hooks and attributes. Nothing they
 * can write may make git run a program as the daemon. What is done, and why:
 *
 * 1. No shell; a fixed environment built from nothing: PATH=/usr/local/bin:/usr/bin:/bin, HOME =
 *    a private empty 0700 directory made per process (not the daemon's real HOME: no ~/.gitconfig,
 *    ~/.config/git/*, ~/.netrc or ssh keys reach git, and nothing there is shared with agents),
 *    LANG=LC_ALL=C, GIT_TERMINAL_PROMPT=0, GIT_CONFIG_NOSYSTEM=1, GIT_CONFIG_GLOBAL=/dev/null,
 *    GIT_OPTIONAL_LOCKS=0, GIT_ATTR_NOSYSTEM=1, GIT_NO_REPLACE_OBJECTS=1, GIT_EDITOR=false, no
 *    GIT_ASKPASS/SSH_ASKPASS/GIT_SSH*. GIT_ALLOW_PROTOCOL is empty unless a call allows file/https:
 *    it overrides every protocol.*.allow a repository sets, so ext::, ssh, git:// never run
 *    (ssh is refused outright for now; core.sshCommand is pinned to `false` as well).
 * 2. `-c` settings (exec.ts HARDENED_CONFIG). Command-line config is read after every file, so it
 *    wins over a repository's core.hooksPath (pinned to /dev/null: no hook runs, including those
 *    in .git/hooks), core.fsmonitor, core.sshCommand, core.askPass, credential.helper (an empty
 *    value clears the list), editors, pager, gpg programs and signing, submodule recursion, auto gc.
 *    Tests plant each one and prove it does not run.
 * 3. What `-c` cannot reach, handled before every command (config-audit.ts):
 *    - per-name programs (filter.<x>.clean/smudge/process, diff.<x>.textconv/command,
 *      merge.<x>.driver, trailer.<x>.command/cmd, submodule.<x>.update=!cmd): the repository's
 *      effective config is listed with `git config --list --show-origin` and each name found is
 *      pinned to a harmless value (filters to "", textconv to cat, ...) through GIT_CONFIG_COUNT.
 *    - include.path / includeIf: `-c` cannot unset them, and their target can be anywhere, even
 *      appear after the check: a repository whose config includes anything is refused.
 *    - races: a listing is only as good as the file it read. So every file git will read config
 *      from (the common config, config.worktree when extensions.worktreeConfig is on) must be a
 *      regular file owned by the daemon user or root, not writable by group/others, in a directory
 *      chain nobody else can write (sticky /tmp-like ancestors allowed). Otherwise: refused. Then
 *      no other identity can change config between the check and the command. (In simple mode the
 *      agents ARE the daemon user; there is no boundary to defend there, DESIGN §3.)
 *    - `diff.external` cannot be unset by `-c` (an empty value makes `git diff` fail), and only
 *      `git diff` honours it: runGit adds `--no-ext-diff` to every `git diff`.
 *    - remote.<x>.uploadpack/receivepack keep the FIRST value read, so `-c` loses to the repo,
 *      and fetch starts further fetches (--all, partial-clone lazy fetches) a command-line
 *      --upload-pack would not reach. They only run on this machine over the file transport: a
 *      repository setting them is refused whenever a call allows `file`.
 * 4. Git never discovers a repository by itself: GIT_DIR, GIT_COMMON_DIR and GIT_WORK_TREE are
 *    pinned. A worktree's `.git` file and its admin dir's `commondir` file are writable by whoever
 *    works there, and would otherwise point git at a repository of their making. Worktree
 *    operations never make a worktree's own metadata git's repository (changes.ts, worktrees.ts; only
 *    upload-pack, safe in untrusted repositories, serves a viewable worktree's branch as a base). A bare
 *    `runGit(args, { cwd })` asks git where the repository is once (a read-only probe), audits that
 *    repository, and pins it for the command, so the answer cannot change in between. Pinned
 *    GIT_DIR also means git's safe.directory check never applies, and `safe.directory=*` is never
 *    set: the probe alone passes `safe.directory=<that directory>`, and the ownership rule above is
 *    stricter than git's. Commands without a repository run in the private empty directory.
 * 5. Only known git subcommands run (aliases can name shell commands), with stdin closed, a
 *    timeout that kills git's whole process group, capped output, and errors that name the command
 *    (credentials in URLs masked) and git's last stderr line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { auditRepositoryConfig } from './config-audit.js';
import { GitError, UnsafeRepositoryError, ValidationError } from './errors.js';
import { execGit, type GitProtocol, type GitRepoLocation, type GitResult } from './exec.js';

export type { GitProtocol, GitRepoLocation, GitResult } from './exec.js';

export interface RunGitOptions {
  /**
   * The directory git works in. Unless `repo` is given, the repository containing it is found
   * (one read-only probe), audited and pinned; if there is none, git runs with no repository in
   * the daemon's private empty directory (so pass absolute paths in `args`).
   */
  cwd: string;
  /** An already located repository (see locateRepository): no probe needed. */
  repo?: GitRepoLocation | null;
  onProgress?: (line: string) => void;
  timeoutMs?: number;
  /** Transports git may use; none by default. */
  allowProtocols?: readonly GitProtocol[];
  /** Exit codes besides 0 that are answers, not failures (e.g. 1 from `show-ref --quiet`). */
  allowExitCodes?: readonly number[];
  /** Written to git's stdin (otherwise stdin is /dev/null). */
  input?: string;
}

/** Subcommands the daemon may run. Anything else (an alias, a typo) is refused before git starts. */
const SUBCOMMANDS = new Set([
  'add', 'apply', 'archive', 'blame', 'branch', 'cat-file', 'check-attr', 'check-ignore', 'check-ref-format',
  'checkout', 'cherry', 'cherry-pick', 'clone', 'commit', 'commit-tree', 'config', 'count-objects', 'describe',
  'diff', 'diff-files', 'diff-index', 'diff-tree', 'fetch', 'for-each-ref', 'format-patch', 'fsck', 'gc', 'grep',
  'hash-object', 'init', 'log', 'ls-files', 'ls-remote', 'ls-tree', 'merge', 'merge-base', 'merge-tree', 'mktree',
  'mv', 'name-rev', 'notes', 'pack-refs', 'prune', 'pull', 'push', 'range-diff', 'read-tree', 'rebase', 'reflog',
  'remote', 'reset', 'restore', 'rev-list', 'rev-parse', 'revert', 'rm', 'shortlog', 'show', 'show-ref', 'stash',
  'status', 'switch', 'symbolic-ref', 'tag', 'update-index', 'update-ref', 'var', 'version', 'whatchanged',
  'worktree', 'write-tree',
]);

function checkArgs(args: readonly string[]): string[] {
  if (!Array.isArray(args) || args.length === 0) throw new ValidationError('runGit: no git subcommand given');
  for (const a of args) {
    if (typeof a !== 'string') throw new ValidationError('runGit: every argument must be a string');
    if (a.includes('\0')) throw new ValidationError('runGit: an argument contains a NUL byte');
  }
  const sub = args[0]!;
  if (!SUBCOMMANDS.has(sub)) {
    throw new ValidationError(`runGit: "${sub}" is not a git subcommand the daemon runs (global options and aliases are refused)`);
  }
  // Only porcelain `git diff` honours diff.external, which `-c` cannot switch off.
  return sub === 'diff' ? ['diff', '--no-ext-diff', ...args.slice(1)] : [...args];
}

/**
 * Finds the repository git would use from `cwd` (following a worktree's `.git` file, which is
 * why the answer is then audited and pinned rather than trusted). Null when there is none.
 */
export async function discoverRepository(cwd: string, timeoutMs?: number): Promise<GitRepoLocation | null> {
  const dir = fs.realpathSync(cwd);
  const probe = (args: string[]) =>
    execGit(['rev-parse', '--path-format=absolute', ...args], { repo: 'discover', cwd: dir, extraConfig: [['safe.directory', dir]], timeoutMs });
  let first: GitResult;
  try {
    first = await probe(['--git-dir', '--git-common-dir', '--is-bare-repository', '--is-inside-work-tree']);
  } catch (error) {
    if (error instanceof GitError && /not a git repository/i.test(error.stderrLine)) return null;
    if (error instanceof GitError && /dubious ownership/i.test(error.stderrLine)) {
      throw new UnsafeRepositoryError(`Refusing to run git in ${dir}: the repository there is owned by another user (${error.stderrLine}).`);
    }
    throw error;
  }
  const [gitDir, commonDir, bare, inside] = first.stdout.split('\n');
  if (!gitDir || !commonDir) throw new GitError({ command: 'git rev-parse', exitCode: 0, signal: null, stderrLine: 'unexpected output', timedOut: false });
  const location = { gitDir: fs.realpathSync(gitDir), commonDir: fs.realpathSync(commonDir) };
  if (bare === 'true') return { ...location, workTree: null };
  if (inside !== 'true') {
    throw new ValidationError(`Run git from a work tree, not from inside a git directory (${dir})`);
  }
  const top = await probe(['--show-toplevel']);
  return { ...location, workTree: fs.realpathSync(top.stdout.trim()) };
}

/**
 * Runs `git <args>` hardened as described at the top of this file. Resolves with stdout/stderr;
 * rejects with GitError (failed, killed, timed out), UnsafeRepositoryError (git must not run in
 * that repository) or ValidationError (a refused subcommand).
 */
export async function runGit(args: string[], opts: RunGitOptions): Promise<GitResult> {
  const argv = checkArgs(args);
  if (!opts || typeof opts.cwd !== 'string' || !path.isAbsolute(opts.cwd)) {
    throw new ValidationError('runGit: cwd must be an absolute path');
  }
  if (!fs.existsSync(opts.cwd)) throw new ValidationError(`runGit: the directory ${opts.cwd} does not exist`);
  const repo = opts.repo === undefined ? await discoverRepository(opts.cwd, opts.timeoutMs) : opts.repo;
  const common = {
    onProgress: opts.onProgress,
    timeoutMs: opts.timeoutMs,
    allowProtocols: opts.allowProtocols,
    allowExitCodes: opts.allowExitCodes,
    input: opts.input,
  };
  if (!repo) return execGit(argv, { ...common, repo: 'none' });
  const extraConfig = await auditRepositoryConfig(repo, { timeoutMs: opts.timeoutMs, allowProtocols: opts.allowProtocols });
  return execGit(argv, { ...common, repo, cwd: fs.realpathSync(opts.cwd), extraConfig });
}
