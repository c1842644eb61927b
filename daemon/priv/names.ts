// The names agor-priv accepts, and the checks that are pure (no system lookup). DESIGN §2.
import { refused, quote } from './errors.js';

/** Accounts agor creates or runs as: strict-mode users, the executor user. */
export const USER_PATTERN = /^agor_[a-z0-9_]{1,24}$/;
/** Worktree groups. */
export const WORKTREE_GROUP_PATTERN = /^agor_wt_[0-9a-f]{8,16}$/;
export const WORKTREE_GROUP_PREFIX = 'agor_wt_';
/** The daemon user may be any plain account name (default `agor`); it is only ever a group member. */
export const SERVICE_USER_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;
/** TERM values passed to a terminal's shell. */
export const TERM_PATTERN = /^[a-z0-9-]{1,32}$/;

export interface ReservedNames {
  daemon_user: string;
  executor_user: string;
  users_group: string;
}

/**
 * Why `name` cannot be a person's account (ensure-user, exec --mode strict, a user's unix_username),
 * or null when it can: outside the agor namespace, or one of agor's own accounts or groups. The one
 * rule, for agor-priv (checkPersonName) and the daemon (unix/names.ts), which adds a passwd lookup.
 * The reason reads after the name: "<name> <reason>".
 */
export function whyNotPersonName(name: string, reserved: ReservedNames): string | null {
  if (!USER_PATTERN.test(name)) return `must match ${USER_PATTERN.source} (lower-case letters, digits and _ after "agor_"; no other characters)`;
  if (name.startsWith(WORKTREE_GROUP_PREFIX)) return `is in the worktree-group namespace ${WORKTREE_GROUP_PREFIX}*`;
  if (name === reserved.daemon_user) return 'is the daemon user; nothing runs as it on behalf of a person';
  if (name === reserved.executor_user) return "is the executor user; it is not a person's account";
  if (name === reserved.users_group) return 'is the name of the users group';
  return null;
}

/** A person's account name (see whyNotPersonName), or a refusal. */
export function checkPersonName(name: string, reserved: ReservedNames): string {
  const why = whyNotPersonName(name, reserved);
  if (why) throw refused(`user name ${quote(name)} ${why}`);
  return name;
}

export function checkWorktreeGroupName(name: string): string {
  if (!WORKTREE_GROUP_PATTERN.test(name)) throw refused(`group name ${quote(name)} must match ${WORKTREE_GROUP_PATTERN.source}`);
  return name;
}

/**
 * The --members value of set-group-members: a comma list (possibly empty) of distinct names, each a
 * person's account, the executor user or the daemon user. Accounts are looked up afterwards.
 */
export function parseMemberList(value: string, reserved: ReservedNames): string[] {
  if (value === '') return [];
  const members = value.split(',');
  const seen = new Set<string>();
  for (const member of members) {
    if (member === '') throw refused(`--members ${quote(value)} has an empty entry`);
    if (seen.has(member)) throw refused(`--members lists ${quote(member)} twice`);
    seen.add(member);
    if (member === reserved.executor_user || member === reserved.daemon_user) continue;
    checkPersonName(member, reserved);
  }
  return members;
}

export type OthersAccess = 'none' | 'read' | 'write';

export function checkOthers(value: string): OthersAccess {
  if (value === 'none' || value === 'read' || value === 'write') return value;
  throw refused(`--others must be none, read or write (got ${quote(value)})`);
}

export function checkTerm(value: string): string {
  if (!TERM_PATTERN.test(value)) throw refused(`--term ${quote(value)} must match ${TERM_PATTERN.source}`);
  return value;
}
