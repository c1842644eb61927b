// Reads the configuration git will use in a repository, before every command there, and decides
// whether git may run at all and which per-name settings must be switched off. Why this exists
// and what it guarantees is explained at the top of runner.ts.
import fs from 'node:fs';
import path from 'node:path';
import { execGit, type GitProtocol, type GitRepoLocation } from './exec.js';
import { UnsafeRepositoryError } from './errors.js';

type Setting = readonly [string, string];

/**
 * Per-name settings that name a program. `-c` can only pin a setting whose name we know, so each
 * name found in the repository's config is pinned to a harmless value for the next command.
 */
const PER_NAME_PROGRAMS: ReadonlyArray<{ pattern: RegExp; neutralise: (name: string, value: string) => Setting[] }> = [
  {
    // clean/smudge/process filters run on checkout, add, status, diff: never run a repository's.
    pattern: /^filter\.(.+)\.(clean|smudge|process|required)$/,
    neutralise: (n) => [
      [`filter.${n}.clean`, ''],
      [`filter.${n}.smudge`, ''],
      [`filter.${n}.process`, ''],
      [`filter.${n}.required`, 'false'],
    ],
  },
  {
    // textconv runs for diff/log -p/show/blame/grep; `cat` shows the raw content instead.
    // diff.<x>.command (external diff driver) only runs under --ext-diff; `false` just fails.
    pattern: /^diff\.(.+)\.(textconv|command)$/,
    neutralise: (n) => [
      [`diff.${n}.textconv`, 'cat'],
      [`diff.${n}.command`, 'false'],
    ],
  },
  { pattern: /^merge\.(.+)\.driver$/, neutralise: (n) => [[`merge.${n}.driver`, 'false']] },
  // remote.<x>.uploadpack/receivepack are not here: git keeps the FIRST value it reads, so no
  // later setting can win. See REMOTE_PROGRAM below.
  {
    pattern: /^trailer\.(.+)\.(command|cmd)$/,
    neutralise: (n) => [
      [`trailer.${n}.command`, 'true'],
      [`trailer.${n}.cmd`, 'true'],
    ],
  },
  {
    pattern: /^submodule\.(.+)\.update$/,
    neutralise: (n, value) => (value.trim().startsWith('!') ? [[`submodule.${n}.update`, 'checkout']] : []),
  },
];

/**
 * Programs git runs "on the remote side" of a local or file:// remote, which is this machine. Git
 * keeps the first value it reads, so they cannot be pinned; and fetch spawns further fetches
 * (--all, lazy fetches of partial clones) that would not get a command-line --upload-pack either.
 * So when the file transport is allowed, a repository that sets them is refused.
 */
const REMOTE_PROGRAM = /^remote\.(.+)\.(uploadpack|receivepack)$/;

interface ConfigEntry {
  scope: string;
  origin: string;
  key: string;
  value: string | null;
}

/** Parses `git config --list --show-origin --show-scope -z`: scope NUL origin NUL key [LF value] NUL. */
export function parseConfigList(raw: string): ConfigEntry[] {
  const fields = raw.split('\0');
  const entries: ConfigEntry[] = [];
  for (let i = 0; i + 2 < fields.length; i += 3) {
    const [scope, origin, kv] = [fields[i]!, fields[i + 1]!, fields[i + 2]!];
    const nl = kv.indexOf('\n');
    entries.push({ scope, origin, key: nl === -1 ? kv : kv.slice(0, nl), value: nl === -1 ? null : kv.slice(nl + 1) });
  }
  return entries;
}

function isTrue(value: string | null): boolean {
  if (value === null) return true;
  return !['false', 'no', 'off', '0', ''].includes(value.trim().toLowerCase());
}

function trustedOwner(uid: number): boolean {
  const euid = typeof process.geteuid === 'function' ? process.geteuid() : -1;
  return uid === euid || uid === 0;
}

function unsafe(repo: GitRepoLocation, why: string, fix: string): never {
  const where = repo.workTree ?? repo.gitDir;
  throw new UnsafeRepositoryError(
    `Refusing to run git in ${where}: ${why}. Git configuration can name programs to run, so whoever can change it could make the daemon run their programs. ${fix}`,
  );
}

/**
 * Throws unless the config file at `file` (existing or not) can be changed only by the daemon user
 * or root: the file is a regular file, not a symlink, owned by them and not writable by group or
 * others; its directory likewise (so it cannot be replaced or created); and every directory above
 * is owned by them and not writable by group or others unless it is sticky (like /tmp), where
 * others cannot rename what is not theirs. Group bits include an ACL's mask, so ACL grants count.
 */
