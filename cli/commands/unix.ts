import type { Command } from 'commander';
import { connect } from '../client.js';
import { CliError } from '../errors.js';
import type { GlobalOptions } from '../context.js';
import { printObject } from '../output.js';
import { resolveUser } from '../lookup.js';
import { usersPath, type PublicUser } from '../../daemon/services/users/users.shared.js';
import { unixSyncPath, type SyncReport } from '../../daemon/unix/unix-sync.shared.js';
import { unixUsernameFromEmail } from '../../daemon/unix/names.js';

/** The unix_username `agor user create --unix` asks for: --unix-name, else agor_<local part>. */
export function unixNameForCreate(email: string, explicit?: string): string {
  if (explicit) return explicit;
  try {
    return unixUsernameFromEmail(email);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}


function printReport(report: SyncReport, json: boolean | undefined): void {
  if (json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  console.log(`mode: ${report.mode}${report.dry_run ? ' (dry run: nothing was changed)' : ''}`);
  if (report.actions.length === 0) console.log('nothing to do: groups, memberships and modes match the database');
  for (const a of report.actions) {
    console.log(`${a.status.padEnd(7)}  ${a.action} ${a.target}${a.detail ? ` (${a.detail})` : ''}${a.error ? `: ${a.error}` : ''}`);
  }
  for (const note of report.notes) console.log(`note     ${note}`);
}

/** `agor user link-unix|unlink-unix`, added to the `user` command registerUsers made. */
export function registerUserUnix(program: Command): void {
  const user = program.commands.find((c) => c.name() === 'user');
  if (!user) throw new Error('registerUserUnix must run after registerUsers');
  user
    .command('link-unix <user> <unixName>')
    .description('link a user (id or email) to its Unix account agor_<name>, creating the account in insulated/strict mode (admins and owners)')
    .action(async (ref: string, unixName: string, _opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const { app } = await connect(globals);
      const target = await resolveUser(app, ref);
      printObject({ ...((await app.service(usersPath).patch(target.id, { unix_username: unixName })) as PublicUser) }, globals.json);
    });
  user
    .command('unlink-unix <user>')
    .description("remove a user's Unix account link (the account itself is kept; strict mode then refuses its sessions)")
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const { app } = await connect(globals);
      const target = await resolveUser(app, ref);
      printObject({ ...((await app.service(usersPath).patch(target.id, { unix_username: null })) as PublicUser) }, globals.json);
    });
}

export function registerAdmin(program: Command): void {
  const admin = program.command('admin').description('administration (admins and owners)');
  admin
    .command('sync-unix')
    .description('reconcile Unix groups, memberships and worktree modes with the database (insulated/strict; idempotent)')
    .option('--dry-run', 'show what would change, change nothing')
    .option('--prune', 'also remove agor_wt_* groups no worktree of this daemon uses')
    .action(async (opts: { dryRun?: boolean; prune?: boolean }, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const { app } = await connect(globals);
      const report = (await app.service(unixSyncPath).create({ dry_run: Boolean(opts.dryRun), prune: Boolean(opts.prune) })) as SyncReport;
      printReport(report, globals.json);
      if (report.failed > 0) process.exitCode = 1;
    });
}
