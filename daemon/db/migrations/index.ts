import type { Knex } from 'knex';
import * as m001 from './001_users_and_api_keys.js';
import * as m002 from './002_user_secrets.js';
import * as m003 from './003_audit_events.js';
import * as m004 from './004_worktrees_sessions.js';
import * as m005 from './005_password_changed_at.js';
import * as m006 from './006_owner_lookup_index.js';
import * as m007 from './007_tool_approvals.js';

interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Migrations in order. Compiled in, so the bundle needs no migrations directory at run time. */
const MIGRATIONS: Migration[] = [m001, m002, m003, m004, m005, m006, m007];

export const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: (m) => m.name,
  getMigration: async (m) => m,
};
