import type { Command } from 'commander';
import type { Paginated } from '@feathersjs/feathers';
import { connect, type GlobalOptions } from '../context.js';
import { printObject, printRows } from '../output.js';
import { reposPath, type PublicRepo } from '../../daemon/services/repos/repos.shared.js';
import { worktreesPath, type PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';
import { worktreeOwnersPath } from '../../daemon/services/worktree-owners/worktree-owners.shared.js';
import { usersPath, type PublicUser } from '../../daemon/services/users/users.shared.js';

const globalsOf = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();
const ownersPathOf = (worktreeId: string) => worktreeOwnersPath.replace(':worktree_id', encodeURIComponent(worktreeId));

/** Accepts a user id or an email. */
async function userIdOf(app: ReturnType<typeof connect>['app'], ref: string): Promise<string> {
  if (!ref.includes('@')) return ref;
  const page = (await app.service(usersPath).find({ query: { email: ref } })) as Paginated<PublicUser>;
  if (!page.data[0]) throw new Error(`No user with email ${ref}`);
  return page.data[0].id;
}

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
      printObject({ ...((await connect(globals).app.service(reposPath).create(data)) as PublicRepo) }, globals.json);
    });
  repo
    .command('list')
    .description('list repositories')
    .action(async (_o: unknown, cmd: Command) => {
      const globals = globalsOf(cmd);
      const page = (await connect(globals).app.service(reposPath).find({ query: { $limit: 1000 } })) as Paginated<PublicRepo>;
      printRows(page.data as never, ['id', 'name', 'default_branch', 'path'], globals.json);
    });
  repo
    .command('remove <id>')
    .description('forget a repository (refused while it has worktrees)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const globals = globalsOf(cmd);
      printObject({ ...((await connect(globals).app.service(reposPath).remove(id)) as PublicRepo) }, globals.json);
    });
}

export function registerWorktrees(program: Command): void {
  const worktree = program.command('worktree').description('git worktrees, their owners and permissions');
  worktree
    .command('create <repoId> <name>')
    .description('create a worktree (you become its owner)')
    .option('--branch <branch>', 'branch to check out or create (default: the name)')
    .option('--base <ref>', 'where a new branch starts (default: HEAD)')
    .option('--others-can <tier>', 'none | view | session | prompt | all', 'session')
    .action(async (repoId: string, name: string, opts: { branch?: string; base?: string; othersCan: string }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const data = { repo_id: repoId, name, others_can: opts.othersCan, ...(opts.branch && { branch: opts.branch }), ...(opts.base && { base: opts.base }) };
      printObject({ ...((await connect(globals).app.service(worktreesPath).create(data)) as PublicWorktree) }, globals.json);
    });
  worktree
    .command('list')
    .description('list worktrees you may see')
    .option('--repo <id>', 'only this repo')
    .action(async (opts: { repo?: string }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const page = (await connect(globals)
        .app.service(worktreesPath)
        .find({ query: { $limit: 1000, ...(opts.repo && { repo_id: opts.repo }) } })) as Paginated<PublicWorktree>;
      printRows(page.data as never, ['id', 'name', 'branch', 'others_can', 'others_fs_access', 'archived'], globals.json);
    });
  worktree
    .command('show <id>')
    .description('show one worktree')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const globals = globalsOf(cmd);
      printObject({ ...((await connect(globals).app.service(worktreesPath).get(id)) as PublicWorktree) }, globals.json);
    });
  worktree
    .command('archive <id>')
    .description('archive a worktree (tier all)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const globals = globalsOf(cmd);
      printObject({ ...((await connect(globals).app.service(worktreesPath).patch(id, { archived: true })) as PublicWorktree) }, globals.json);
    });
  worktree
    .command('delete <id>')
    .description('delete a worktree and its directory (owners; refused with uncommitted changes unless --force)')
    .option('--force', 'delete even with uncommitted changes')
    .action(async (id: string, opts: { force?: boolean }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const removed = await connect(globals).app.service(worktreesPath).remove(id, { query: opts.force ? { force: true } : {} });
      printObject({ ...(removed as PublicWorktree) }, globals.json);
    });
  worktree
    .command('set <id>')
    .description('change permissions (owners)')
    .option('--others-can <tier>', 'none | view | session | prompt | all')
    .option('--others-fs-access <access>', 'none | read | write')
    .option('--session-sharing <on|off>', 'dangerously let forks keep running as the parent\'s creator')
    .action(async (id: string, opts: { othersCan?: string; othersFsAccess?: string; sessionSharing?: string }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const data: Record<string, unknown> = {};
      if (opts.othersCan) data.others_can = opts.othersCan;
      if (opts.othersFsAccess) data.others_fs_access = opts.othersFsAccess;
      if (opts.sessionSharing) data.dangerously_allow_session_sharing = ['on', 'true', 'yes'].includes(opts.sessionSharing);
      printObject({ ...((await connect(globals).app.service(worktreesPath).patch(id, data)) as PublicWorktree) }, globals.json);
    });
  const owners = worktree.command('owners').description('owners of a worktree');
  owners
    .command('list <worktreeId>')
    .action(async (worktreeId: string, _o: unknown, cmd: Command) => {
      const globals = globalsOf(cmd);
      const rows = (await connect(globals).app.service(ownersPathOf(worktreeId)).find({})) as Record<string, unknown>[];
      printRows(rows, ['user_id', 'email', 'name', 'added_at'], globals.json);
    });
  for (const [verb, describe] of [
    ['add', 'add an owner (user id or email)'],
    ['remove', 'remove an owner (a worktree keeps at least one)'],
  ] as const) {
    owners
      .command(`${verb} <worktreeId> <user>`)
      .description(describe)
      .action(async (worktreeId: string, user: string, _o: unknown, cmd: Command) => {
        const globals = globalsOf(cmd);
        const { app } = connect(globals);
        const userId = await userIdOf(app, user);
        const service = app.service(ownersPathOf(worktreeId));
        const result = verb === 'add' ? await service.create({ user_id: userId }) : await service.remove(userId);
        printObject({ ...(result as Record<string, unknown>) }, globals.json);
      });
  }
}
