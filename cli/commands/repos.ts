import type { Command } from 'commander';
import { connect } from '../client.js';
import type { GlobalOptions } from '../context.js';
import { printObject, printRows } from '../output.js';
import { emailsById, findAll, repoId } from '../lookup.js';
import { reposPath, type PublicRepo } from '../../daemon/services/repos/repos.shared.js';

const globalsOf = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

export function registerRepos(program: Command): void {
  const repo = program.command('repo').description('git repositories the daemon knows');
  repo
    .command('add <pathOrUrl>')
    .description('register a local repository (admins) or clone a URL')
    .option('--name <name>', 'short name (default: from the path or URL)')
    .action(async (source: string, opts: { name?: string }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(source);
      const data = { ...(isUrl ? { url: source } : { path: (await import('node:path')).resolve(source) }), ...(opts.name && { name: opts.name }) };
      const { app } = await connect(globals);
      printObject({ ...((await app.service(reposPath).create(data)) as PublicRepo) }, globals.json);
    });
  repo
    .command('list')
    .description('list repositories')
    .action(async (_o: unknown, cmd: Command) => {
      const globals = globalsOf(cmd);
      const { app } = await connect(globals);
      const [repos, emails] = await Promise.all([findAll<PublicRepo>(app, reposPath), emailsById(app)]);
      const rows = repos.map((r) => ({ ...r, creator: r.created_by ? (emails.get(r.created_by) ?? r.created_by) : null }));
      printRows(rows, ['id', 'name', 'default_branch', 'path', 'creator'], globals.json);
    });
  repo
    .command('remove <repo>')
    .description('forget a repository, by id or name (refused while it has worktrees)')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const globals = globalsOf(cmd);
      const { app } = await connect(globals);
      printObject({ ...((await app.service(reposPath).remove(await repoId(app, ref))) as PublicRepo) }, globals.json);
    });
}
