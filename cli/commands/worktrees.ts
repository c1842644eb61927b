import type { Command } from 'commander';
import { connect } from '../client.js';
import type { GlobalOptions } from '../context.js';
import { confirm } from '../confirm.js';
import { printObject, printRows } from '../output.js';
import { emailsById, findAll, repoId, resolveUser, resolveWorktree, worktreeId } from '../lookup.js';
import { reposPath, type PublicRepo } from '../../daemon/services/repos/repos.shared.js';
import { worktreesPath, type PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';
import { worktreeOwnersPath } from '../../daemon/services/worktree-owners/worktree-owners.shared.js';

const globalsOf = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();
const ownersPathOf = (worktreeId: string) => worktreeOwnersPath.replace(':worktree_id', encodeURIComponent(worktreeId));

export function registerWorktrees(program: Command): void {
  const worktree = program.command('worktree').description('git worktrees, their owners and permissions');
  worktree
    .command('create <repo> <name>')
    .description('create a worktree in a repo (id or name); you become its owner')
    .option('--branch <branch>', 'branch to check out or create (default: the name)')
    .option('--base <ref>', 'where a new branch starts (default: HEAD)')
    .option('--others-can <tier>', 'none | view | session | prompt | all', 'session')
    .action(async (repo: string, name: string, opts: { branch?: string; base?: string; othersCan: string }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const { app } = await connect(globals);
      const data = { repo_id: await repoId(app, repo), name, others_can: opts.othersCan, ...(opts.branch && { branch: opts.branch }), ...(opts.base && { base: opts.base }) };
      printObject({ ...((await app.service(worktreesPath).create(data)) as PublicWorktree) }, globals.json);
    });
  worktree
    .command('list')
    .description('list worktrees you may see')
    .option('--repo <repo>', 'only this repo (id or name)')
    .action(async (opts: { repo?: string }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const { app } = await connect(globals);
      const query = opts.repo ? { repo_id: await repoId(app, opts.repo) } : {};
      const [worktrees, repos, emails] = await Promise.all([findAll<PublicWorktree>(app, worktreesPath, query), findAll<PublicRepo>(app, reposPath), emailsById(app)]);
      const repoName = new Map(repos.map((r) => [r.id, r.name]));
      const rows = worktrees.map((w) => ({ ...w, repo: repoName.get(w.repo_id) ?? w.repo_id, creator: w.created_by ? (emails.get(w.created_by) ?? w.created_by) : null }));
      printRows(rows, ['id', 'repo', 'name', 'branch', 'others_can', 'others_fs_access', 'archived', 'creator'], globals.json);
    });
  worktree
    .command('show <worktree>')
    .description('show one worktree (id, repo/name or name)')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const globals = globalsOf(cmd);
      printObject({ ...(await resolveWorktree((await connect(globals)).app, ref)) }, globals.json);
    });
  worktree
    .command('archive <worktree>')
    .description('archive a worktree (tier all)')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const globals = globalsOf(cmd);
      const { app } = await connect(globals);
      printObject({ ...((await app.service(worktreesPath).patch(await worktreeId(app, ref), { archived: true })) as PublicWorktree) }, globals.json);
    });
  worktree
    .command('delete <worktree>')
    .description('delete a worktree and its directory (owners; refused with uncommitted changes unless --force); asks first unless --yes')
    .option('--force', 'delete even with uncommitted changes')
    .option('-y, --yes', 'do not ask for confirmation (needed without a terminal)')
    .action(async (ref: string, opts: { force?: boolean; yes?: boolean }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const { app } = await connect(globals);
      const target = await resolveWorktree(app, ref);
      await confirm(`Delete worktree ${target.name} and its directory ${target.path}?`, opts.yes);
      const removed = await app.service(worktreesPath).remove(target.id, { query: opts.force ? { force: true } : {} });
      printObject({ ...(removed as PublicWorktree) }, globals.json);
    });
  worktree
    .command('set <worktree>')
    .description('change permissions (owners)')
    .option('--others-can <tier>', 'none | view | session | prompt | all')
    .option('--others-fs-access <access>', 'none | read | write')
    .option('--session-sharing <on|off>', 'dangerously let forks keep running as the parent\'s creator')
    .action(async (ref: string, opts: { othersCan?: string; othersFsAccess?: string; sessionSharing?: string }, cmd: Command) => {
      const globals = globalsOf(cmd);
      const { app } = await connect(globals);
      const data: Record<string, unknown> = {};
      if (opts.othersCan) data.others_can = opts.othersCan;
      if (opts.othersFsAccess) data.others_fs_access = opts.othersFsAccess;
      if (opts.sessionSharing) data.dangerously_allow_session_sharing = ['on', 'true', 'yes'].includes(opts.sessionSharing);
      printObject({ ...((await app.service(worktreesPath).patch(await worktreeId(app, ref), data)) as PublicWorktree) }, globals.json);
    });
  const owners = worktree.command('owners').description('owners of a worktree');
  owners
    .command('list <worktree>')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const globals = globalsOf(cmd);
      const { app } = await connect(globals);
      const rows = (await app.service(ownersPathOf(await worktreeId(app, ref))).find({})) as Record<string, unknown>[];
      printRows(rows, ['user_id', 'email', 'name', 'added_at'], globals.json);
    });
  for (const [verb, describe] of [
    ['add', 'add an owner (user id or email)'],
    ['remove', 'remove an owner (a worktree keeps at least one)'],
  ] as const) {
    owners
      .command(`${verb} <worktree> <user>`)
      .description(describe)
      .action(async (ref: string, user: string, _o: unknown, cmd: Command) => {
        const globals = globalsOf(cmd);
        const { app } = await connect(globals);
        const userId = (await resolveUser(app, user)).id;
        const service = app.service(ownersPathOf(await worktreeId(app, ref)));
        const result = verb === 'add' ? await service.create({ user_id: userId }) : await service.remove(userId);
        printObject({ ...(result as Record<string, unknown>) }, globals.json);
      });
  }
}
