import type { Knex } from 'knex';

export const name = '007_tool_approvals';

/**
 * Tool approvals (issue 16): each session's permission mode, each worktree's owner policy, and one
 * row per asked tool call with its answer (the session grants are the rows answered "for the
 * session"). Tasks gain the status `awaiting_permission`, longer than the old 16-character column.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (t) => {
    t.string('permission_mode', 16).notNullable().defaultTo('ask');
  });
  await knex.schema.alterTable('worktrees', (t) => {
    t.text('tool_policy').nullable(); // JSON: { allow_all, rules } (daemon/policy/rules.ts)
  });
  // SQLite does not enforce string lengths (and altering would rebuild the table under its
  // foreign keys); other databases get the wider column.
  if (!/sqlite/i.test(String(knex.client.config.client))) {
    await knex.schema.alterTable('tasks', (t) => {
      t.string('status', 32).notNullable().alter();
    });
  }
  await knex.schema.createTable('tool_approvals', (t) => {
    t.string('id', 36).primary();
    t.string('task_id', 36).notNullable().references('tasks.id').onDelete('CASCADE');
    t.string('session_id', 36).notNullable().references('sessions.id').onDelete('CASCADE');
    t.string('worktree_id', 36).notNullable().references('worktrees.id').onDelete('CASCADE');
    t.string('tool', 200).notNullable();
    t.text('input').notNullable(); // JSON, in full: what the person approves
    t.string('rule', 200).notNullable();
    t.string('reason', 1000).notNullable();
    // pending | allowed | denied | timed_out | cancelled
    t.string('status', 16).notNullable();
    // once | session (allowed only)
    t.string('scope', 16).nullable();
    t.string('command_prefix', 500).nullable();
    t.string('message', 2000).nullable();
    t.string('answered_by', 36).nullable().references('users.id').onDelete('SET NULL');
    t.string('created_at', 32).notNullable();
    t.string('answered_at', 32).nullable();
    t.index(['worktree_id', 'status']);
    t.index(['session_id', 'status']);
    t.index(['task_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('tool_approvals');
  await knex.schema.alterTable('worktrees', (t) => t.dropColumn('tool_policy'));
  await knex.schema.alterTable('sessions', (t) => t.dropColumn('permission_mode'));
}
