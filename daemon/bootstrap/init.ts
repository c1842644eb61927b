import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Runtime } from '../config/load.js';
import { ensurePrivateDir, writePrivateFile } from '../config/home.js';
import { openDatabase } from '../db/database.js';
import { UsersService } from '../services/users/users.class.js';
import { userCreateSchema } from '../services/users/users.schema.js';
import { parseInput } from '../services/validate.js';
import { packageRoot } from '../version.js';
import { appendAudit } from '../audit/chain.js';

export interface InitOptions {
  email: string;
  /** When absent a password is generated and returned, to be shown once. */
  password?: string;
  name?: string;
}

export interface InitResult {
  home: string;
  createdConfig: boolean;
  createdJwtKey: boolean;
  /** Set when this run created the first owner. */
  owner?: { email: string; generatedPassword?: string };
}

export function generatePassword(): string {
  return crypto.randomBytes(18).toString('base64url');
}

/**
 * Creates AGOR_HOME (0700), a config from the documented defaults, the JWT key, the database and
 * the first owner. Local only: there is no API that creates the first user. Safe to re-run: what
 * exists is kept, and no second owner is created once any user exists.
 */
export async function initHome(runtime: Runtime, options: InitOptions): Promise<InitResult> {
  const { paths } = runtime;
  // Checked before anything is written: a refused email or password must not leave a home that
  // looks initialised (`--if-missing` would then skip it) but has no owner.
  const password = options.password ?? generatePassword();
  const data = parseInput(userCreateSchema, { email: options.email, password, name: options.name, role: 'owner' });
  process.umask(0o077);
  ensurePrivateDir(paths.home);
  const result: InitResult = { home: paths.home, createdConfig: false, createdJwtKey: false };
  if (!fs.existsSync(paths.configPath)) {
    writePrivateFile(paths.configPath, fs.readFileSync(path.join(packageRoot(), 'config.example.yaml')));
    result.createdConfig = true;
  }
  if (!fs.existsSync(paths.jwtKey)) {
    writePrivateFile(paths.jwtKey, crypto.randomBytes(64).toString('base64url') + '\n');
    result.createdJwtKey = true;
  }
  const db = await openDatabase(runtime.databaseFile);
  try {
    const [{ count }] = await db('users').count({ count: '*' });
    if (Number(count) === 0) {
      const owner = await new UsersService(db).create(data);
      await appendAudit(db, { actor: null, actor_label: 'agor init', action: 'user.created', target_type: 'user', target_id: owner.id, details: { email: owner.email, role: owner.role } });
      result.owner = { email: data.email, generatedPassword: options.password ? undefined : password };
    }
  } finally {
    await db.destroy();
  }
  return result;
}

/** Whether `agor init` has run for this home (the JWT key and database exist). */
export function isInitialised(runtime: Runtime): boolean {
  return fs.existsSync(runtime.paths.jwtKey) && fs.existsSync(runtime.databaseFile);
}
