// Decides at startup how user secrets are kept at rest: sealed under the master secret, or
// (only where allowed) as marked plaintext. Runs before the daemon serves anything, so a wrong
// or missing master secret stops the start instead of surfacing later as failing tasks.
import type { Application } from '../declarations.js';
import type { AgorConfig } from '../config/schema.js';
import type { Database } from '../db/database.js';
import { scrubFreedPages } from '../db/scrub.js';
import { StartupRefusal } from '../startup-checks.js';
import { USER_SECRETS_TABLE, type UserSecretRow } from '../services/user-secrets/user-secrets.schema.js';
import { MASTER_SECRET_ENV, MASTER_SECRET_FILE_ENV, MasterSecretError, loadMasterSecret } from './master-secret.js';
import { SecretBox, SecretBoxError, isPlain, kidOf, openAny } from './secret-box.js';
import { aadOf, sealForStorage } from './stored-secret.js';

declare module '../declarations.js' {
  interface AppSettings {
    /** Seals user secrets; null when no master secret is configured (marked plaintext). */
    secretBox: SecretBox | null;
  }
}

const HOW_TO_SET =
  `put the output of \`openssl rand -hex 32\` in a file only the daemon user can read (chmod 600) and set ${MASTER_SECRET_FILE_ENV} to its path (or set ${MASTER_SECRET_ENV})`;

export const PLAINTEXT_WARNING =
  `[SECURITY] No master secret is set: user secrets are stored as plaintext in the database. To encrypt them, ${HOW_TO_SET}; existing values are encrypted at the next start.`;

export interface SecretsAtRestOptions {
  config: AgorConfig;
  db: Database;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

/**
 * Loads the master secret and brings stored values in line with it. Returns the box the services
 * seal with, or null in (permitted) plaintext mode. Throws StartupRefusal, saying how to fix it,
 * when the secret is invalid or wrong for the stored values, or plaintext is not allowed.
 */
export async function prepareSecretsAtRest({ config, db, env, log }: SecretsAtRestOptions): Promise<SecretBox | null> {
  let loaded;
  try {
    loaded = loadMasterSecret(env);
  } catch (error) {
    if (error instanceof MasterSecretError) throw new StartupRefusal(`Master secret: ${error.message}`);
    throw error;
  }
  // Nothing the daemon spawns may inherit the secret through its environment.
  if (env === process.env) delete process.env[MASTER_SECRET_ENV];

  if (!loaded) {
    const sealed = countByKid(await db<UserSecretRow>(USER_SECRETS_TABLE).whereNot('value', 'like', 'plain:%').select('id', 'user_id', 'name', 'value'));
    const [kid, count] = [...sealed][0] ?? [];
    if (kid !== undefined) {
      throw new StartupRefusal(
        `${count} stored secret(s) are encrypted under master key ${kid}, but no master secret is set. Set ${MASTER_SECRET_FILE_ENV} (or ${MASTER_SECRET_ENV}) to the master secret whose key id is ${kid}.`,
      );
    }
    if (config.execution.worktree_rbac && !config.security.allow_plaintext_secrets) {
      throw new StartupRefusal(
        `execution.worktree_rbac is true but no master secret is set, so user secrets would be stored as plaintext on a shared daemon. To fix: ${HOW_TO_SET}; or accept plaintext secrets with security.allow_plaintext_secrets: true.`,
      );
    }
    log(PLAINTEXT_WARNING);
    return null;
  }

  const box = SecretBox.fromMasterSecret(loaded.secret);
  loaded.secret.fill(0);
  const encrypted = await encryptPlaintextSecrets(db, box);
  if (encrypted > 0) log(`encrypted ${encrypted} plaintext secrets under master key ${box.kid}`);
  return box;
}

/**
 * In ONE transaction: refuses if any value is sealed under another key (a wrong master secret),
 * then seals every marked-plaintext value under `box`. Returns how many were encrypted.
 */
export async function encryptPlaintextSecrets(db: Database, box: SecretBox): Promise<number> {
  const count = await db.transaction(async (trx) => {
    const rows = await trx<UserSecretRow>(USER_SECRETS_TABLE).select('id', 'user_id', 'name', 'value');
    const foreign = [...countByKid(rows.filter((r) => !isPlain(r.value)))].filter(([kid]) => kid !== box.kid);
    if (foreign.length > 0) {
      const described = foreign.map(([kid, n]) => `${n} under master key ${kid}`).join(', ');
      throw new StartupRefusal(
        `The master secret is wrong: it has key id ${box.kid}, but stored secrets were encrypted ${described}. ` +
          `Start with the master secret whose key id is ${foreign[0]![0]} (if a rotation was interrupted, the old secret still applies; re-run \`agor secrets rotate\`).`,
      );
    }
    let encrypted = 0;
    for (const row of rows.filter((r) => isPlain(r.value))) {
      await trx(USER_SECRETS_TABLE).where('id', row.id).update(sealForStorage(box, openStored(row, null), aadOf(row)));
      encrypted += 1;
    }
    return encrypted;
  });
  if (count > 0) await scrubFreedPages(db);
  return count;
}

/** Key id -> number of values sealed under it. A malformed value stops the start, naming its row. */
function countByKid(rows: Pick<UserSecretRow, 'id' | 'user_id' | 'name' | 'value'>[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) {
    let kid: string | null;
    try {
      kid = kidOf(row.value);
    } catch (error) {
      throw malformedRow(row, error);
    }
    if (kid !== null) counts.set(kid, (counts.get(kid) ?? 0) + 1);
  }
  return counts;
}

function openStored(row: Pick<UserSecretRow, 'id' | 'user_id' | 'name' | 'value'>, box: SecretBox | null): string {
  try {
    return openAny(row.value, aadOf(row), box);
  } catch (error) {
    throw malformedRow(row, error);
  }
}

function malformedRow(row: Pick<UserSecretRow, 'id' | 'user_id' | 'name'>, error: unknown): Error {
  if (!(error instanceof SecretBoxError)) return error as Error;
  return new StartupRefusal(
    `Stored secret ${row.name} of user ${row.user_id} (row ${row.id}) cannot be read: ${error.message}. Remove that row from the user_secrets table and set the secret again.`,
  );
}

/** The box services seal with. Throws if the daemon was assembled without preparing secrets at rest. */
export function secretBoxOf(app: Application): SecretBox | null {
  const box = app.get('secretBox');
  if (box === undefined) throw new Error('secret storage is not initialised (startDaemon sets it)');
  return box;
}
