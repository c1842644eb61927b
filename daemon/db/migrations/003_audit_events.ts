import type { Knex } from 'knex';

export const name = '003_audit_events';

const GENESIS_HASH = '0'.repeat(64);

export async function up(knex: Knex): Promise<void> {
  // seq is assigned by the audit writer (head.seq + 1), never by the database, so a deleted
  // row's number is not silently reused.
  await knex.schema.createTable('audit_events', (t) => {
    t.integer('seq').primary();
    t.string('at', 32).notNullable();
    t.string('actor', 64).nullable();
    t.string('actor_label', 254).notNullable();
    t.string('action', 64).notNullable();
    t.string('target_type', 64).nullable();
    t.string('target_id', 256).nullable();
    t.string('worktree_id', 64).nullable();
    t.string('decision', 8).nullable();
    t.text('details').nullable();
    t.string('prev_hash', 64).notNullable();
    t.string('hash', 64).notNullable();
    t.index(['actor']);
    t.index(['action']);
    t.index(['target_id']);
    t.index(['worktree_id']);
    t.index(['at']);
  });
  // The last seq and hash, written in the same transaction as each append: deleting the newest
  // rows leaves an intact but shorter chain, which only this record reveals.
  await knex.schema.createTable('audit_head', (t) => {
    t.integer('id').primary();
    t.integer('seq').notNullable();
    t.string('hash', 64).notNullable();
  });
  await knex('audit_head').insert({ id: 1, seq: 0, hash: GENESIS_HASH });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_head');
  await knex.schema.dropTable('audit_events');
}
