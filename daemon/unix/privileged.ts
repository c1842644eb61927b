// The daemon's client of agor-priv: every privileged act (accounts, groups, worktree modes) is one
// `sudo -n <priv_path> <verb> --flag value ...` run through execFile. Never a shell, never a
// secret on the command line, and every failure is reported with agor-priv's own message.
import { execFile } from 'node:child_process';
import { BadRequest, FeathersError, GeneralError, Unavailable } from '@feathersjs/errors';
import type { FsAccess } from '../rbac/tiers.js';
import { UNIX_USERNAME_PATTERN, WORKTREE_GROUP_PATTERN } from './names.js';

/** agor-priv's documented exit codes (daemon/priv/README.md). */
export const PRIV_EXIT = { usage: 64, refused: 65, config: 66, unavailable: 69, internal: 70 } as const;

export interface PrivPaths {
  sudoPath: string;
  privPath: string;
}

/** The environment sudo is started with: nothing of the daemon's (sudo's env_reset drops the rest anyway). */
export const SUDO_ENV: NodeJS.ProcessEnv = Object.freeze({ PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C' });

const TIMEOUT_MS = 60_000;
/** prepare-worktree walks the whole tree (a worktree may hold node_modules): give it longer. */
const TREE_TIMEOUT_MS = 15 * 60_000;

/** `agor-priv: <code-name>: <message>`, the one line agor-priv prints when it refuses or fails. */
const PRIV_LINE = /^agor-priv: ([a-z][a-z0-9-]*): (.*)$/;

export interface PrivFailure {
  verb: string;
  exitCode: number | null;
  signal: string | null;
  /** agor-priv's code name (usage, refused, config, unavailable, internal, ...), when it printed one. */
  codeName: string | null;
  /** agor-priv's (or sudo's) own message. */
  detail: string;
}

/**
 * Turns a failed call into a Feathers error whose message says what failed and how to fix it.
 * sudo's own refusals (no rule, a password wanted) are 503s: the installation is incomplete.
 */
export function privError(f: PrivFailure): FeathersError {
  const what = `agor-priv ${f.verb}`;
  const data = { verb: f.verb, exit_code: f.exitCode, code_name: f.codeName };
  if (f.codeName === null) {
    if (/password is required|not allowed|may not run sudo|a terminal is required|not in the sudoers/i.test(f.detail) || f.exitCode === 1) {
      return new Unavailable(
        `${what} could not run through sudo (${f.detail || `exit ${f.exitCode}`}): install the sudoers rule with scripts/install-unix-isolation.sh (check with \`sudo -n -l\` as the daemon user)`,
        data,
      );
    }
    if (f.exitCode === 127 || /ENOENT|not found|No such file/i.test(f.detail)) {
      return new Unavailable(`${what} is not installed (${f.detail}): run scripts/install-unix-isolation.sh`, data);
    }
    return new GeneralError(`${what} failed (${f.signal ? `signal ${f.signal}` : `exit ${f.exitCode}`}): ${f.detail || 'no message'}`, data);
  }
  const message = `${what} failed (${f.codeName}): ${f.detail}`;
  switch (f.exitCode) {
    case PRIV_EXIT.unavailable:
      return new Unavailable(message, data);
    case PRIV_EXIT.config:
      return new Unavailable(`${message} (fix /etc/agor/priv.yaml, e.g. by re-running scripts/install-unix-isolation.sh)`, data);
    default:
      // usage/refused: the daemon asked for something agor-priv will not do; a bug or a misconfiguration, never the caller's input.
      return new GeneralError(message, data);
  }
}

/** Parses agor-priv's / sudo's stderr into the failure's code name and message. */
export function parsePrivStderr(stderr: string): { codeName: string | null; detail: string } {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const m = PRIV_LINE.exec(lines[i]!);
    if (m) return { codeName: m[1]!, detail: m[2]! };
  }
  return { codeName: null, detail: lines.slice(-2).join(' ').slice(0, 500) };
}

/** What prepare-worktree left alone (daemon/priv/tree.ts PrepareReport, printed as one JSON line). */
export interface PrepareReport {
  skipped: number;
  closed: number;
  examples: Array<{ path: string; why: string }>;
  closedExamples: string[];
}

export function parsePrepareReport(stdout: string): PrepareReport | null {
  const line = stdout.split('\n').find((l) => l.startsWith('{"prepare_worktree":'));
  if (!line) return null;
  try {
    const r = (JSON.parse(line) as { prepare_worktree: PrepareReport }).prepare_worktree;
    return { skipped: Number(r.skipped) || 0, closed: Number(r.closed) || 0, examples: Array.isArray(r.examples) ? r.examples : [], closedExamples: Array.isArray(r.closedExamples) ? r.closedExamples : [] };
  } catch {
    return null;
  }
}

/** One line for the log: how much was left alone, and the first few reasons. */
export function describePrepareReport(report: PrepareReport): string {
  const shown = report.examples.slice(0, 3);
  const first = shown.map((e) => `${e.path}: ${e.why}`).join('; ');
  return `${report.skipped} inode(s) left unchanged, ${report.closed} director${report.closed === 1 ? 'y' : 'ies'} closed to others instead${first ? ` (${first}${report.skipped > shown.length ? '; ...' : ''})` : ''}`;
}

function assertName(value: string, pattern: RegExp, what: string): void {
  // agor-priv validates too; failing here first gives a 400-quality message without a sudo round trip.
  if (!pattern.test(value)) throw new BadRequest(`Invalid ${what} ${JSON.stringify(value)}: must match ${pattern.source}`);
}

export class PrivilegedClient {
  constructor(private readonly paths: PrivPaths) {}

  /** argv of sudo for `verb` (also used by spawn.ts for `exec`). */
  argv(verb: string, flags: ReadonlyArray<readonly [string, string]>): string[] {
    const args = ['-n', this.paths.privPath, verb];
    for (const [flag, value] of flags) args.push(`--${flag}`, value);
    return args;
  }

  get sudoPath(): string {
    return this.paths.sudoPath;
  }

  /** Runs one verb; resolves with its stdout, rejects with privError(...). */
  run(verb: string, flags: ReadonlyArray<readonly [string, string]>): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        this.paths.sudoPath,
        this.argv(verb, flags),
        { env: SUDO_ENV, timeout: verb === 'prepare-worktree' || verb === 'remove-tree' ? TREE_TIMEOUT_MS : TIMEOUT_MS, killSignal: 'SIGTERM', maxBuffer: 1024 * 1024, windowsHide: true },
        (error, stdout, stderr) => {
          if (!error) return resolve(String(stdout));
          const code = typeof error.code === 'number' ? error.code : null;
          const spawnFailure = typeof error.code === 'string' ? `${error.code} ${this.paths.sudoPath}` : '';
          const parsed = parsePrivStderr(String(stderr ?? ''));
          reject(
            privError({
              verb,
              exitCode: code ?? (error.code === 'ENOENT' ? 127 : null),
              signal: error.signal ?? null,
              codeName: parsed.codeName,
              detail: parsed.detail || spawnFailure || error.message,
            }),
          );
        },
      );
    });
  }

  async ensureUser(user: string): Promise<void> {
    assertName(user, UNIX_USERNAME_PATTERN, 'Unix user name');
    await this.run('ensure-user', [['user', user]]);
  }

  async ensureGroup(group: string): Promise<void> {
    assertName(group, WORKTREE_GROUP_PATTERN, 'worktree group');
    await this.run('ensure-group', [['group', group]]);
  }

  /** Makes `members` the exact member list of `group` (may be empty). */
  async setGroupMembers(group: string, members: readonly string[]): Promise<void> {
    assertName(group, WORKTREE_GROUP_PATTERN, 'worktree group');
    for (const m of members) assertName(m, UNIX_USERNAME_PATTERN, 'Unix user name');
    await this.run('set-group-members', [['group', group], ['members', [...members].sort().join(',')]]);
  }

  async removeGroup(group: string): Promise<void> {
    assertName(group, WORKTREE_GROUP_PATTERN, 'worktree group');
    await this.run('remove-group', [['group', group]]);
  }

  /** Resolves with what agor-priv left unchanged (null when it changed everything). */
  async prepareWorktree(dir: string, group: string, others: FsAccess): Promise<PrepareReport | null> {
    assertName(group, WORKTREE_GROUP_PATTERN, 'worktree group');
    return parsePrepareReport(await this.run('prepare-worktree', [['path', dir], ['group', group], ['others', others]]));
  }

  /** Deletes a worktree's directory as root by a no-follow descriptor walk (never by path). */
  async removeTree(dir: string): Promise<void> {
    await this.run('remove-tree', [['path', dir]]);
  }
}
