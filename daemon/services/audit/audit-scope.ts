import type { Knex } from 'knex';
import type { Database } from '../../db/database.js';
import type { Role } from '../../auth/roles.js';
import { decide } from '../../rbac/decide.js';

/**
 * Which audit events a user may read, as something one SQL condition can express:
 * - all: admins and owners (global role admin or above);
 * - worktrees: only events whose worktree_id is in the set (a list or a subquery);
 * - none: nothing (the service answers Forbidden).
 */
export type AuditScope = { kind: 'all' } | { kind: 'worktrees'; worktreeIds: readonly string[] | Knex.QueryBuilder } | { kind: 'none' };

export function auditScopeFor(user: { id: string; role: Role } | undefined, db: Database): AuditScope {
  if (!user) return { kind: 'none' };
  if (decide(user, 'audit.read_all').allow) return { kind: 'all' };
  // Worktree owners read their worktrees' events, break-glass by admins included (DESIGN §4).
  return { kind: 'worktrees', worktreeIds: db('worktree_owners').select('worktree_id').where('user_id', user.id) };
}

/** Whether the scope can contain anything at all: users who own no worktree are refused outright. */
export async function auditScopeIsEmpty(scope: AuditScope, user: { id: string } | undefined, db: Database): Promise<boolean> {
  if (scope.kind === 'all') return false;
  if (scope.kind === 'none' || !user) return true;
  return !(await db('worktree_owners').where('user_id', user.id).first('worktree_id'));
}

/** Restricts a query on audit_events to the scope, as one WHERE condition (no filtering after fetching). */
export function applyAuditScope<Q extends Knex.QueryBuilder>(query: Q, scope: AuditScope): Q {
  if (scope.kind === 'all') return query;
  if (scope.kind === 'worktrees') return query.whereIn('worktree_id', scope.worktreeIds as string[]) as Q;
  return query.whereRaw('1 = 0') as Q;
}
