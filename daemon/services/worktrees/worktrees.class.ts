import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BadRequest, Conflict, NotFound } from '@feathersjs/errors';
import type { Id, Paginated, Params } from '@feathersjs/feathers';
import type { Knex } from 'knex';
import type { Application } from '../../declarations.js';
import { nowIso } from '../../db/database.js';
import { allowOrThrow, ensureWorktreePermission, mayView, policyOf, subjectOf, worktreeNotFound } from '../../rbac/authorize.js';
import { decide } from '../../rbac/decide.js';
import { factsOf, loadWorktreeAccess, visibleCount, whereOwnedClosed, whereWorktreeOpen, whereWorktreeVisible } from '../../rbac/scope.js';
import { addWorktree, listBranches, removeTreeNoFollow, removeWorktree, validateRefName, type AddWorktreeOptions, type TreeRemover } from '../../git/index.js';
import { terminalsOf } from '../../terminal/manager.js';
import { unixSyncOf } from '../../unix/sync-hooks.js';
import { DEFAULT_PAGE, pageTotal } from '../pagination.js';
import { PERMISSION_FIELDS, toPublicWorktree, type PublicWorktree, type WorktreeCreate, type WorktreePatch, type WorktreeRow } from './worktrees.schema.js';
import type { RepoRow } from '../repos/repos.schema.js';

/** Notes a privileged act on the record: callers log it and write the audit event. */
export interface BreakGlass {
  worktreeId: string;
  actorId: string;
  what: string;
}

/**
 * Worktree records and their git worktrees. Admins see every record (to administer it) but no
 * contents; everyone else sees records they may view. One SQL statement per find.
 */
export class WorktreesService {
  constructor(private readonly app: Application) {}

  private get db() {
    return this.app.get('db');
  }

  async find(params: Params): Promise<Paginated<PublicWorktree>> {
    const subject = subjectOf(params);
    const { $limit = DEFAULT_PAGE, $skip = 0, repo_id, archived } = (params.query ?? {}) as Record<string, any>;
    const db = this.db;
    const scoped = !decide(subject, 'worktree.see_every_record').allow;
    const columns = (alias: string) => ({ worktreeId: `${alias}.id`, othersCan: `${alias}.others_can` });
    /** The worktrees matching the filters, under `alias`, before the view rule. */
    const filtered = (alias: string) => {
      const q = db(`worktrees as ${alias}`);
      if (repo_id !== undefined) q.where(`${alias}.repo_id`, repo_id);
      if (archived !== undefined) q.where(`${alias}.archived`, archived);
      return q;
    };
    /** The worktrees this caller may list, under `alias`: filters plus the view rule. */
    const listed = (alias: string) => {
      const q = filtered(alias);
      return scoped ? whereWorktreeVisible(q, subject, policyOf(this.app), columns(alias)) : q;
    };
    /** Their number, as a scalar expression named `as` (two index-driven parts when scoped). */
    const counted = (as: string) =>
      scoped ? visibleCount(db, () => filtered('c'), subject, policyOf(this.app), columns('c'), as) : db.raw('(?) AS ??', [filtered('c').count('*'), as]);
    // Still ONE statement, but the page is picked on narrow rows first and only its rows get their
    // full columns and owners; a window COUNT over the wide rows made SQLite build the owners
    // list of every visible worktree before the limit.
    const ordered = (q: Knex.QueryBuilder, alias: string) => q.select(`${alias}.id`, `${alias}.created_at`).orderBy(`${alias}.created_at`).orderBy(`${alias}.id`);
    let page: Knex.QueryBuilder;
    if (scoped && policyOf(this.app).rbac) {
      // The first $skip + $limit of each half, each read in order through its own index (open:
      // the partial list-order index; owned and closed: the owner index), merged. A single scan
      // in list order testing each row cost ~2 ms at 10k worktrees when few were visible.
      const first = $skip + $limit;
      const open = db.select('*').from(ordered(whereWorktreeOpen(filtered('a'), 'a.others_can'), 'a').limit(first).as('oa'));
      const ownedClosed = db.select('*').from(ordered(whereOwnedClosed(filtered('b'), subject, columns('b')), 'b').limit(first).as('ob'));
      page = db.select('u.id', 'u.created_at').from(open.unionAll(ownedClosed).as('u')).orderBy('u.created_at').orderBy('u.id');
    } else {
      page = ordered(listed('p'), 'p');
    }
    page = page.limit($limit).offset($skip).as('pg');
    const query = db
      .from(page)
      .join('worktrees as w', 'w.id', 'pg.id')
      .select('w.*')
      .select(db.raw('(SELECT json_group_array(o.user_id) FROM worktree_owners o WHERE o.worktree_id = w.id) AS owners'))
      .select(counted('total_count'))
      .orderBy('pg.created_at')
      .orderBy('pg.id');
    const rows = await query;
    const total = await pageTotal(rows, $skip, () => db.select(counted('total')));
    return { total, limit: $limit, skip: $skip, data: rows.map(toPublicWorktree) };
  }

