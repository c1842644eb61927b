import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Paginated } from '@feathersjs/feathers';
import { connect } from '../client.js';
import { CliError } from '../errors.js';
import { runtimeOf, type GlobalOptions } from '../context.js';
import { printObject, printRows } from '../output.js';
import { promptHidden, readStdin } from '../secret-input.js';
import { readRunning } from '../../daemon/pidfile.js';
import { openDatabase } from '../../daemon/db/database.js';
import { loadMasterSecret, MASTER_SECRET_ENV, MASTER_SECRET_FILE_ENV, type LoadedMasterSecret } from '../../daemon/crypto/master-secret.js';
import { SecretBox } from '../../daemon/crypto/secret-box.js';
import { rotateMasterSecret } from '../../daemon/crypto/rotation.js';
import { SECRET_KINDS, userSecretsPath, type PublicUserSecret } from '../../daemon/services/user-secrets/user-secrets.shared.js';

const COLUMNS = ['name', 'kind', 'fingerprint', 'updated_at'];

/** The value comes from a pipe, or a prompt that does not echo; never from argv (world-readable in /proc). */
async function readValue(name: string): Promise<string> {
  const value = process.stdin.isTTY ? await promptHidden(`Value for ${name} (not shown): `) : await readStdin();
  if (value.length === 0) throw new CliError(`No value given for ${name}: pipe it on stdin or type it at the prompt`);
  return value;
}

function boxOf(loaded: LoadedMasterSecret | null): SecretBox | null {
  if (!loaded) return null;
  const box = SecretBox.fromMasterSecret(loaded.secret);
  loaded.secret.fill(0);
  return box;
}

/**
 * Re-encrypts AGOR_HOME's secrets under the master secret in `newSecretFile`. Local and offline:
 * a running daemon holds the current key, so it must be stopped first.
 */
async function rotateLocally(globals: GlobalOptions, newSecretFile: string): Promise<void> {
  const runtime = runtimeOf(globals);
  const running = readRunning(runtime.paths.pidFile);
  if (running) {
    throw new CliError(`The daemon is running (pid ${running.pid}) and holds the current master key: stop it first (agor daemon stop), rotate, then start it with the new secret`);
  }
  if (!fs.existsSync(runtime.databaseFile)) throw new CliError(`No database at ${runtime.databaseFile}: nothing to rotate`);
  const newFile = path.resolve(newSecretFile);
  const current = loadMasterSecret(process.env);
  const currentSource = current?.source;
  const oldBox = boxOf(current);
  const newBox = boxOf(loadMasterSecret({ [MASTER_SECRET_FILE_ENV]: newFile }))!;
  const db = await openDatabase(runtime.databaseFile);
  let result;
  try {
    result = await rotateMasterSecret(db, oldBox, newBox);
  } finally {
    await db.destroy();
  }
  const from = oldBox ? `master key ${oldBox.kid}` : 'plaintext';
  console.log(`Re-encrypted ${result.reencrypted + result.encrypted} secrets from ${from} to master key ${newBox.kid}` + (result.encrypted ? ` (${result.encrypted} were plaintext)` : '') + '.');
  const unset = currentSource === 'env' ? ` and remove ${MASTER_SECRET_ENV}` : '';
  console.log(`Now set ${MASTER_SECRET_FILE_ENV}=${newFile}${unset} before starting the daemon.`);
  if (oldBox) console.log('The old master secret no longer opens any value: destroy it once the daemon has started.');
}

export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description('your secrets (agent API keys, environment variables): write-only');
  secrets
    .command('set <name>')
    .description('set or replace a secret; the value is read from stdin when piped, else asked for without echo')
    .option('--kind <kind>', `${SECRET_KINDS.join(' | ')} (default: agent_key for known agent API key names, else env)`)
    .allowExcessArguments(false)
    .addHelpText('after', '\nThe value is never taken from the command line: every local user can read command lines.')
    .action(async (name: string, opts: { kind?: string }, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      if (opts.kind !== undefined && !(SECRET_KINDS as readonly string[]).includes(opts.kind)) {
        throw new CliError(`--kind must be one of ${SECRET_KINDS.join(', ')}`);
      }
      const service = (await connect(globals)).app.service(userSecretsPath);
      const value = await readValue(name);
      const kind = opts.kind ? { kind: opts.kind } : {};
      let stored: PublicUserSecret;
      try {
        stored = (await service.create({ name, value, ...kind })) as PublicUserSecret;
      } catch (error) {
        if ((error as { name?: string }).name !== 'Conflict') throw error;
        stored = (await service.patch(name, { value, ...kind })) as PublicUserSecret;
      }
      if (globals.json) printObject({ ...stored }, true);
      else console.log(`${stored.name} set (${stored.kind}${stored.fingerprint ? `, fingerprint ${stored.fingerprint}` : ''})`);
    });
  secrets
    .command('list')
    .description('list your secrets: names and fingerprints, never values')
    .action(async (_opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const { app } = await connect(globals);
      const page = (await app.service(userSecretsPath).find({ query: { $limit: 1000 } })) as Paginated<PublicUserSecret>;
      printRows(page.data as never, COLUMNS, globals.json);
    });
  secrets
    .command('rm <name>')
    .description('remove a secret')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const { app } = await connect(globals);
      const removed = (await app.service(userSecretsPath).remove(name)) as PublicUserSecret;
      if (globals.json) printObject({ ...removed }, true);
      else console.log(`${removed.name} removed`);
    });
  secrets
    .command('rotate')
    .description(`re-encrypt every stored secret under a new master secret (run locally, daemon stopped; the current one comes from ${MASTER_SECRET_ENV} or ${MASTER_SECRET_FILE_ENV})`)
    .requiredOption('--new-secret-file <file>', 'file holding the new master secret (mode 0600, owned by you; e.g. openssl rand -hex 32 > F)')
    .action(async (opts: { newSecretFile: string }, cmd: Command) => {
      await rotateLocally(cmd.optsWithGlobals<GlobalOptions>(), opts.newSecretFile);
    });
}
