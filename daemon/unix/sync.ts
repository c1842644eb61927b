// Keeps the operating system in step with the database in insulated/strict mode (DESIGN §3):
// each worktree has its agor_wt_* group, its directory prepared for that group and its
// others_fs_access, its git metadata reachable by that group, and — in strict mode — exactly the
// right members: a user with a Unix account who may create sessions there (an owner, or a tier of at
// least `session`, per decide()). Simple mode never touches the filesystem or accounts.
import fs from 'node:fs';
import { FeathersError, GeneralError } from '@feathersjs/errors';
import type { Database } from '../db/database.js';
import type { AgorConfig } from '../config/schema.js';
import type { Role } from '../auth/roles.js';
import { decide, type Policy, type Subject, type WorktreeFacts } from '../rbac/decide.js';
import type { FsAccess, Tier } from '../rbac/tiers.js';
import { describePrepareReport, PrivilegedClient, type PrepareReport } from './privileged.js';
import { grantWorktreeGitAccess, revokeWorktreeGitAccess } from './git-access.js';
import { currentUsername, UNIX_USERNAME_PATTERN, WORKTREE_GROUP_PATTERN, worktreeGroupName } from './names.js';
import { readGroups, readUsers } from './os-state.js';

/**
 * THE membership rule: a user belongs to a worktree's group when decide() lets them create a
 * session there (owner, or effective tier >= session; viewers never). The caller adds the
 * "has a Unix account and is enabled" part.
 */
export function belongsInWorktreeGroup(subject: Subject, worktree: WorktreeFacts, policy: Policy): boolean {
  return decide(subject, 'session.create', { worktree }, policy).allow;
}

export interface WorktreeUnixState {
  id: string;
  name: string;
  path: string;
  repo_path: string | null;
  unix_group: string | null;
  others_can: Tier;
  others_fs_access: FsAccess;
  dangerously_allow_session_sharing: boolean | number;
}

export interface SyncAction {
  action: 'ensure-user' | 'ensure-group' | 'prepare-worktree' | 'git-access' | 'set-group-members' | 'remove-group' | 'store-group';
  target: string;
  detail?: string;
  status: 'planned' | 'done' | 'failed';
  error?: string;
}

export interface SyncReport {
  mode: AgorConfig['execution']['unix_user_mode'];
  dry_run: boolean;
  actions: SyncAction[];
  /** Things sync cannot fix by itself (a missing worktree directory, a stale group without --prune). */
  notes: string[];
  failed: number;
}

export interface UnixSyncDeps {
  db: Database;
  config: AgorConfig;
  dataDir: string;
  priv: PrivilegedClient;
  daemonUser?: string;
  groupFile?: string;
  passwdFile?: string;
}

/** A Feathers error for anything that went wrong while syncing (agor-priv's already are). */
export function asSyncError(error: unknown, what: string): FeathersError {
  if (error instanceof FeathersError) {
    error.message = `${what}: ${error.message}`;
    return error;
  }
  return new GeneralError(`${what}: ${(error as Error)?.message ?? String(error)}`);
}

