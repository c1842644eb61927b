// Wires the Unix sync into the services (one line in services/index.ts): every change that moves
// who may run where — worktree created/deleted, others_can / others_fs_access, owners, a user's role,
// disabled flag or unix_username — is followed synchronously by the operating system. If the OS
// cannot follow, the API call fails with agor-priv's message and the database change is undone
// (except a deletion, which cannot be; then the message says how to finish it; and a tightening of
// others_fs_access, which is never undone: the database must not claim again an access the owner
// took away and part of the tree may no longer give).
import { BadRequest, FeathersError } from '@feathersjs/errors';
import type { NextFunction, Params } from '@feathersjs/feathers';
import type { Application, HookContext } from '../declarations.js';
import { allowOrThrow, subjectOf } from '../rbac/authorize.js';
import { reevaluateWorktree } from '../channels.js';
import { recordSecurityEvent } from '../audit/security-event.js';
import { parseInput } from '../services/validate.js';
import { z } from 'zod';
import { describePrepareReport, PrivilegedClient, type PrepareReport } from './privileged.js';
import { FS_ACCESS } from '../rbac/tiers.js';
import { asSyncError, UnixSync, type SyncReport } from './sync.js';
import { currentUsername, whyRefusedUnixUsername, worktreeGroupName, type ReservedNames } from './names.js';
import { readPrivConfig } from './os-state.js';
import { unixSyncMethods, unixSyncPath } from './unix-sync.shared.js';

const syncs = new WeakMap<Application, UnixSync>();

/** The app's UnixSync (made on first use from its config). */
export function unixSyncOf(app: Application): UnixSync {
  let sync = syncs.get(app);
  if (!sync) {
    const runtime = app.get('runtime');
    const { execution } = runtime.config;
    sync = new UnixSync({
      db: app.get('db'),
      config: runtime.config,
      dataDir: runtime.dataDir,
      priv: new PrivilegedClient({ sudoPath: execution.sudo_path, privPath: execution.priv_path }),
    });
    syncs.set(app, sync);
  }
  return sync;
}

/** Names no agor user may take as unix_username on this daemon. */
export function reservedNamesOf(app: Application): ReservedNames & { extra: string[] } {
  const { config } = readPrivConfig();
  return {
    daemonUser: currentUsername(),
    executorUser: app.get('runtime').config.execution.executor_unix_user,
    extra: [config?.daemon_user, config?.executor_user, config?.users_group].filter((n): n is string => typeof n === 'string'),
  };
}

/** THE validation of users.unix_username, on every create and patch (any caller): 400, nothing changed. */
export function assertValidUnixUsername(app: Application, name: unknown): void {
  const reserved = reservedNamesOf(app);
  let why = whyRefusedUnixUsername(name, reserved);
  if (!why && reserved.extra.includes(name as string)) why = `${String(name)} is reserved by agor-priv's configuration (the daemon user, executor user or users group)`;
  if (why) throw new BadRequest(`Invalid data: "unix_username": ${why}`, { errors: { unix_username: why } });
}

async function auditSyncFailure(app: Application, params: Params, error: FeathersError, worktreeId: string | null, reverted: boolean): Promise<void> {
  await recordSecurityEvent(app, {
    actor: params.user,
    action: 'unix.sync_failed',
    worktreeId,
    message: `Unix sync failed${reverted ? ' (the change was undone)' : ''}: ${error.message}`,
    details: { error: error.message, reverted },
  }).catch((e) => console.error('[unix] could not audit a sync failure:', e));
}

/**
 * Runs `sync` after the service call; if it fails, `undo` restores the previous database state,
 * the OS is re-synced to it (best effort) and the caller gets the error.
 */
async function syncOrUndo(
  ctx: HookContext,
  worktreeId: string | null,
  sync: () => Promise<unknown>,
  undo: () => Promise<void>,
  resync: () => Promise<unknown>,
  undone = 'The change was undone because the operating system could not follow it',
): Promise<void> {
  try {
    await sync();
  } catch (raw) {
    const error = asSyncError(raw, undone);
    try {
      await undo();
      await resync().catch((e) => {
        console.error('[unix] re-sync after undo failed:', (e as Error).message);
        error.message += `; re-applying the previous state failed too (${(e as Error).message}): run \`agor admin sync-unix\``;
      });
      if (worktreeId) await reevaluateWorktree(ctx.app as Application, worktreeId).catch(() => undefined);
    } catch (undoError) {
      error.message += `; undoing it failed too (${(undoError as Error).message}): run \`agor admin sync-unix\``;
      await auditSyncFailure(ctx.app as Application, ctx.params, error, worktreeId, false);
      throw error;
    }
    await auditSyncFailure(ctx.app as Application, ctx.params, error, worktreeId, true);
    throw error;
  }
}

const ACCESS_FIELDS = ['others_can', 'others_fs_access', 'dangerously_allow_session_sharing'] as const;

