// The Unix names agor creates and accepts: worktree groups derived from worktree ids, and the
// accounts of strict-mode users. One place, so the daemon, the CLI and the tests agree with
// agor-priv's own validation, whose rules (DESIGN §2) they import: agor-priv's bundle cannot import
// the daemon, the daemon may import priv/ (it imports only node built-ins).
import fs from 'node:fs';
import os from 'node:os';
import { USER_PATTERN, WORKTREE_GROUP_PREFIX, whyNotPersonName } from '../priv/names.js';

export { WORKTREE_GROUP_PATTERN } from '../priv/names.js';

export const UNIX_USERNAME_PATTERN = USER_PATTERN;
/** The group every agor-created account belongs to (made by scripts/install-unix-isolation.sh). */
export const USERS_GROUP = 'agor_users';
const GROUP_HEX_CHARS = 12;

/**
 * THE worktree group name: `agor_wt_` + the first 12 hex digits of the worktree id (a UUID) without
 * dashes. 48 random bits: a collision between two worktrees of one daemon is not a practical concern,
 * and sync-unix would report one (two worktrees claiming one group) rather than merge them silently.
 */
export function worktreeGroupName(worktreeId: string): string {
  const hex = worktreeId.toLowerCase().replace(/-/g, '');
  if (!/^[0-9a-f]+$/.test(hex) || hex.length < GROUP_HEX_CHARS) {
    throw new Error(`Cannot derive a Unix group from worktree id ${JSON.stringify(worktreeId)}: it is not a UUID`);
  }
  return `${WORKTREE_GROUP_PREFIX}${hex.slice(0, GROUP_HEX_CHARS)}`;
}

export interface ReservedNames {
  /** The Unix user the daemon runs as. */
  daemonUser: string;
  /** execution.executor_unix_user. */
  executorUser: string;
}

/** The account the current process runs as (the daemon user, when called from the daemon). */
export function currentUsername(): string {
  try {
    return os.userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}

/** uid of an existing account from /etc/passwd, or null. (agor-priv creates accounts with useradd there.) */
export function passwdUid(name: string, passwdFile = '/etc/passwd'): number | null {
  let text: string;
  try {
    text = fs.readFileSync(passwdFile, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const [user, , uid] = line.split(':');
    if (user === name && uid !== undefined) return Number(uid);
  }
  return null;
}

/** Accounts below this uid are the system's (Debian's FIRST_UID); agor never adopts one. */
export const MIN_HUMAN_UID = 1000;

/**
 * Why `name` cannot be a user's unix_username, or null when it can. The ONE check, run on every
 * write of users.unix_username (create and patch, any caller). The pattern alone excludes shell
 * metacharacters, spaces, upper case, `root` and anything outside the agor namespace; the rest are
 * names inside the namespace that belong to agor itself or to the system.
 */
export function whyRefusedUnixUsername(name: unknown, reserved: ReservedNames, passwdFile?: string): string | null {
  if (typeof name !== 'string') return `${JSON.stringify(name)} is not a name (a string is needed)`;
  const why = whyNotPersonName(name, { daemon_user: reserved.daemonUser, executor_user: reserved.executorUser, users_group: USERS_GROUP });
  if (why) return `${JSON.stringify(name)} ${why}`;
  const uid = passwdUid(name, passwdFile);
  if (uid !== null && uid < MIN_HUMAN_UID) return `${name} is a system account (uid ${uid}); pick another name`;
  return null;
}

/** `agor_` + the sanitised local part of an email: what `agor user create --unix` proposes. */
export function unixUsernameFromEmail(email: string): string {
  const local = email.split('@')[0] ?? '';
  const cleaned = local
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 24)
    .replace(/_+$/, '');
  if (!cleaned) throw new Error(`Cannot make a Unix user name from ${JSON.stringify(email)}: give one with --unix-name`);
  return `agor_${cleaned}`;
}
