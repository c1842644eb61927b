import type { Knex } from 'knex';
import type { Paginated, Params } from '@feathersjs/feathers';
import type { Application } from '../declarations.js';
import { policyOf, subjectOf } from '../rbac/authorize.js';
import { visibleCount, whereWorktreeVisible } from '../rbac/scope.js';
import { DEFAULT_PAGE, pageTotal } from './pagination.js';

/**
 * A page of rows of `table` (which has a worktree_id column) that the caller may view: one SQL
 * statement joining the worktree, scoped by the same rule decide() applies to single records.
 * Admin and owner roles get no implicit access here: contents follow ownership and tiers only.
 */
export async function findVisible<T>(
  app: Application,
  table: string,
  params: Params,
  filters: Record<string, unknown>,
  order: [string, 'asc' | 'desc'][],
  map: (row: any) => T,
): Promise<Paginated<T>> {
  const subject = subjectOf(params);
  const { $limit = DEFAULT_PAGE, $skip = 0 } = (params.query ?? {}) as { $limit?: number; $skip?: number };
  const db = app.get('db');
  const columns = (worktreeAlias: string) => ({ worktreeId: `${worktreeAlias}.id`, othersCan: `${worktreeAlias}.others_can` });
  /** Rows of `table` with their worktree under `alias` / `worktreeAlias`, filtered, before the view rule. */
  const filtered = (alias: string, worktreeAlias: string) => {
    const q: Knex.QueryBuilder = db(`${table} as ${alias}`).join(`worktrees as ${worktreeAlias}`, `${worktreeAlias}.id`, `${alias}.worktree_id`);
    for (const [column, value] of Object.entries(filters)) if (value !== undefined) q.where(`${alias}.${column}`, value as never);
    return q;
  };
  /** Rows of `table` this caller may see, under `alias`: filters plus the view rule of decide(). */
  const visible = (alias: string, worktreeAlias: string) => whereWorktreeVisible(filtered(alias, worktreeAlias), subject, policyOf(app), columns(worktreeAlias));
  /** Their number, as one scalar expression named `as` (see visibleCount). */
  const counted = (as: string) => visibleCount(db, () => filtered('c', 'cw'), subject, policyOf(app), columns('cw'), as);
  // One statement: the page, plus the total as uncorrelated scalar subqueries (SQLite runs them
  // once). A window COUNT would materialise every visible row, message bodies included.
  const query = visible('t', 'w').select('t.*').select(counted('total_count')).limit($limit).offset($skip);
  for (const [column, direction] of order) query.orderBy(`t.${column}`, direction);
  const rows = await query;
  const total = await pageTotal(rows, $skip, () => db.select(counted('total')));
  return { total, limit: $limit, skip: $skip, data: rows.map(({ total_count: _t, ...row }: any) => map(row)) };
}
