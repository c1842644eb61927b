import type { Knex } from 'knex';
import * as m001 from './001_users_and_api_keys.js';

interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Migrations in order. Compiled in, so the bundle needs no migrations directory at run time. */
const MIGRATIONS: Migration[] = [m001];

export const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: (m) => m.name,
  getMigration: async (m) => m,
};
