import type { Command } from 'commander';
import type { Paginated } from '@feathersjs/feathers';
import { connect } from '../client.js';
import { CliError } from '../errors.js';
import type { GlobalOptions } from '../context.js';
import { printObject, printRows } from '../output.js';
import { apiKeysPath, DEFAULT_API_KEY_EXPIRY_DAYS, type PublicApiKey } from '../../daemon/services/api-keys/api-keys.shared.js';

export function registerApiKeys(program: Command): void {
  const apikey = program.command('apikey').description('your API keys (Authorization: Bearer <key>)');
  apikey
    .command('create')
    .description('create a key; it is shown once')
    .requiredOption('--name <name>', 'what the key is for')
    .option('--scope <scope>', 'full | read', 'full')
    .option('--expires-in-days <n>', `days until it expires, or "never" (default: ${DEFAULT_API_KEY_EXPIRY_DAYS}, as in the web UI)`, String(DEFAULT_API_KEY_EXPIRY_DAYS))
    .action(async (opts: { name: string; scope: string; expiresInDays: string }, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const days = opts.expiresInDays === 'never' ? undefined : Number(opts.expiresInDays);
      if (days !== undefined && !Number.isInteger(days)) throw new CliError('--expires-in-days must be a whole number of days or "never"', 2);
      const { app } = await connect(globals);
      const created = (await app
        .service(apiKeysPath)
        .create({ name: opts.name, scope: opts.scope, ...(days !== undefined && { expires_in_days: days }) })) as PublicApiKey;
      printObject({ ...created }, globals.json);
      if (!globals.json) console.error('The key is shown once: store it now.');
    });
  apikey
    .command('list')
    .description('list your keys (never the keys themselves)')
    .action(async (_opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const { app } = await connect(globals);
      const page = (await app.service(apiKeysPath).find({ query: { $limit: 1000 } })) as Paginated<PublicApiKey>;
      printRows(page.data as never, ['id', 'name', 'prefix', 'scope', 'expires_at', 'revoked_at', 'last_used_at'], globals.json);
    });
  apikey
    .command('revoke <id>')
    .description('revoke a key: it stops working at once')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const { app } = await connect(globals);
      printObject({ ...((await app.service(apiKeysPath).remove(id)) as PublicApiKey) }, globals.json);
    });
}
