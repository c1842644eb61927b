import type { Command } from 'commander';
import { connect } from '../client.js';
import { CliError } from '../errors.js';
import type { GlobalOptions } from '../context.js';
import { saveToken } from '../context.js';
import { printObject, printRows } from '../output.js';
import { resolveUser } from '../lookup.js';
import { readPassword } from '../secret-input.js';
import { generatePassword } from '../../daemon/bootstrap/init.js';
import { usersPath, type PublicUser } from '../../daemon/services/users/users.shared.js';
import type { Paginated } from '@feathersjs/feathers';
import { unixNameForCreate } from './unix.js';

const COLUMNS = ['id', 'email', 'name', 'role', 'disabled', 'unix_username'];


export function registerUsers(program: Command): void {
  const user = program.command('user').description('manage users (admins and owners)');
  user
    .command('create')
    .description('create a user; without --password-stdin a password is generated and printed once')
    .requiredOption('--email <email>', 'email address (the login)')
    .option('--name <name>', 'display name')
    .option('--role <role>', 'viewer | member | admin | owner', 'member')
    .option('--password-stdin', 'read the password from stdin')
    .option('--unix', 'also give it a Unix account (agor_<local part of the email>; strict mode runs its sessions as it)')
    .option('--unix-name <name>', 'with --unix: the account name instead (agor_[a-z0-9_]{1,24})')
    .action(async (opts: { email: string; name?: string; role: string; passwordStdin?: boolean; unix?: boolean; unixName?: string }, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const { app } = await connect(globals);
      if (opts.unixName && !opts.unix) throw new CliError('--unix-name needs --unix');
      const unix = opts.unix ? { unix_username: unixNameForCreate(opts.email, opts.unixName) } : {};
      const password = opts.passwordStdin ? await readPassword(true) : generatePassword();
      const created = (await app.service(usersPath).create({ email: opts.email, name: opts.name, role: opts.role, password, ...unix })) as PublicUser;
      printObject({ ...created }, globals.json);
      if (!opts.passwordStdin) console.error(`Password (shown once): ${password}`);
    });
  user
    .command('list')
    .description('list users')
    .action(async (_opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const { app } = await connect(globals);
      const page = (await app.service(usersPath).find({ query: { $limit: 1000 } })) as Paginated<PublicUser>;
      printRows(page.data as never, COLUMNS, globals.json);
    });
  user
    .command('set-role <user> <role>')
    .description('change a user\'s role (user = id or email)')
    .action(async (ref: string, role: string, _opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const { app } = await connect(globals);
      const service = app.service(usersPath);
      const target = await resolveUser(app, ref);
      printObject({ ...((await service.patch(target.id, { role })) as PublicUser) }, globals.json);
    });
  for (const [name, disabled] of [['disable', true], ['enable', false]] as const) {
    user
      .command(`${name} <user>`)
      .description(disabled ? 'disable a user: its sockets close and its tokens and keys stop working' : 'enable a disabled user')
      .action(async (ref: string, _opts: unknown, cmd: Command) => {
        const globals = cmd.optsWithGlobals<GlobalOptions>();
        const { app } = await connect(globals);
        const service = app.service(usersPath);
        const target = await resolveUser(app, ref);
        printObject({ ...((await service.patch(target.id, { disabled })) as PublicUser) }, globals.json);
      });
  }
  user
    .command('passwd')
    .description('change your own password (asks for the current and the new one)')
    .option('--password-stdin', 'read "current\\nnew" from stdin')
    .action(async (opts: { passwordStdin?: boolean }, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const { app, url, runtime } = await connect(globals);
      let oldPassword: string;
      let newPassword: string;
      if (opts.passwordStdin) [oldPassword = '', newPassword = ''] = (await readPassword(true)).split('\n');
      else {
        oldPassword = await readPassword(false, 'Current password: ');
        newPassword = await readPassword(false, 'New password: ');
      }
      const result = (await app.service(usersPath).patch('me', { password: newPassword, old_password: oldPassword })) as { accessToken?: string };
      // The change ended every login made with the old password, this one's token included: keep the fresh one.
      if (result.accessToken) saveToken(runtime, { url, accessToken: result.accessToken });
      console.log('Password changed; your other logins were signed out');
    });
}
