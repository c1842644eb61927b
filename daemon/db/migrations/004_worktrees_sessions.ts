import type { Knex } from 'knex';

export const name = '004_worktrees_sessions';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('repos', (t) => {
    t.string('id', 36).primary();
    t.string('name', 64).notNullable().unique();
    t.string('path', 1024).notNullable();
    t.string('source', 2048).notNullable();
    t.boolean('managed').notNullable().defaultTo(false); // cloned by agor into its data dir
    t.string('default_branch', 255).nullable();
    t.string('created_by', 36).nullable().references('users.id').onDelete('SET NULL');
    t.string('created_at', 32).notNullable();
  });
  await knex.schema.createTable('worktrees', (t) => {
    t.string('id', 36).primary();
    t.string('repo_id', 36).notNullable().references('repos.id');
    t.string('name', 64).notNullable();
    t.string('path', 1024).notNullable();
    t.string('branch', 255).notNullable();
    t.string('others_can', 16).notNullable().defaultTo('session');
    t.string('others_fs_access', 16).notNullable().defaultTo('read');
    t.boolean('dangerously_allow_session_sharing').notNullable().defaultTo(false);
    t.string('unix_group', 32).nullable();
    t.boolean('archived').notNullable().defaultTo(false);
    t.string('created_by', 36).nullable().references('users.id').onDelete('SET NULL');
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
    t.unique(['repo_id', 'name']);
    t.index(['others_can']);
    t.index(['created_at', 'id']); // list order of worktrees.find
  });
  await knex.schema.createTable('worktree_owners', (t) => {
    t.string('worktree_id', 36).notNullable().references('worktrees.id').onDelete('CASCADE');
    t.string('user_id', 36).notNullable().references('users.id').onDelete('CASCADE');
    t.string('added_by', 36).nullable();
    t.string('added_at', 32).notNullable();
    t.primary(['worktree_id', 'user_id']);
    t.index(['user_id']);
  });
  await knex.schema.createTable('sessions', (t) => {
    t.string('id', 36).primary();
    t.string('worktree_id', 36).notNullable().references('worktrees.id').onDelete('CASCADE');
    t.string('agent', 64).notNullable();
    t.string('title', 200).notNullable().defaultTo('');
    t.string('created_by', 36).notNullable().references('users.id');
    t.string('parent_session_id', 36).nullable().references('sessions.id').onDelete('SET NULL');
    t.string('forked_from', 36).nullable().references('sessions.id').onDelete('SET NULL');
    t.string('resume_handle', 512).nullable();
    t.boolean('archived').notNullable().defaultTo(false);
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
    t.index(['worktree_id']);
  });
  await knex.schema.createTable('tasks', (t) => {
    t.string('id', 36).primary();
    t.string('session_id', 36).notNullable().references('sessions.id').onDelete('CASCADE');
    t.string('worktree_id', 36).notNullable().references('worktrees.id').onDelete('CASCADE');
    t.text('prompt').notNullable();
    t.string('created_by', 36).notNullable().references('users.id');
    t.string('executed_as', 36).notNullable().references('users.id');
    t.string('status', 16).notNullable();
    t.string('reason', 500).nullable();
    t.string('created_at', 32).notNullable();
    t.string('started_at', 32).nullable();
    t.string('finished_at', 32).nullable();
    t.index(['session_id']);
    t.index(['worktree_id']);
  });
  await knex.schema.createTable('messages', (t) => {
    t.increments('id');
    t.string('task_id', 36).notNullable().references('tasks.id').onDelete('CASCADE');
    t.string('session_id', 36).notNullable().references('sessions.id').onDelete('CASCADE');
    t.string('worktree_id', 36).notNullable().references('worktrees.id').onDelete('CASCADE');
    t.string('type', 32).notNullable();
    t.text('content').notNullable();
    t.text('raw').nullable();
    t.string('created_at', 32).notNullable();
    t.index(['task_id']);
    t.index(['session_id']);
    t.index(['worktree_id']);
  });
  await knex.schema.createTable('boards', (t) => {
    t.string('id', 36).primary();
    t.string('name', 100).notNullable();
    t.string('created_by', 36).nullable().references('users.id').onDelete('SET NULL');
    t.string('created_at', 32).notNullable();
  });
  await knex.schema.createTable('board_items', (t) => {
    t.string('id', 36).primary();
    t.string('board_id', 36).notNullable().references('boards.id').onDelete('CASCADE');
    t.string('worktree_id', 36).notNullable().references('worktrees.id').onDelete('CASCADE');
    t.float('x').notNullable();
    t.float('y').notNullable();
    t.unique(['board_id', 'worktree_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['board_items', 'boards', 'messages', 'tasks', 'sessions', 'worktree_owners', 'worktrees', 'repos']) {
    await knex.schema.dropTable(table);
  }
}