  async get(id: Id, params: Params): Promise<PublicWorktree> {
    await ensureWorktreePermission(this.app, params, 'worktree.see_record', String(id));
    return this.load(String(id));
  }

  /** The record with its owners, no permission check: for use after one was made. */
  async load(id: string): Promise<PublicWorktree> {
    const db = this.db;
    const row = await db('worktrees as w')
      .select('w.*')
      .select(db.raw('(SELECT json_group_array(o.user_id) FROM worktree_owners o WHERE o.worktree_id = w.id) AS owners'))
      .where('w.id', id)
      .first();
    if (!row) throw worktreeNotFound(id);
    return toPublicWorktree(row);
  }

  async create(data: WorktreeCreate, params: Params): Promise<PublicWorktree> {
    const subject = subjectOf(params);
    allowOrThrow(subject, 'worktree.create');
    const repo = await this.db<RepoRow>('repos').where('id', data.repo_id).first();
    if (!repo) throw new BadRequest(`Invalid data: "repo_id": no repo with id ${data.repo_id}`, { errors: { repo_id: 'no such repo' } });
    const exists = await this.db('worktrees').where({ repo_id: repo.id, name: data.name }).first('id');
    if (exists) throw new Conflict(`Repo ${repo.name} already has a worktree named ${data.name}`);
    const worktreePath = path.join(this.app.get('runtime').dataDir, 'worktrees', repo.name, data.name);
    if (fs.existsSync(worktreePath)) throw new Conflict(`${worktreePath} already exists on disk; remove it or pick another name`);
    const branch = data.branch ?? data.name;
    // One worktree per branch name in a repository (each is its own repository, but two worktrees
    // on one branch name would only confuse whoever moves work between them).
    const taken = await this.db('worktrees').where({ repo_id: repo.id, branch }).first('id');
    if (taken) throw new Conflict(`Branch ${branch} is already used by another worktree of repo ${repo.name}; pick another branch name`);
    const createBranch = !(await listBranches(repo.path)).includes(branch);
    const start = data.base === undefined ? {} : await this.resolveBase(repo, data.base, subject);
    fs.mkdirSync(path.dirname(worktreePath), { recursive: true, mode: 0o755 });
    await addWorktree(repo.path, worktreePath, { branch, createBranch, ...start });
    const at = nowIso();
    const row: WorktreeRow = {
      id: crypto.randomUUID(),
      repo_id: repo.id,
      name: data.name,
      path: worktreePath,
      branch,
      others_can: data.others_can,
      others_fs_access: data.others_fs_access,
      dangerously_allow_session_sharing: data.dangerously_allow_session_sharing,
      unix_group: null,
      archived: false,
      created_by: subject.id,
      created_at: at,
      updated_at: at,
    };
    try {
      await this.db.transaction(async (trx) => {
        await trx('worktrees').insert(row);
        await trx('worktree_owners').insert({ worktree_id: row.id, user_id: subject.id, added_by: subject.id, added_at: at });
      });
    } catch (error) {
      await removeWorktree(repo.path, worktreePath, { force: true, recorded: true }).catch(() => undefined);
      throw error;
    }
    return this.load(row.id);
  }

