import type { Knex } from 'knex';

export const name = '002_user_secrets';

/**
 * Per-user secrets. `value` holds only the stored form (`v1:<kid>:...` ciphertext, or `plain:...`
 * when no master secret is configured), never a bare value. A user's secrets go with the user.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('user_secrets', (t) => {
    t.string('id', 36).primary();
    t.string('user_id', 36).notNullable().references('users.id').onDelete('CASCADE');
    t.string('name', 128).notNullable();
    t.enu('kind', ['agent_key', 'env']).notNullable();
    t.text('value').notNullable();
    // Keyed hash prefix; null while the value is stored without a master secret (no key to hash with).
    t.string('fingerprint', 16).nullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
    t.unique(['user_id', 'name']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('user_secrets');
}
