// Verbs on accounts and groups: ensure-user, ensure-group, set-group-members, remove-group, and the
// lookups exec uses to turn a validated name into ids. Every account or group agor-priv touches is
// in the agor namespace and at or above min_uid; nothing else on the system is ever changed.
// A person's account is used only when agor-priv created it (registry.ts) and it has no group but
// agor's own: its private primary group, users_group and agor_wt_* groups.
import fs from 'node:fs';
import type { PrivConfig } from './config.js';
import { configError, quote, refused, unavailable, type PrivError } from './errors.js';
import { checkPersonName, checkWorktreeGroupName, parseMemberList, WORKTREE_GROUP_PATTERN } from './names.js';
import { ACCOUNTS_DIR, registerAccount, registeredUid } from './registry.js';
import { firstLine, groupIdsOf, lookupGroup, lookupGroupsById, lookupUser, runTool, runToolOk, type GroupEntry, type PasswdEntry } from './system.js';

/** GECOS of the accounts ensure-user creates (install-unix-isolation.sh uses "agor daemon"/"agor executor"). */
export const PERSON_GECOS = 'agor user';
const PERSON_SHELL = '/bin/bash';
// useradd / groupadd exit codes (shadow-utils).
const E_NAME_IN_USE = 9;
const E_GROUP_IN_USE = 8;

/**
 * An existing account that may be a person's: name in the namespace, uid ≥ min_uid, created by
 * agor-priv (registered with this uid) and in no group but agor's.
 */
export function personAccount(name: string, config: PrivConfig): PasswdEntry {
  checkPersonName(name, config);
  const entry = lookupUser(name);
  if (!entry) throw refused(`user ${name} does not exist`);
  checkNotSystem(entry, config);
  checkRegistered(entry);
  checkOnlyAgorGroups(entry, config);
  return entry;
}

function checkRegistered(entry: PasswdEntry): void {
  const uid = registeredUid(entry.name);
  if (uid === null) {
    throw refused(
      `user ${entry.name} was not created by agor-priv (no entry in ${ACCOUNTS_DIR}); agor runs only as accounts it created itself — link another name, or (an account made by an earlier agor version) re-run scripts/install-unix-isolation.sh`,
    );
  }
  if (uid !== entry.uid) throw refused(`user ${entry.name} has uid ${entry.uid}, but agor-priv created it with uid ${uid}: the account was replaced; agor will not run as it`);
}

/**
 * The account's groups (initgroups, as `id -G` reports them) must all be agor's: its own primary
 * group (named like the account, as useradd --user-group made it), users_group, and agor_wt_*
 * worktree groups with gid ≥ min_uid — never root's, the daemon's, or a system group such as shadow,
 * disk, adm or sudo, whose access agor's sessions would otherwise carry.
 */
export function checkOnlyAgorGroups(entry: PasswdEntry, config: PrivConfig): void {
  const ids = groupIdsOf(entry.name);
  const groups = lookupGroupsById([...new Set([entry.gid, ...ids])]);
  const primary = groups.get(entry.gid);
  if (!primary || primary.name !== entry.name) {
    throw refused(`user ${entry.name} has primary group ${primary ? primary.name : '(unnamed)'} (gid ${entry.gid}), not a group of its own named ${entry.name}; agor refuses such accounts`);
  }
  const daemon = daemonAccount(config);
  for (const gid of ids) {
    if (gid === entry.gid) continue;
    const group = groups.get(gid);
    const agors = group !== undefined && gid !== daemon.gid && gid !== 0 && (group.name === config.users_group || (WORKTREE_GROUP_PATTERN.test(group.name) && gid >= config.min_uid));
    if (!agors) {
      const shown = group ? group.name : String(gid);
      throw refused(
        `user ${entry.name} is a member of group ${shown} (gid ${gid}), which is not one of agor's groups (its own, ${config.users_group}, agor_wt_*); agor refuses accounts with other groups (gpasswd -d ${entry.name} ${shown})`,
      );
    }
  }
}

/**
 * An account earlier agor-priv versions created, before the registry existed: exactly what
 * ensure-user makes (GECOS "agor user", a primary group of its own, a member of users_group) and
 * no other group. Only ensure-user adopts (the daemon calls it when an account is linked; a re-run
 * of the install script calls it for every such account).
 */
function adoptable(entry: PasswdEntry, config: PrivConfig): boolean {
  if (entry.gecos !== PERSON_GECOS) return false;
  const usersGroup = lookupGroup(config.users_group);
  return usersGroup !== null && groupIdsOf(entry.name).includes(usersGroup.gid);
}

function checkNotSystem(entry: PasswdEntry, config: PrivConfig): void {
  if (entry.uid === 0 || entry.uid < config.min_uid) throw refused(`user ${entry.name} has uid ${entry.uid}, below min_uid ${config.min_uid} (a system account)`);
  if (entry.gid === 0 || entry.gid < config.min_uid) throw refused(`user ${entry.name} has primary gid ${entry.gid}, below min_uid ${config.min_uid}`);
  checkOwnUid(entry, refused);
}

/**
 * The uid must be this account's alone: setpriv looks the account up again by uid (getpwuid) to
 * initialise its groups, and a second account sharing the uid would bring its own groups.
 */
function checkOwnUid(entry: PasswdEntry, fail: (message: string) => PrivError): void {
  const byUid = lookupUser(entry.uid);
  if (!byUid || byUid.name !== entry.name) throw fail(`uid ${entry.uid} of ${entry.name} is shared with ${byUid ? byUid.name : 'an unnamed account'}`);
}