/** Whether others_fs_access goes from `before` to something more closed. */
function isTightening(before: unknown, after: unknown): boolean {
  const rank = (v: unknown) => FS_ACCESS.indexOf(v as (typeof FS_ACCESS)[number]);
  return rank(after) >= 0 && rank(after) < rank(before);
}

/** agor-priv left parts of a worktree as they were (and closed their directories instead): audited. */
async function auditTreeReport(app: Application, params: Params, worktreeId: string, report: PrepareReport | null): Promise<void> {
  if (!report) return;
  await recordSecurityEvent(app, {
    actor: params.user,
    action: 'unix.tree_left_alone',
    worktreeId,
    message: `prepare-worktree of worktree ${worktreeId}: ${describePrepareReport(report)}`,
    details: { skipped: report.skipped, closed: report.closed, examples: report.examples.slice(0, 10), closed_examples: report.closedExamples.slice(0, 10) },
  }).catch((e) => console.error('[unix] could not audit a prepare-worktree report:', e));
}

function worktreeHooks(app: Application, sync: UnixSync): void {
  const db = () => app.get('db');
  app.service('worktrees').hooks({
    after: {
      create: [
        async (ctx) => {
          if (!sync.isolated) return;
          const id = (ctx.result as { id: string }).id;
          try {
            const group = await sync.prepareWorktree(id);
            (ctx.result as { unix_group: string | null }).unix_group = group;
          } catch (raw) {
            const error = asSyncError(raw, 'The worktree was not created');
            // Undo the creation entirely: git worktree, rows, and whatever group was made.
            await app
              .service('worktrees')
              .remove(id, { user: ctx.params.user, query: { force: true } })
              .catch((e) => (error.message += `; removing the half-made worktree failed too (${(e as Error).message})`));
            await auditSyncFailure(app, ctx.params, error, null, true);
            throw error;
          }
        },
      ],
    },
    around: {
      patch: [
        async (ctx: HookContext, next: NextFunction) => {
          const id = String(ctx.id);
          const data = (ctx.data ?? {}) as Record<string, unknown>;
          if (!sync.isolated || !ACCESS_FIELDS.some((f) => data[f] !== undefined)) return next();
          const before = await db()('worktrees').where('id', id).first(...ACCESS_FIELDS);
          await next();
          if (!before) return;
          const changedFs = data.others_fs_access !== undefined && data.others_fs_access !== before.others_fs_access;
          // A tightening is never undone: if the filesystem could not follow (entirely), the database
          // keeps the closed value, which the re-sync and `agor admin sync-unix` keep applying, rather
          // than claiming again an access the owner took away and part of the tree no longer gives.
          const tightening = changedFs && isTightening(before.others_fs_access, data.others_fs_access);
          const restored = tightening ? { ...before, others_fs_access: data.others_fs_access } : before;
          await syncOrUndo(
            ctx,
            id,
            async () => {
              if (changedFs) await auditTreeReport(app, ctx.params, id, await sync.reapplyModes(id));
              await sync.syncMembers([id]);
            },
            async () => {
              await db()('worktrees').where('id', id).update(restored);
              Object.assign(ctx.result as object, restored);
            },
            async () => {
              if (changedFs) await sync.reapplyModes(id);
              await sync.syncMembers([id]);
            },
            tightening
              ? `others_fs_access stays "${String(data.others_fs_access)}" (a tightening is never undone; any other change was), but the filesystem could not follow it entirely: fix the cause and run \`agor admin sync-unix\``
              : undefined,
          );
        },
      ],
      remove: [
        async (ctx: HookContext, next: NextFunction) => {
          if (!sync.isolated) return next();
          const id = String(ctx.id);
          const row = await db()('worktrees as w').leftJoin('repos as r', 'r.id', 'w.repo_id').where('w.id', id).first('w.unix_group', 'r.path as repo_path');
          await next();
          if (!row) return;
          const group: string = row.unix_group ?? worktreeGroupName(id);
          try {
            await sync.removeWorktreeGroup(group, row.repo_path ?? null);
          } catch (error) {
            await auditSyncFailure(app, ctx.params, error as FeathersError, id, false);
            throw error;
          }
        },
      ],
    },
  });
}

function ownerHooks(app: Application, sync: UnixSync): void {
  const db = () => app.get('db');
  const around = async (ctx: HookContext, next: NextFunction) => {
    if (!sync.isolated) return next();
    const worktreeId = ctx.params.route?.worktree_id as string | undefined;
    const before = worktreeId ? await db()('worktree_owners').where('worktree_id', worktreeId).select('*') : [];
    await next();
    if (!worktreeId) return;
    await syncOrUndo(
      ctx,
      worktreeId,
      () => sync.syncMembers([worktreeId]),
      async () => {
        await db().transaction(async (trx) => {
          await trx('worktree_owners').where('worktree_id', worktreeId).delete();
          if (before.length) await trx('worktree_owners').insert(before);
        });
      },
      () => sync.syncMembers([worktreeId]),
    );
  };
  app.service('worktrees/:worktree_id/owners').hooks({ around: { create: [around], remove: [around] } });
}

