import type { Command } from 'commander';
import readline from 'node:readline/promises';
import { anonymousClient } from '../client.js';
import { CliError } from '../errors.js';
import { daemonUrl, runtimeOf, saveToken, type GlobalOptions } from '../context.js';
import { readPassword } from '../secret-input.js';

async function askEmail(): Promise<string> {
  if (!process.stdin.isTTY) throw new CliError('Give --email when stdin is not a terminal');
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question('Email: ')).trim();
  } finally {
    rl.close();
  }
}

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('log in to the daemon; the token is stored 0600 in AGOR_HOME')
    .option('--email <email>', 'your email')
    .option('--password-stdin', 'read the password from stdin')
    .action(async (opts: { email?: string; passwordStdin?: boolean }, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const runtime = runtimeOf(globals);
      const url = daemonUrl(globals, runtime);
      const email = opts.email ?? (await askEmail());
      const password = await readPassword(opts.passwordStdin);
      const client = await anonymousClient(url);
      const result = (await client.service('authentication').create({ strategy: 'local', email, password })) as {
        accessToken: string;
        user: { email: string; role: string };
      };
      saveToken(runtime, { url, accessToken: result.accessToken });
      console.log(`Logged in to ${url} as ${result.user.email} (${result.user.role})`);
    });
  program
    .command('logout')
    .description('forget the stored token')
    .action(async (_opts: unknown, cmd: Command) => {
      const runtime = runtimeOf(cmd.optsWithGlobals<GlobalOptions>());
      const { rmSync } = await import('node:fs');
      rmSync(runtime.paths.cliToken, { force: true });
      console.log('Logged out');
    });
}
