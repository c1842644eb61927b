import type { Command } from 'commander';
import { initHome, isInitialised } from '../../daemon/bootstrap/init.js';
import { CliError, runtimeOf, type GlobalOptions } from '../context.js';
import { readStdin } from '../secret-input.js';
import os from 'node:os';

interface InitOptions {
  email?: string;
  name?: string;
  passwordStdin?: boolean;
  ifMissing?: boolean;
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create AGOR_HOME, its config, JWT key and database, and the first owner')
    .option('--email <email>', 'email of the first owner (default: <your login>@agor.localhost)')
    .option('--name <name>', 'display name of the first owner')
    .option('--password-stdin', 'read the first owner\'s password from stdin (default: generate one and print it once)')
    .option('--if-missing', 'do nothing when AGOR_HOME is already initialised')
    .action(async (opts: InitOptions, cmd: Command) => {
      const runtime = runtimeOf(cmd.optsWithGlobals<GlobalOptions>(), { allowMissingConfig: true });
      if (opts.ifMissing && isInitialised(runtime)) return;
      const password = opts.passwordStdin ? await readStdin() : undefined;
      if (opts.passwordStdin && !password) throw new CliError('--password-stdin given but stdin was empty');
      // `npm start` runs init without --email; any address a mail server takes is accepted (daemon/services/users/email.shared.ts).
      const email = opts.email ?? `${os.userInfo().username}@agor.localhost`;
      const result = await initHome(runtime, { email, password, name: opts.name });
      console.log(`AGOR_HOME ${result.home} ready (config ${runtime.paths.configPath}, database ${runtime.databaseFile})`);
      if (result.owner) {
        console.log(`First owner: ${result.owner.email}`);
        if (result.owner.generatedPassword) {
          console.log(`Password:    ${result.owner.generatedPassword}`);
          console.log('This password is shown once. Log in and change it: agor login, then the web UI or `agor user passwd`.');
        }
      } else {
        console.log('Users already exist; no owner was created.');
      }
    });
}
