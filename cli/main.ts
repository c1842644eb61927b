#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { describeError } from './errors.js';
import { COMMANDS, commandOf } from './command-table.js';
import { VERSION } from '../daemon/version.js';

const program = new Command('agor')
  .description('agor: run AI coding agents in git worktrees on a shared dev box, safely')
  .version(VERSION)
  .option('--config <path>', 'config file (default: $AGOR_CONFIG_PATH or $AGOR_HOME/config.yaml)')
  .option('--url <url>', 'daemon URL (default: $AGOR_URL, the running daemon, or config host:port)')
  .option('--json', 'print JSON')
  .showHelpAfterError()
  .exitOverride();

try {
  // Only the command being run is loaded; the others are listed by name for --help.
  for (const register of (await commandOf(process.argv.slice(2))?.load()) ?? []) register(program);
  for (const { name, description } of COMMANDS) if (!program.commands.some((c) => c.name() === name)) program.command(name).description(description);
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  const { message, code } = describeError(error);
  console.error(`agor: ${message.split('\n').join('\n  ')}`);
  process.exit(code);
}
