// /etc/agor/priv.yaml: the only input agor-priv trusts besides the system's own databases. A flat
// `key: value` file parsed by a deliberately tiny, strict parser (no YAML library runs as root):
// unknown or repeated keys, missing required keys and malformed lines are configuration errors.
import fs from 'node:fs';
import path from 'node:path';
import { configError, quote } from './errors.js';
import { SERVICE_USER_PATTERN, USER_PATTERN, WORKTREE_GROUP_PREFIX } from './names.js';
import { assertTrustedFile } from './trust.js';

export const CONFIG_PATH = '/etc/agor/priv.yaml';
export const DEFAULT_MIN_UID = 1000;
export const DEFAULT_USERS_GROUP = 'agor_users';
/** Where exec keeps each identity's private HOME and TMPDIR per worktree (root-owned). */
export const DEFAULT_SANDBOXES_ROOT = '/var/lib/agor/sandboxes';
const MAX_CONFIG_BYTES = 64 * 1024;

export interface PrivConfig {
  /** The account the daemon runs as (the only one sudoers lets call agor-priv). */
  daemon_user: string;
  /** insulated mode's identity. */
  executor_user: string;
  /** Supplementary group of every account ensure-user creates. */
  users_group: string;
  /** Worktrees live strictly inside this directory. */
  worktrees_root: string;
  /** The installed executor bundle, run as `node_path executor_path`. */
  executor_path: string;
  node_path: string;
  /** Accounts and groups below this id are the system's and are never used. */
  min_uid: number;
  /** Root-owned directory holding the sandboxes' private HOME and TMPDIR (<root>/<group>/<user>/{home,tmp}). */
  sandboxes_root: string;
}

const KEYS = ['daemon_user', 'executor_user', 'users_group', 'worktrees_root', 'executor_path', 'node_path', 'min_uid', 'sandboxes_root'] as const;
type Key = (typeof KEYS)[number];
const REQUIRED: readonly Key[] = ['daemon_user', 'executor_user', 'worktrees_root', 'executor_path', 'node_path'];

const LINE = /^([a-z_]+):(?:[ \t]+(.*))?$/;

function unquote(raw: string, lineNo: number): string {
  // `value # comment` → value; quoted values keep everything between the quotes (no escapes).
  const quoted = /^"([^"]*)"$/.exec(raw) ?? /^'([^']*)'$/.exec(raw);
  if (quoted) return quoted[1]!;
  if (raw.startsWith('"') || raw.startsWith("'")) throw configError(`priv.yaml line ${lineNo}: unterminated or trailing text after a quoted value`);
  const value = raw.replace(/[ \t]+#.*$/, '');
  if (/[\[\]{}&*!|>%@`]/.test(value.charAt(0))) throw configError(`priv.yaml line ${lineNo}: only plain scalar values are accepted`);
  return value;
}

function absolutePath(key: Key, value: string): string {
  if (!path.isAbsolute(value) || path.posix.normalize(value) !== value || value === '/' || value.endsWith('/')) {
    throw configError(`priv.yaml: ${key} must be a normalised absolute path other than / (got ${quote(value)})`);
  }
  return value;
}

/** Parses and validates the file's text. Pure; the file's ownership is checked by loadPrivConfig. */
export function parsePrivConfig(text: string): PrivConfig {
  if (text.includes('\0') || text.includes('\r')) throw configError('priv.yaml contains NUL or CR characters');
  const raw = new Map<Key, string>();
  text.split('\n').forEach((line, index) => {
    const lineNo = index + 1;
    const trimmed = line.replace(/[ \t]+$/, '');
    if (trimmed === '' || /^[ \t]*#/.test(trimmed)) return;
    const m = LINE.exec(trimmed);
    if (!m) throw configError(`priv.yaml line ${lineNo}: expected "key: value"`);
    const key = m[1]!;
    if (!(KEYS as readonly string[]).includes(key)) throw configError(`priv.yaml line ${lineNo}: unknown key ${quote(key)} (known: ${KEYS.join(', ')})`);
    if (raw.has(key as Key)) throw configError(`priv.yaml line ${lineNo}: ${key} is given twice`);
    const value = unquote((m[2] ?? '').trim(), lineNo);
    if (value === '') throw configError(`priv.yaml line ${lineNo}: ${key} has no value`);
    raw.set(key as Key, value);
  });
  for (const key of REQUIRED) {
    if (!raw.has(key)) throw configError(`priv.yaml: ${key} is missing`);
  }

  const daemonUser = raw.get('daemon_user')!;
  if (!SERVICE_USER_PATTERN.test(daemonUser) || daemonUser === 'root') {
    throw configError(`priv.yaml: daemon_user ${quote(daemonUser)} must be a plain user name other than root`);
  }
  const executorUser = raw.get('executor_user')!;
  if (!USER_PATTERN.test(executorUser) || executorUser.startsWith(WORKTREE_GROUP_PREFIX) || executorUser === daemonUser) {
    throw configError(`priv.yaml: executor_user ${quote(executorUser)} must match ${USER_PATTERN.source}, not start with ${WORKTREE_GROUP_PREFIX} and differ from daemon_user`);
  }
  const usersGroup = raw.get('users_group') ?? DEFAULT_USERS_GROUP;
  if (!USER_PATTERN.test(usersGroup) || usersGroup.startsWith(WORKTREE_GROUP_PREFIX) || usersGroup === executorUser || usersGroup === daemonUser) {
    throw configError(`priv.yaml: users_group ${quote(usersGroup)} must match ${USER_PATTERN.source}, not start with ${WORKTREE_GROUP_PREFIX} and differ from the user names`);
  }
  const minUidText = raw.get('min_uid') ?? String(DEFAULT_MIN_UID);
  const minUid = /^[0-9]{1,10}$/.test(minUidText) ? Number(minUidText) : NaN;
  if (!Number.isSafeInteger(minUid) || minUid < DEFAULT_MIN_UID || minUid > 2 ** 31 - 1) {
    throw configError(`priv.yaml: min_uid must be an integer from ${DEFAULT_MIN_UID} to ${2 ** 31 - 1} (got ${quote(minUidText)})`);
  }
  return {
    daemon_user: daemonUser,
    executor_user: executorUser,
    users_group: usersGroup,
    worktrees_root: absolutePath('worktrees_root', raw.get('worktrees_root')!),
    executor_path: absolutePath('executor_path', raw.get('executor_path')!),
    node_path: absolutePath('node_path', raw.get('node_path')!),
    min_uid: minUid,
    sandboxes_root: absolutePath('sandboxes_root', raw.get('sandboxes_root') ?? DEFAULT_SANDBOXES_ROOT),
  };
}

/**
 * Reads the config after checking that only root could have written it (the file, /etc/agor, /etc
 * and / are root-owned and not group/other-writable). The file is opened without following a
 * symlink and checked through the same descriptor it is read from.
 */
export function loadPrivConfig(file = CONFIG_PATH): PrivConfig {
  assertTrustedFile(file, 'agor-priv configuration');
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (error) {
    throw configError(`cannot open ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.uid !== 0 || (st.mode & 0o022) !== 0) throw configError(`${file} must be a regular file owned by root and not writable by group or others`);
    if (st.size > MAX_CONFIG_BYTES) throw configError(`${file} is larger than ${MAX_CONFIG_BYTES} bytes`);
    const text = fs.readFileSync(fd, 'utf8');
    return parsePrivConfig(text);
  } finally {
    fs.closeSync(fd);
  }
}
