import type { Knex } from 'knex';

export const name = '001_users_and_api_keys';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.string('id', 36).primary();
    t.string('email', 254).notNullable().unique();
    t.string('name', 200).notNullable().defaultTo('');
    t.string('password', 100).notNullable();
    t.string('role', 16).notNullable();
    t.boolean('disabled').notNullable().defaultTo(false);
    t.string('unix_username', 32).nullable().unique();
    // Tokens and API-key logins issued before this instant are refused (disable, re-enable).
    t.string('sessions_revoked_at', 32).nullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
  });
  await knex.schema.createTable('api_keys', (t) => {
    t.string('id', 36).primary();
    t.string('user_id', 36).notNullable().references('users.id').onDelete('CASCADE');
    t.string('name', 100).notNullable();
    t.string('prefix', 20).notNullable();
    t.string('key_hash', 64).notNullable().unique();
    t.string('scope', 16).notNullable();
    t.string('expires_at', 32).nullable();
    t.string('revoked_at', 32).nullable();
    t.string('last_used_at', 32).nullable();
    t.string('created_at', 32).notNullable();
    t.index(['user_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('api_keys');
  await knex.schema.dropTable('users');
}
