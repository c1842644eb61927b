import type { Knex } from 'knex';

export const name = '005_password_changed_at';

/**
 * A password change ends the user's login tokens issued before it (DESIGN §4). API keys are separate
 * credentials with their own revocation, so this is its own column rather than sessions_revoked_at,
 * which ends API keys too.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.string('password_changed_at', 32).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('password_changed_at');
  });
}