export function assertOnlyDaemonCanWrite(repo: GitRepoLocation, file: string, what: string): void {
  const fix = `Make it, and the directories above it, owned by the daemon user and not writable by group or others (chown, chmod go-w), or clone the repository through the daemon instead.`;
  let dir: string;
  try {
    dir = fs.realpathSync(path.dirname(file));
  } catch (error) {
    unsafe(repo, `the directory of the ${what} (${path.dirname(file)}) cannot be resolved: ${(error as Error).message}`, fix);
  }
  let stat: fs.Stats | null = null;
  const target = path.join(dir, path.basename(file));
  try {
    stat = fs.lstatSync(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') unsafe(repo, `the ${what} ${target} cannot be examined: ${(error as Error).message}`, fix);
  }
  if (stat) {
    if (stat.isSymbolicLink()) unsafe(repo, `the ${what} ${target} is a symbolic link`, 'Replace it with a regular file owned by the daemon user.');
    if (!stat.isFile()) unsafe(repo, `the ${what} ${target} is not a regular file`, 'Replace it with a regular file owned by the daemon user.');
    if (!trustedOwner(stat.uid)) unsafe(repo, `the ${what} ${target} is owned by uid ${stat.uid}, not by the daemon user`, fix);
    if (stat.mode & 0o022) unsafe(repo, `the ${what} ${target} is writable by its group or others (mode ${(stat.mode & 0o7777).toString(8)})`, fix);
  }
  let current = dir;
  let immediate = true;
  for (;;) {
    const st = fs.lstatSync(current);
    if (!trustedOwner(st.uid)) unsafe(repo, `${current}, which holds the ${what}, is owned by uid ${st.uid}, not by the daemon user`, fix);
    const writableByOthers = (st.mode & 0o022) !== 0;
    const sticky = (st.mode & 0o1000) !== 0;
    if (writableByOthers && (immediate || !sticky)) {
      unsafe(repo, `${current}, which holds the ${what}, is writable by its group or others (mode ${(st.mode & 0o7777).toString(8)})`, fix);
    }
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
    immediate = false;
  }
}

/**
 * Checks the configuration git would read for `repo` and returns the extra settings that switch
 * off every per-name program it defines. Throws UnsafeRepositoryError when git must not run there:
 * a config file someone else could change, or an include (whose target could be anywhere).
 */
export async function auditRepositoryConfig(repo: GitRepoLocation, opts: { timeoutMs?: number; allowProtocols?: readonly GitProtocol[] } = {}): Promise<Setting[]> {
  const { timeoutMs } = opts;
  const fileTransport = (opts.allowProtocols ?? []).includes('file');
  assertOnlyDaemonCanWrite(repo, path.join(repo.commonDir, 'config'), 'repository config');
  // --no-includes: an include is refused below anyway, so its target is never even opened.
  const { stdout } = await execGit(['config', '--list', '--no-includes', '--show-origin', '--show-scope', '-z'], {
    repo,
    cwd: repo.workTree && fs.existsSync(repo.workTree) ? repo.workTree : repo.gitDir,
    timeoutMs,
  });
  const overrides = new Map<string, string>();
  const files = new Set<string>();
  let worktreeConfig = false;
  for (const entry of parseConfigList(stdout)) {
    if (entry.scope === 'command') continue; // our own -c and GIT_CONFIG_COUNT settings
    if (!entry.origin.startsWith('file:')) {
      unsafe(repo, `git reported configuration from ${entry.origin} (${entry.scope})`, 'Only the repository config file is accepted.');
    }
    const file = path.resolve(repo.workTree ?? repo.gitDir, entry.origin.slice('file:'.length));
    files.add(file);
    if (entry.key === 'include.path' || entry.key.startsWith('includeif.')) {
      unsafe(
        repo,
        `${file} includes other configuration (${entry.key} = ${entry.value ?? ''})`,
        `Remove the include (git config --file ${file} --unset-all ${entry.key}); included files may be writable by others and can appear after this check.`,
      );
    }
    if (entry.key === 'extensions.worktreeconfig' && isTrue(entry.value)) worktreeConfig = true;
    if (fileTransport && REMOTE_PROGRAM.test(entry.key)) {
      unsafe(
        repo,
        `${file} sets ${entry.key} = ${entry.value ?? ''}, a program git would run on this machine for a local or file:// remote`,
        `Remove it (git config --file ${file} --unset-all ${entry.key}).`,
      );
    }
    for (const rule of PER_NAME_PROGRAMS) {
      const match = rule.pattern.exec(entry.key);
      if (!match) continue;
      for (const [key, value] of rule.neutralise(match[1]!, entry.value ?? '')) overrides.set(key, value);
    }
  }
  // With extensions.worktreeConfig git also reads <gitdir>/config.worktree, which may not exist yet:
  // its directory must be closed to others too, or it could be created right after this check.
  if (worktreeConfig) assertOnlyDaemonCanWrite(repo, path.join(repo.gitDir, 'config.worktree'), 'per-worktree config');
  for (const file of files) assertOnlyDaemonCanWrite(repo, file, 'repository config');
  return [...overrides.entries()];
}
