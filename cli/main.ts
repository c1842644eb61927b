#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { FeathersError } from '@feathersjs/errors';
import { CliError } from './context.js';
import { ConfigError } from '../daemon/config/load.js';
import { VERSION } from '../daemon/version.js';
import { registerInit } from './commands/init.js';
import { registerDaemon } from './commands/daemon.js';
import { registerLogin } from './commands/login.js';
import { registerUsers } from './commands/users.js';
import { registerApiKeys } from './commands/apikeys.js';
import { registerAudit } from './commands/audit.js';
import { registerSecrets } from './commands/secrets.js';
import { registerConfig } from './commands/config.js';
import { registerRepos, registerWorktrees } from './commands/worktrees.js';
import { registerSessions } from './commands/sessions.js';
import { registerUnix } from './commands/unix.js';
import { registerDoctor } from './commands/doctor.js';
import { registerApprovals } from './commands/approvals.js';

/** One line on stderr a person can act on, and a non-zero exit code. */
function describe(error: unknown): { message: string; code: number } {
  if (error instanceof CliError) return { message: error.message, code: error.exitCode };
  if (error instanceof ConfigError) return { message: error.message, code: 2 };
  if (error instanceof FeathersError || (error as { className?: string })?.className) {
    const e = error as FeathersError;
    return { message: `${e.name}: ${e.message}`, code: 1 };
  }
  const cause = (error as { cause?: { code?: string } })?.cause;
  // undici reports every network failure as "fetch failed", and the Feathers REST client drops its (non-enumerable) cause.
  if (cause?.code === 'ECONNREFUSED' || (error as Error)?.message === 'fetch failed') return { message: 'Cannot reach the daemon: is it running? (agor daemon start)', code: 1 };
  return { message: (error as Error)?.message ?? String(error), code: 1 };
}

const program = new Command('agor')
  .description('agor: run AI coding agents in git worktrees on a shared dev box, safely')
  .version(VERSION)
  .option('--config <path>', 'config file (default: $AGOR_CONFIG_PATH or $AGOR_HOME/config.yaml)')
  .option('--url <url>', 'daemon URL (default: $AGOR_URL, the running daemon, or config host:port)')
  .option('--json', 'print JSON')
  .showHelpAfterError()
  .exitOverride();

registerInit(program);
registerDaemon(program);
registerLogin(program);
registerUsers(program);
registerApiKeys(program);
registerAudit(program);
registerSecrets(program);
registerConfig(program);
registerRepos(program);
registerWorktrees(program);
registerSessions(program);
registerUnix(program);
registerDoctor(program);
registerApprovals(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  const { message, code } = describe(error);
  console.error(`agor: ${message.split('\n').join('\n  ')}`);
  process.exit(code);
}