  /**
   * A new worktree's `base` must be a branch the caller may see (DESIGN §4): a branch of the
   * repository itself that is no worktree's, or the branch of a worktree the caller may view
   * (decide()'s `worktree.view`). Anything else is refused with the same sentence whether or not
   * the branch exists, so an invisible worktree's branch is not even confirmed.
   */
  private async resolveBase(repo: RepoRow, base: string, subject: ReturnType<typeof subjectOf>): Promise<Pick<AddWorktreeOptions, 'base' | 'baseWorktree'>> {
    const refuse = () =>
      new BadRequest(`Invalid data: "base": ${JSON.stringify(base)} is not a branch you may see in repo ${repo.name} (its own branches, or the branch of a worktree you may view)`, {
        errors: { base: 'not a branch you may see' },
      });
    try {
      validateRefName(base);
    } catch {
      throw refuse();
    }
    const holders: { id: string; path: string }[] = await this.db('worktrees').where({ repo_id: repo.id, branch: base }).select('id', 'path');
    if (holders.length > 0) {
      for (const holder of holders) {
        const row = await loadWorktreeAccess(this.db, holder.id, subject);
        if (row && mayView(this.app, subject, row) && fs.existsSync(holder.path)) return { baseWorktree: { path: holder.path, branch: base } };
      }
      throw refuse();
    }
    if (!(await listBranches(repo.path)).includes(base)) throw refuse();
    return { base: `refs/heads/${base}` };
  }

  async patch(id: Id, data: WorktreePatch, params: Params): Promise<PublicWorktree> {
    const worktreeId = String(id);
    const touchesPermissions = PERMISSION_FIELDS.some((f) => data[f] !== undefined);
    if (touchesPermissions) await this.ensurePermissionChange(worktreeId, params);
    if (data.archived !== undefined) await ensureWorktreePermission(this.app, params, 'worktree.patch', worktreeId);
    const { tool_policy, ...fields } = data;
    const stored = tool_policy === undefined ? {} : { tool_policy: JSON.stringify(tool_policy) };
    await this.db('worktrees').where('id', worktreeId).update({ ...fields, ...stored, updated_at: nowIso() });
    return this.load(worktreeId);
  }

  /**
   * Owners change permissions; an admin who is not an owner may too, as an explicit break-glass
   * (recorded by the caller through params.breakGlass).
   */
  private async ensurePermissionChange(worktreeId: string, params: Params): Promise<void> {
    const subject = subjectOf(params);
    const row = await loadWorktreeAccess(this.db, worktreeId, subject);
    if (!row) throw worktreeNotFound(worktreeId);
    const policy = policyOf(this.app);
    if (decide(subject, 'worktree.change_permissions', { worktree: factsOf(row) }, policy).allow) return;
    if (decide(subject, 'worktree.break_glass', { worktree: factsOf(row) }, policy).allow) {
      (params as Params & { breakGlass?: BreakGlass }).breakGlass = { worktreeId, actorId: subject.id, what: 'changed permissions' };
      return;
    }
    await ensureWorktreePermission(this.app, params, 'worktree.change_permissions', worktreeId);
  }

  async remove(id: Id, params: Params): Promise<PublicWorktree> {
    const worktreeId = String(id);
    await ensureWorktreePermission(this.app, params, 'worktree.delete', worktreeId);
    const before = await this.load(worktreeId);
    const repo = await this.db<RepoRow>('repos').where('id', before.repo_id).first();
    if (!repo) throw new NotFound(`Repo of worktree ${worktreeId} is missing`);
    const force = Boolean((params.query as { force?: boolean } | undefined)?.force);
    if (fs.existsSync(before.path)) {
      await removeWorktree(repo.path, before.path, {
        force,
        recorded: true,
        // The tree goes only once nothing of the worktree runs any more and (insulated/strict) its
        // group lost its members; then by a no-follow descriptor walk, never by path.
        removeTree: async (dir) => {
          await this.endProcessesIn(worktreeId);
          await (this.treeRemover(worktreeId) ?? removeTreeNoFollow)(dir);
        },
      });
    }
    await this.db('worktrees').where('id', worktreeId).delete();
    return before;
  }

  private async endProcessesIn(worktreeId: string): Promise<void> {
    await this.app.get('runner')?.stopWhere((e) => e.worktreeId === worktreeId, 'the worktree is being deleted');
    const terminals = terminalsOf(this.app);
    await Promise.all(terminals.all().filter((t) => t.worktreeId === worktreeId).map((t) => terminals.close(t, 'the worktree is being deleted')));
  }

  /** Simple mode: the daemon's own walk. Insulated/strict: agor-priv's remove-tree, as root. */
  private treeRemover(worktreeId: string): TreeRemover | undefined {
    const sync = unixSyncOf(this.app);
    return sync.isolated ? (dir) => sync.removeWorktreeTree(worktreeId, dir) : undefined;
  }
}
