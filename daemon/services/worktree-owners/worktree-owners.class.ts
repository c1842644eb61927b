import { BadRequest, Forbidden, NotFound } from '@feathersjs/errors';
import type { Id, Params } from '@feathersjs/feathers';
import type { Application } from '../../declarations.js';
import { nowIso } from '../../db/database.js';
import { ensureWorktreePermission, policyOf, subjectOf, worktreeNotFound } from '../../rbac/authorize.js';
import { decide } from '../../rbac/decide.js';
import { factsOf, loadWorktreeAccess } from '../../rbac/scope.js';
import type { BreakGlass } from '../worktrees/worktrees.class.js';
import type { WorktreeOwner } from './worktree-owners.shared.js';

type OwnerParams = Params & { route?: { worktree_id?: string }; breakGlass?: BreakGlass };

function worktreeIdOf(params: OwnerParams): string {
  const id = params.route?.worktree_id;
  if (!id) throw new BadRequest('The worktree id is missing from the path');
  return id;
}

/** Owners of one worktree. A worktree always keeps at least one owner. */
export class WorktreeOwnersService {
  constructor(private readonly app: Application) {}

  private get db() {
    return this.app.get('db');
  }

  private list(worktreeId: string) {
    return this.db('worktree_owners as o')
      .join('users as u', 'u.id', 'o.user_id')
      .where('o.worktree_id', worktreeId)
      .select('o.worktree_id', 'o.user_id', 'u.email', 'u.name', 'o.added_by', 'o.added_at')
      .orderBy('o.added_at');
  }

  async find(params: OwnerParams): Promise<WorktreeOwner[]> {
    const worktreeId = worktreeIdOf(params);
    await ensureWorktreePermission(this.app, params, 'worktree.see_record', worktreeId);
    return this.list(worktreeId);
  }

  /**
   * Owners add owners. An admin who is not an owner may add only itself: the explicit,
   * audited break-glass to take over an orphaned worktree.
   */
  async create(data: { user_id: string }, params: OwnerParams): Promise<WorktreeOwner> {
    const worktreeId = worktreeIdOf(params);
    const subject = subjectOf(params);
    const row = await loadWorktreeAccess(this.db, worktreeId, subject);
    if (!row) throw worktreeNotFound(worktreeId);
    const policy = policyOf(this.app);
    const facts = { worktree: factsOf(row) };
    if (!decide(subject, 'worktree.manage_owners', facts, policy).allow) {
      const breakGlass = decide(subject, 'worktree.break_glass', { ...facts, newOwnerId: data.user_id }, policy).allow;
      if (!breakGlass) {
        await ensureWorktreePermission(this.app, params, 'worktree.manage_owners', worktreeId);
        throw new Forbidden('Only owners may add owners');
      }
      params.breakGlass = { worktreeId, actorId: subject.id, what: 'made itself an owner' };
    }
    const user = await this.db('users').where('id', data.user_id).first('id', 'disabled');
    if (!user) throw new BadRequest(`Invalid data: "user_id": no user with id ${data.user_id}`, { errors: { user_id: 'no such user' } });
    await this.db('worktree_owners')
      .insert({ worktree_id: worktreeId, user_id: data.user_id, added_by: subject.id, added_at: nowIso() })
      .onConflict(['worktree_id', 'user_id'])
      .ignore();
    const owner = (await this.list(worktreeId)).find((o: WorktreeOwner) => o.user_id === data.user_id);
    return owner as WorktreeOwner;
  }

  async remove(id: Id, params: OwnerParams): Promise<WorktreeOwner> {
    const worktreeId = worktreeIdOf(params);
    await ensureWorktreePermission(this.app, params, 'worktree.manage_owners', worktreeId);
    return this.db.transaction(async (trx) => {
      const owners: WorktreeOwner[] = await this.list(worktreeId).transacting(trx);
      const target = owners.find((o) => o.user_id === String(id));
      if (!target) throw new NotFound(`User ${id} is not an owner of this worktree`);
      if (owners.length === 1) throw new Forbidden('A worktree keeps at least one owner: add another owner first');
      await trx('worktree_owners').where({ worktree_id: worktreeId, user_id: target.user_id }).delete();
      return target;
    });
  }
}
