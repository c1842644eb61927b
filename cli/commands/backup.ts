import type { Command } from 'commander';
import { CliError, runtimeOf, type GlobalOptions } from '../context.js';
import { readRunning } from '../../daemon/pidfile.js';

// Both work on the files directly, as the daemon user (see README "Running it on a shared box"):
// whoever may read the database file already has all of it, so this adds no new way to get it.
// An API route would hand every password hash and secret ciphertext to any admin token.

export function registerBackup(program: Command): void {
  program
    .command('backup <file>')
    .description('copy the database (consistent while the daemon runs), config and a manifest into one file; run as the daemon user')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const { createBackup, BackupError } = await import('../../daemon/backup/backup.js');
      try {
        const manifest = await createBackup(runtimeOf(globals), file);
        if (globals.json) console.log(JSON.stringify(manifest, null, 2));
        else {
          const rows = Object.values(manifest.tables).reduce((a, b) => a + b, 0);
          console.log(`backup written to ${file}: ${rows} rows in ${Object.keys(manifest.tables).length} tables, ${manifest.audit.count} audit events (chain verified), config included`);
          console.log('not included: the master secret and jwt.key; back them up separately (README, "Running it on a shared box")');
        }
      } catch (error) {
        if (error instanceof BackupError) throw new CliError(error.message);
        throw error;
      }
    });
}

export function registerRestore(program: Command): void {
  program
    .command('restore <file>')
    .description("replace the database and config with a backup's, after verifying its audit chain; the daemon must be stopped")
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const runtime = runtimeOf(globals, { allowMissingConfig: true });
      const running = readRunning(runtime.paths.pidFile);
      if (running) throw new CliError(`A daemon is running (pid ${running.pid}); stop it first with \`agor daemon stop\` (a restore under a running daemon would be overwritten or corrupt it)`);
      const { restoreBackup, BackupError } = await import('../../daemon/backup/backup.js');
      try {
        const report = await restoreBackup(runtime, file);
        if (globals.json) console.log(JSON.stringify(report, null, 2));
        else {
          console.log(`restored ${file} (made ${report.manifest.created_at}): audit chain verified, ${report.audit.count} events`);
          if (report.movedAside.length) console.log(`the previous files were kept: ${report.movedAside.join(', ')}`);
        }
      } catch (error) {
        if (error instanceof BackupError) throw new CliError(error.message);
        throw error;
      }
    });
}