const USER_FIELDS = ['role', 'disabled', 'unix_username'] as const;

function userHooks(app: Application, sync: UnixSync): void {
  const db = () => app.get('db');
  /** Validates unix_username and, in insulated/strict, makes sure the account exists before it is stored. */
  const checkUnixUsername = async (ctx: HookContext) => {
    const data = (ctx.data ?? {}) as { unix_username?: string | null };
    if (data.unix_username === undefined || data.unix_username === null) return;
    assertValidUnixUsername(app, data.unix_username);
    if (sync.isolated) {
      try {
        await sync.priv.ensureUser(data.unix_username);
      } catch (error) {
        // agor-priv refuses an existing account it did not create or one with groups that are not
        // agor's: a choice of the caller's, told in agor-priv's own sentence.
        if (error instanceof FeathersError && (error.data as { code_name?: string } | undefined)?.code_name === 'refused') {
          const why = error.message.replace(/^agor-priv ensure-user failed \(refused\): /, '');
          throw new BadRequest(`Invalid data: "unix_username": the Unix account ${data.unix_username} cannot be used: ${why}; nothing was changed`, { errors: { unix_username: why } });
        }
        throw asSyncError(error, `The Unix account ${data.unix_username} could not be created; nothing was changed`);
      }
    }
  };
  app.service('users').hooks({
    before: { create: [checkUnixUsername], patch: [checkUnixUsername] },
    around: {
      create: [
        async (ctx: HookContext, next: NextFunction) => {
          await next();
          const user = ctx.result as { id: string; unix_username: string | null };
          if (!sync.isolated || !user.unix_username) return;
          await syncOrUndo(
            ctx,
            null,
            () => sync.syncMembers(),
            async () => void (await db()('users').where('id', user.id).delete()),
            () => sync.syncMembers(),
          );
        },
      ],
      patch: [
        async (ctx: HookContext, next: NextFunction) => {
          const data = (ctx.data ?? {}) as Record<string, unknown>;
          const id = ctx.id === 'me' && ctx.params.user ? ctx.params.user.id : String(ctx.id);
          if (!sync.isolated || !USER_FIELDS.some((f) => data[f] !== undefined)) return next();
          const before = await db()('users').where('id', id).first(...USER_FIELDS);
          await next();
          if (!before) return;
          await syncOrUndo(
            ctx,
            null,
            () => sync.syncMembers(),
            async () => {
              await db()('users').where('id', id).update(before);
              Object.assign(ctx.result as object, { ...before, disabled: Boolean(before.disabled) });
            },
            () => sync.syncMembers(),
          );
        },
      ],
      remove: [
        async (ctx: HookContext, next: NextFunction) => {
          await next();
          if (!sync.isolated) return;
          try {
            await sync.syncMembers();
          } catch (error) {
            await auditSyncFailure(app, ctx.params, error as FeathersError, null, false);
            throw asSyncError(error, 'The user was removed, but its Unix group memberships could not be updated (run `agor admin sync-unix`)');
          }
        },
      ],
    },
  });
}

// dry_run has no default: a call that does not say it wants changes (an empty or unreadable body) changes nothing.
const unixSyncSchema = z.strictObject({ dry_run: z.boolean({ error: '"dry_run" is required: true to only report, false to apply the changes' }), prune: z.boolean().default(false) });

/** POST /unix-sync {dry_run, prune}: `agor admin sync-unix`. Admins and owners only. */
export class UnixSyncService {
  constructor(private readonly app: Application) {}

  async create(data: unknown, params: Params): Promise<SyncReport> {
    const subject = subjectOf(params);
    allowOrThrow(subject, 'system.unix_sync');
    const { dry_run, prune } = parseInput(unixSyncSchema, data);
    const report = await unixSyncOf(this.app).reconcile({ dryRun: dry_run, prune });
    if (!dry_run && report.actions.length > 0) {
      await recordSecurityEvent(this.app, {
        actor: params.user,
        action: report.failed ? 'unix.sync_failed' : 'unix.synced',
        message: report.failed ? `agor admin sync-unix: ${report.failed} step(s) failed` : false,
        details: { actions: report.actions.length, failed: report.failed, prune },
      });
    }
    return report;
  }
}

declare module '../declarations.js' {
  interface ServiceTypes {
    [unixSyncPath]: UnixSyncService;
  }
}

export function configureUnixSync(app: Application): void {
  const sync = unixSyncOf(app);
  app.use(unixSyncPath, new UnixSyncService(app), { methods: [...unixSyncMethods] });
  worktreeHooks(app, sync);
  ownerHooks(app, sync);
  userHooks(app, sync);
}
