import type { Knex } from 'knex';
import type { Database } from '../db/database.js';
import type { Policy, Subject, WorktreeFacts } from './decide.js';
import { tiersAtLeast, type Tier } from './tiers.js';

/**
 * The `view` rule of decide() as ONE SQL condition, for list queries: a worktree's contents are
 * visible to its owners and, when others_can is at least `view`, to everyone (viewers included —
 * their cap lowers what they may do, not what they may see). Never filter after fetching.
 *
 * `worktreeId` and `othersCan` name the columns of the query being scoped.
 */
export function whereWorktreeVisible(
  qb: Knex.QueryBuilder,
  subject: Subject,
  policy: Policy,
  columns: { worktreeId: string; othersCan: string },
): Knex.QueryBuilder {
  if (!policy.rbac) return qb;
  return qb.where((inner) => {
    inner
      .whereExists((owners) => {
        owners.select(1).from('worktree_owners as wo_scope').whereRaw('wo_scope.worktree_id = ??', [columns.worktreeId]).andWhere('wo_scope.user_id', subject.id);
      })
      .orWhereIn(columns.othersCan, tiersAtLeast('view'));
  });
}

export interface WorktreeAccessRow {
  id: string;
  others_can: Tier;
  dangerously_allow_session_sharing: boolean | number;
  is_owner: number;
  [column: string]: unknown;
}

/** One worktree row plus whether `subject` owns it: the facts decide() needs, in one query. */
export async function loadWorktreeAccess(db: Database, worktreeId: string, subject: Subject): Promise<WorktreeAccessRow | undefined> {
  return db('worktrees as w')
    .select('w.*')
    .select(
      db.raw('EXISTS (SELECT 1 FROM worktree_owners wo WHERE wo.worktree_id = w.id AND wo.user_id = ?) AS is_owner', [subject.id]),
    )
    .where('w.id', worktreeId)
    .first();
}

export function factsOf(row: WorktreeAccessRow): WorktreeFacts {
  return {
    others_can: row.others_can,
    dangerously_allow_session_sharing: Boolean(row.dangerously_allow_session_sharing),
    isOwner: Boolean(row.is_owner),
  };
}
