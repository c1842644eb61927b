import type { Knex } from 'knex';

export const name = '006_owner_lookup_index';

/**
 * The list order of the worktrees others may see (others_can above `none`, see rbac/scope.ts
 * whereWorktreeOpen): a member's page of open worktrees is read in order from this partial index
 * with an early exit, however few of them are open.
 *
 * Scoped lists also start from "the worktrees this user owns" (rbac/scope.ts): with (user_id,
 * worktree_id) that list is read from the index alone; the old (user_id) index needed a table
 * lookup per owned row and is a prefix of the new one, so it goes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('worktree_owners', (t) => {
    t.index(['user_id', 'worktree_id'], 'worktree_owners_user_worktree_index');
    t.dropIndex(['user_id']);
  });
  await knex.raw(`CREATE INDEX worktrees_open_order_index ON worktrees (created_at, id) WHERE others_can <> 'none'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX worktrees_open_order_index');
  await knex.schema.alterTable('worktree_owners', (t) => {
    t.index(['user_id']);
    t.dropIndex(['user_id', 'worktree_id'], 'worktree_owners_user_worktree_index');
  });
}
