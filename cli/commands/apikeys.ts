import type { Command } from 'commander';
import type { Paginated } from '@feathersjs/feathers';
import { connect, type GlobalOptions } from '../context.js';
import { printObject, printRows } from '../output.js';
import { apiKeysPath, type PublicApiKey } from '../../daemon/services/api-keys/api-keys.shared.js';

export function registerApiKeys(program: Command): void {
  const apikey = program.command('apikey').description('your API keys (Authorization: Bearer <key>)');
  apikey
    .command('create')
    .description('create a key; it is shown once')
    .requiredOption('--name <name>', 'what the key is for')
    .option('--scope <scope>', 'full | read', 'full')
    .option('--expires-in-days <n>', 'days until it expires', (v) => Number.parseInt(v, 10))
    .action(async (opts: { name: string; scope: string; expiresInDays?: number }, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const created = (await connect(globals)
        .app.service(apiKeysPath)
        .create({ name: opts.name, scope: opts.scope, ...(opts.expiresInDays !== undefined && { expires_in_days: opts.expiresInDays }) })) as PublicApiKey;
      printObject({ ...created }, globals.json);
      if (!globals.json) console.error('The key is shown once: store it now.');
    });
  apikey
    .command('list')
    .description('list your keys (never the keys themselves)')
    .action(async (_opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const page = (await connect(globals).app.service(apiKeysPath).find({ query: { $limit: 1000 } })) as Paginated<PublicApiKey>;
      printRows(page.data as never, ['id', 'name', 'prefix', 'scope', 'expires_at', 'revoked_at', 'last_used_at'], globals.json);
    });
  apikey
    .command('revoke <id>')
    .description('revoke a key: it stops working at once')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      printObject({ ...((await connect(globals).app.service(apiKeysPath).remove(id)) as PublicApiKey) }, globals.json);
    });
}