/** The executor user (insulated mode), which must exist with uid ≥ min_uid. */
export function executorAccount(config: PrivConfig): PasswdEntry {
  const entry = lookupUser(config.executor_user);
  if (!entry) throw configError(`executor_user ${config.executor_user} does not exist (run scripts/install-unix-isolation.sh)`);
  if (entry.uid === 0 || entry.uid < config.min_uid) throw configError(`executor_user ${entry.name} has uid ${entry.uid}, below min_uid ${config.min_uid}`);
  checkOwnUid(entry, configError);
  return entry;
}

export function daemonAccount(config: PrivConfig): PasswdEntry {
  const entry = lookupUser(config.daemon_user);
  if (!entry) throw configError(`daemon_user ${config.daemon_user} does not exist`);
  if (entry.uid === 0) throw configError(`daemon_user ${entry.name} has uid 0`);
  return entry;
}

/** An existing worktree group with gid ≥ min_uid. */
export function worktreeGroup(name: string, config: PrivConfig): GroupEntry {
  checkWorktreeGroupName(name);
  const entry = lookupGroup(name);
  if (!entry) throw refused(`group ${name} does not exist`);
  if (entry.gid === 0 || entry.gid < config.min_uid) throw refused(`group ${name} has gid ${entry.gid}, below min_uid ${config.min_uid} (a system group)`);
  return entry;
}

/** Makes a new account's home 0700, without following a symlink. */
function lockHome(entry: PasswdEntry): void {
  if (!entry.home.startsWith('/') || entry.home === '/') throw unavailable(`user ${entry.name} has home ${quote(entry.home)}`);
  let fd: number;
  try {
    fd = fs.openSync(entry.home, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
  } catch (error) {
    throw unavailable(`cannot open the home of ${entry.name} (${quote(entry.home)}): ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.uid !== entry.uid) throw refused(`home ${quote(entry.home)} of ${entry.name} is owned by uid ${st.uid}, not ${entry.uid}`);
    fs.fchmodSync(fd, 0o700);
  } finally {
    fs.closeSync(fd);
  }
}

/** An existing account for ensure-user: registered (or adoptable, then registered now) and with agor's groups only. */
function checkExisting(entry: PasswdEntry, config: PrivConfig): void {
  checkNotSystem(entry, config);
  if (registeredUid(entry.name) === null && adoptable(entry, config)) {
    checkOnlyAgorGroups(entry, config);
    registerAccount(entry.name, entry.uid);
    return;
  }
  checkRegistered(entry);
  checkOnlyAgorGroups(entry, config);
}

/** ensure-user --user agor_x */
export function ensureUser(name: string, config: PrivConfig): void {
  checkPersonName(name, config);
  const existing = lookupUser(name);
  if (existing) {
    checkExisting(existing, config);
    return;
  }
  const usersGroup = lookupGroup(config.users_group);
  if (!usersGroup) throw configError(`users_group ${config.users_group} does not exist (run scripts/install-unix-isolation.sh)`);
  const minId = String(config.min_uid);
  const result = runTool('useradd', [
    '--create-home',
    '--shell', PERSON_SHELL,
    '--user-group',
    '--groups', config.users_group,
    '--comment', PERSON_GECOS,
    '-K', `UID_MIN=${minId}`,
    '-K', `GID_MIN=${minId}`,
    '--',
    name,
  ]);
  if (result.status !== 0 && result.status !== E_NAME_IN_USE) {
    throw unavailable(`useradd ${name} failed (exit ${result.status}): ${firstLine(result.stderr) || 'no message'}`);
  }
  const created = lookupUser(name);
  if (!created) throw unavailable(`useradd ${name} reported success but the account does not exist`);
  if (result.status !== 0) {
    // Someone else created it meanwhile: it is checked like any existing account.
    checkExisting(created, config);
    return;
  }
  checkNotSystem(created, config);
  registerAccount(created.name, created.uid);
  lockHome(created);
}

/** ensure-group --group agor_wt_<hex> */
export function ensureGroup(name: string, config: PrivConfig): void {
  checkWorktreeGroupName(name);
  if (lookupGroup(name)) {
    worktreeGroup(name, config);
    return;
  }
  const result = runTool('groupadd', ['-K', `GID_MIN=${config.min_uid}`, '--', name]);
  if (result.status !== 0 && result.status !== E_NAME_IN_USE) {
    throw unavailable(`groupadd ${name} failed (exit ${result.status}): ${firstLine(result.stderr) || 'no message'}`);
  }
  worktreeGroup(name, config);
}

/** set-group-members --group agor_wt_<hex> --members a,b (exact membership; '' = none). */
export function setGroupMembers(name: string, membersValue: string, config: PrivConfig): void {
  checkWorktreeGroupName(name);
  const members = parseMemberList(membersValue, config);
  worktreeGroup(name, config);
  for (const member of members) {
    if (member === config.executor_user) executorAccount(config);
    else if (member === config.daemon_user) daemonAccount(config);
    else personAccount(member, config);
  }
  runToolOk('gpasswd', ['-M', members.join(','), '--', name]);
}

/** remove-group --group agor_wt_<hex> (absent → nothing to do). */
export function removeGroup(name: string, config: PrivConfig): void {
  checkWorktreeGroupName(name);
  if (!lookupGroup(name)) return;
  worktreeGroup(name, config);
  const result = runTool('groupdel', ['--', name]);
  if (result.status === E_GROUP_IN_USE) throw refused(`group ${name} is some user's primary group: ${firstLine(result.stderr)}`);
  if (result.status === 6 && !lookupGroup(name)) return; // removed concurrently
  if (result.status !== 0) throw unavailable(`groupdel ${name} failed (exit ${result.status}): ${firstLine(result.stderr) || 'no message'}`);
}
