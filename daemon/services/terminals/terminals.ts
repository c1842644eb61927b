import type { Params, RealTimeConnection } from '@feathersjs/feathers';
import type { Application, HookContext } from '../../declarations.js';
import { atLeast, type Role } from '../../auth/roles.js';
import { ensureWorktreePermission } from '../../rbac/authorize.js';
import { terminalsOf, type Terminal } from '../../terminal/manager.js';
import type { PublicUser } from '../users/users.schema.js';
import { TerminalsService } from './terminals.class.js';
import { terminalsMethods, terminalsPath } from './terminals.shared.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [terminalsPath]: TerminalsService;
  }
}

/**
 * After a change of roles, owners or tiers: every affected terminal whose user may no longer open
 * it (role below member, disabled, tier below `all` and not an owner, worktree gone) is closed.
 */
async function recheck(app: Application, affected: (t: Terminal) => boolean): Promise<void> {
  const manager = terminalsOf(app);
  for (const terminal of manager.all().filter(affected)) {
    const user = (await app.get('db')('users').where('id', terminal.user.id).first()) as (PublicUser & { disabled?: unknown; role: Role }) | undefined;
    let allowed = Boolean(user && !user.disabled && atLeast(user.role, 'member'));
    if (allowed) {
      try {
        await ensureWorktreePermission(app, { user } as Params, 'terminal.open', terminal.worktreeId);
      } catch {
        allowed = false;
      }
    }
    if (!allowed) void manager.close(terminal, 'access revoked');
  }
}

const after = (affected: (ctx: HookContext) => (t: Terminal) => boolean) => async (ctx: HookContext) => {
  await recheck(ctx.app as Application, affected(ctx));
};

export function configureTerminals(app: Application): void {
  app.use(terminalsPath, new TerminalsService(app), { methods: [...terminalsMethods] });
  // A connection that goes away (socket closed, logout, user disabled) takes its terminals with it.
  const closeAll = (reason: string) => (connection?: RealTimeConnection) => {
    if (connection) void terminalsOf(app).closeConnection(connection, reason);
  };
  app.on('disconnect', closeAll('the connection closed'));
  app.on('logout', (_result: unknown, params: { connection?: RealTimeConnection }) => closeAll('logout')(params?.connection));

  const inWorktree = (id: unknown) => (t: Terminal) => t.worktreeId === String(id);
  app.service('worktrees').hooks({ after: { patch: [after((ctx) => inWorktree(ctx.id))], remove: [after((ctx) => inWorktree(ctx.id))] } });
  app.service('worktrees/:worktree_id/owners').hooks({ after: { remove: [after((ctx) => inWorktree(ctx.params.route?.worktree_id))] } });
  app.service('users').hooks({ after: { patch: [after((ctx) => (t) => t.user.id === String(ctx.id))], remove: [after((ctx) => (t) => t.user.id === String(ctx.id))] } });
}