export class UnixSync {
  readonly priv: PrivilegedClient;
  private readonly daemonUser: string;
  /**
   * Every change to the OS runs one at a time, each computing what to apply from the database as it
   * is when its turn comes: two concurrent API calls can then never apply an older member list last.
   */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: UnixSyncDeps) {
    this.priv = deps.priv;
    this.daemonUser = deps.daemonUser ?? currentUsername();
  }

  get mode() {
    return this.deps.config.execution.unix_user_mode;
  }

  /** insulated or strict: the OS follows the database. */
  get isolated(): boolean {
    return this.mode !== 'simple';
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private get policy(): Policy {
    return { rbac: this.deps.config.execution.worktree_rbac };
  }

  private groups() {
    return readGroups(this.deps.groupFile);
  }

  async worktrees(ids?: readonly string[]): Promise<WorktreeUnixState[]> {
    const q = this.deps.db('worktrees as w')
      .leftJoin('repos as r', 'r.id', 'w.repo_id')
      .select('w.id', 'w.name', 'w.path', 'w.unix_group', 'w.others_can', 'w.others_fs_access', 'w.dangerously_allow_session_sharing', 'r.path as repo_path')
      .orderBy('w.created_at');
    if (ids) q.whereIn('w.id', [...ids]);
    return q;
  }

  /** worktree id → the exact member list its group must have. */
  async desiredMembers(worktrees: readonly WorktreeUnixState[]): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>(worktrees.map((w) => [w.id, []]));
    // Insulated: the executor runs with the group as its primary (only) group; no account is a member.
    if (this.mode !== 'strict' || worktrees.length === 0) return result;
    const users: { id: string; role: Role; unix_username: string }[] = await this.deps.db('users')
      .whereNotNull('unix_username')
      .where('disabled', false)
      .select('id', 'role', 'unix_username');
    const ownerRows: { worktree_id: string; user_id: string }[] = await this.deps.db('worktree_owners')
      .whereIn('worktree_id', worktrees.map((w) => w.id))
      .select('worktree_id', 'user_id');
    const owners = new Set(ownerRows.map((o) => `${o.worktree_id}/${o.user_id}`));
    for (const w of worktrees) {
      const members: string[] = [];
      for (const u of users) {
        if (!UNIX_USERNAME_PATTERN.test(u.unix_username)) continue;
        const facts: WorktreeFacts = {
          others_can: w.others_can,
          dangerously_allow_session_sharing: Boolean(w.dangerously_allow_session_sharing),
          isOwner: owners.has(`${w.id}/${u.id}`),
        };
        if (belongsInWorktreeGroup({ id: u.id, role: u.role }, facts, this.policy)) members.push(u.unix_username);
      }
      result.set(w.id, members.sort());
    }
    return result;
  }

  /**
   * Makes the member lists of `worktreeIds` (default: every worktree with a group) exact, calling
   * set-group-members only where /etc/group differs. Throws on the first failure (callers report it).
   */
  syncMembers(worktreeIds?: readonly string[]): Promise<SyncAction[]> {
    return this.serial(() => this.syncMembersNow(worktreeIds));
  }

  private async syncMembersNow(worktreeIds?: readonly string[]): Promise<SyncAction[]> {
    if (!this.isolated) return [];
    const worktrees = (await this.worktrees(worktreeIds)).filter((w) => w.unix_group);
    const desired = await this.desiredMembers(worktrees);
    const groups = this.groups();
    const done: SyncAction[] = [];
    for (const w of worktrees) {
      const group = w.unix_group!;
      const want = desired.get(w.id) ?? [];
      const have = groups.get(group)?.members ?? [];
      if (groups.has(group) && sameSet(want, have)) continue;
      try {
        if (!groups.has(group)) await this.priv.ensureGroup(group);
        await this.priv.setGroupMembers(group, want);
      } catch (error) {
        throw asSyncError(error, `Unix group ${group} of worktree ${w.name} could not be given its members (${want.join(',') || 'none'})`);
      }
      done.push({ action: 'set-group-members', target: group, detail: want.join(',') || '(none)', status: 'done' });
    }
    return done;
  }

  /** On worktree creation: group, directory modes, git metadata, members; then stores unix_group. */
  prepareWorktree(worktreeId: string): Promise<string> {
    return this.serial(() => this.prepareWorktreeNow(worktreeId));
  }

  private async prepareWorktreeNow(worktreeId: string): Promise<string> {
    const [w] = await this.worktrees([worktreeId]);
    if (!w) throw new GeneralError(`Worktree ${worktreeId} vanished while its Unix group was being prepared`);
    const group = w.unix_group ?? worktreeGroupName(w.id);
    try {
      await this.priv.ensureGroup(group);
      this.logReport(w, await this.priv.prepareWorktree(w.path, group, w.others_fs_access));
      if (w.repo_path) await grantWorktreeGitAccess({ repoPath: w.repo_path, worktreePath: w.path, group, dataDir: this.deps.dataDir, daemonUser: this.daemonUser });
    } catch (error) {
      throw asSyncError(error, `Preparing Unix group ${group} for worktree ${w.name} failed`);
    }
    if (w.unix_group !== group) await this.deps.db('worktrees').where('id', w.id).update({ unix_group: group });
    await this.syncMembersNow([w.id]);
    return group;
  }

  /**
   * others_fs_access changed: prepare-worktree again with the new value. Resolves with what
   * agor-priv left alone (a hard-linked or foreign file, a too-deep directory): the change still
   * stands, since agor-priv never leaves the tree more open than asked (it closes instead).
   */
  reapplyModes(worktreeId: string): Promise<PrepareReport | null> {
    return this.serial(async () => {
      const [w] = await this.worktrees([worktreeId]);
      if (!w) return null;
      if (!w.unix_group) {
        await this.prepareWorktreeNow(worktreeId);
        return null;
      }
      return this.applyModes(w);
    });
  }

  private async applyModes(w: WorktreeUnixState): Promise<PrepareReport | null> {
    let report: PrepareReport | null;
    try {
      report = await this.priv.prepareWorktree(w.path, w.unix_group!, w.others_fs_access);
    } catch (error) {
      throw asSyncError(error, `Applying others_fs_access "${w.others_fs_access}" to worktree ${w.name} failed`);
    }
    this.logReport(w, report);
    return report;
  }

  private logReport(w: Pick<WorktreeUnixState, 'name' | 'path' | 'others_fs_access'>, report: PrepareReport | null): void {
    if (report) console.warn(`[unix] prepare-worktree ${w.path} (worktree ${w.name}, others ${w.others_fs_access}): ${describePrepareReport(report)}`);
  }

  /**
   * Deleting a worktree: its group loses every member first (strict; insulated has none), so no new
   * process of a person carries it, then agor-priv removes the directory as root by its no-follow walk.
   */
  removeWorktreeTree(worktreeId: string, dir: string): Promise<void> {
    return this.serial(async () => {
      const [w] = await this.worktrees([worktreeId]);
      const group = w?.unix_group;
      try {
        if (group && WORKTREE_GROUP_PATTERN.test(group) && (this.groups().get(group)?.members.length ?? 0) > 0) await this.priv.setGroupMembers(group, []);
        await this.priv.removeTree(dir);
      } catch (error) {
        throw asSyncError(error, `The worktree's directory ${dir} could not be removed`);
      }
    });
  }

  /** After a worktree was deleted: its group leaves the repository's ACLs, then the group goes. */
  removeWorktreeGroup(group: string, repoPath: string | null): Promise<void> {
    return this.serial(() => this.removeWorktreeGroupNow(group, repoPath));
  }

  private async removeWorktreeGroupNow(group: string, repoPath: string | null): Promise<void> {
    if (!WORKTREE_GROUP_PATTERN.test(group)) return;
    try {
      if (repoPath && fs.existsSync(repoPath)) await revokeWorktreeGitAccess(repoPath, group);
      if (this.groups().has(group)) await this.priv.removeGroup(group);
    } catch (error) {
      throw asSyncError(error, `The worktree was deleted, but its Unix group ${group} could not be removed (run \`agor admin sync-unix --prune\`)`);
    }
  }

  /** `agor admin sync-unix`: everything above, for every worktree and linked user. Idempotent. */
  reconcile(options: { dryRun: boolean; prune: boolean }): Promise<SyncReport> {
    return this.serial(() => this.reconcileNow(options));
  }

  private async reconcileNow({ dryRun, prune }: { dryRun: boolean; prune: boolean }): Promise<SyncReport> {
    const report: SyncReport = { mode: this.mode, dry_run: dryRun, actions: [], notes: [], failed: 0 };
    const groups = this.groups();
    const known = new Set<string>();
    const step = async (action: SyncAction['action'], target: string, detail: string | undefined, run: () => Promise<unknown>) => {
      const entry: SyncAction = { action, target, ...(detail !== undefined && { detail }), status: dryRun ? 'planned' : 'done' };
      report.actions.push(entry);
      if (dryRun) return true;
      try {
        await run();
        return true;
      } catch (error) {
        entry.status = 'failed';
        entry.error = (error as Error).message;
        report.failed += 1;
        return false;
      }
    };
    const worktrees = await this.worktrees();
    if (!this.isolated) {
      const stale = [...groups.keys()].filter((g) => WORKTREE_GROUP_PATTERN.test(g));
      report.notes.push('unix_user_mode is simple: the filesystem and accounts are left alone.');
      if (stale.length) report.notes.push(`agor_wt_* groups exist from an earlier insulated/strict setup: ${stale.join(', ')}`);
      return report;
    }
    // Accounts of linked users (strict runs sessions as them).
    const accounts = readUsers(this.deps.passwdFile);
    const linked: { unix_username: string }[] = await this.deps.db('users').whereNotNull('unix_username').select('unix_username');
    for (const { unix_username } of linked) {
      if (!accounts.has(unix_username)) await step('ensure-user', unix_username, undefined, () => this.priv.ensureUser(unix_username));
    }
    for (const w of worktrees) {
      const group = w.unix_group ?? worktreeGroupName(w.id);
      if (known.has(group)) {
        report.notes.push(`Two worktrees map to the group ${group}; worktree ${w.name} (${w.id}) was skipped`);
        continue;
      }
      known.add(group);
      if (w.unix_group !== group) await step('store-group', w.id, group, () => this.deps.db('worktrees').where('id', w.id).update({ unix_group: group }));
      if (!groups.has(group)) await step('ensure-group', group, w.name, () => this.priv.ensureGroup(group));
      if (!fs.existsSync(w.path)) {
        report.notes.push(`Worktree ${w.name} (${w.id}): its directory ${w.path} is missing; its modes were not applied`);
        continue;
      }
      await step('prepare-worktree', w.path, `${group} others=${w.others_fs_access}`, async () => {
        const left = await this.priv.prepareWorktree(w.path, group, w.others_fs_access);
        if (left) report.notes.push(`Worktree ${w.name} (${w.path}): ${describePrepareReport(left)}`);
      });
      if (w.repo_path) {
        await step('git-access', w.repo_path, group, () =>
          grantWorktreeGitAccess({ repoPath: w.repo_path!, worktreePath: w.path, group, dataDir: this.deps.dataDir, daemonUser: this.daemonUser }),
        );
      }
    }
    const desired = await this.desiredMembers(worktrees.map((w) => ({ ...w, unix_group: w.unix_group ?? worktreeGroupName(w.id) })));
    for (const w of worktrees) {
      const group = w.unix_group ?? worktreeGroupName(w.id);
      const want = desired.get(w.id) ?? [];
      const have = groups.get(group)?.members ?? [];
      if (groups.has(group) && sameSet(want, have)) continue;
      await step('set-group-members', group, want.join(',') || '(none)', () => this.priv.setGroupMembers(group, want));
    }
    for (const [name] of groups) {
      if (!WORKTREE_GROUP_PATTERN.test(name) || known.has(name)) continue;
      if (prune) await step('remove-group', name, 'no worktree uses it', () => this.priv.removeGroup(name));
      else report.notes.push(`Group ${name} belongs to no worktree of this daemon; remove it with --prune (only if no other agor daemon on this machine uses it)`);
    }
    return report;
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}
