import { comparePassword } from '../../auth/passwords.js';
import { Forbidden, NotAuthenticated } from '@feathersjs/errors';
import type { Application, HookContext } from '../../declarations.js';
import type { Paginated } from '@feathersjs/feathers';
import { decide, type Decision } from '../../rbac/decide.js';
import type { AgorAuthenticationService } from '../../auth/authentication.js';
import { cancelTasksOfDisabledUser } from '../tasks/cancel-user-tasks.js';
import { parseInput } from '../validate.js';
import { endConnections, revokeUserConnections, refreshUserChannels, type Connection } from '../../channels.js';
import { auditUserChanges } from '../../audit/service-hooks.js';
import { UsersService } from './users.class.js';
import { userCreateSchema, userPatchSchema, userQuerySchema, type PublicUser, type UserPatch, type UserQuery } from './users.schema.js';
import { usersMethods, usersPath } from './users.shared.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [usersPath]: UsersService;
  }
}

function actorOf(context: HookContext): PublicUser {
  const { user } = context.params;
  if (!user) throw new NotAuthenticated('Not authenticated');
  return user;
}

function deny(decision: Decision): void {
  if (!decision.allow) throw new Forbidden(decision.reason);
}

const SELF_FIELDS = new Set(['name', 'password', 'old_password']);

async function authorizePatch(context: HookContext<UsersService>): Promise<void> {
  const actor = actorOf(context);
  const data = parseInput(userPatchSchema, context.data) as UserPatch;
  context.data = data as never;
  const target = await context.service.row(String(context.id));
  if (target.id === actor.id) {
    const forbidden = Object.keys(data).filter((k) => !SELF_FIELDS.has(k));
    if (forbidden.length) throw new Forbidden(`You cannot change your own ${forbidden.join(', ')}; ask another admin or owner`);
    if (data.password !== undefined) {
      if (!data.old_password || !(await comparePassword(data.old_password, target.password))) {
        throw new Forbidden('To change your password, give your current password as old_password');
      }
    }
    return;
  }
  deny(decide(actor, 'user.manage', { target }));
  if (data.role !== undefined) deny(decide(actor, 'user.grant_role', { role: data.role }));
}

/**
 * The users directory (DESIGN §4): everyone may see each user's id, name and email (to add owners);
 * role, disabled, unix_username and timestamps only admins and owners, and each user their own.
 */
export type DirectoryEntry = Pick<PublicUser, 'id' | 'name' | 'email'>;

export function directoryView(viewer: PublicUser, user: PublicUser): PublicUser | DirectoryEntry {
  if (decide(viewer, 'user.see_private_fields', { ownerId: user.id }).allow) return user;
  return { id: user.id, name: user.name, email: user.email };
}

/** Filtering by role or disabled would tell non-admins what the directory hides from them. */
function refuseHiddenFilters(ctx: HookContext): void {
  const query = ctx.params.query as UserQuery;
  if (!ctx.params.provider || (query.role === undefined && query.disabled === undefined)) return;
  deny(decide(actorOf(ctx), 'user.filter_private_fields'));
}

/**
 * A password change ends every login of that user made with the old one (its tokens are refused
 * from now on: password_changed_at) and closes their sockets at once, except the connection that
 * made the change; API keys and their sockets are separate credentials and stay. A user who changed
 * their own password gets a fresh token in the answer (`accessToken`), and a socket that made the
 * change goes on with it.
 */
async function endPasswordLogins(app: Application, ctx: HookContext<UsersService>): Promise<void> {
  const user = ctx.result as PublicUser;
  const connection = ctx.params.connection as Connection | undefined;
  endConnections(app, (c) => c.user?.id === user.id && !c.apiKeyId && c !== connection);
  if (ctx.params.user?.id !== user.id || ctx.params.apiKey) return;
  const auth = app.service('authentication' as never) as unknown as AgorAuthenticationService;
  const accessToken = await auth.createAccessToken({ iat_ms: Date.now() }, { subject: user.id });
  if (connection) await auth.handleConnection('login', connection as never, { accessToken, user });
  ctx.result = { ...user, accessToken } as PublicUser;
}

export function configureUsers(app: Application): void {
  app.use(usersPath, new UsersService(app.get('db')), { methods: [...usersMethods] });
  app.service(usersPath).hooks({
    around: { create: [auditUserChanges], patch: [auditUserChanges], remove: [auditUserChanges] },
    before: {
      // "me" names the caller, so clients need not know their own id.
      all: [(ctx) => void (ctx.id === 'me' && ctx.params.user && (ctx.id = ctx.params.user.id))],
      find: [(ctx) => void (ctx.params.query = parseInput(userQuerySchema, ctx.params.query ?? {}, 'query')), refuseHiddenFilters],
      create: [
        (ctx) => {
          const data = parseInput(userCreateSchema, ctx.data);
          if (ctx.params.provider) deny(decide(actorOf(ctx), 'user.grant_role', { role: data.role }));
          ctx.data = data;
        },
      ],
      patch: [async (ctx) => (ctx.params.provider ? authorizePatch(ctx) : void (ctx.data = parseInput(userPatchSchema, ctx.data) as never))],
      remove: [
        async (ctx) => {
          if (!ctx.params.provider) return;
          const actor = actorOf(ctx);
          const target = await ctx.service.row(String(ctx.id));
          deny(decide(actor, 'user.remove', { target }));
        },
      ],
    },
    after: {
      find: [
        (ctx) => {
          const page = ctx.result as Paginated<PublicUser | DirectoryEntry>;
          if (ctx.params.provider) page.data = page.data.map((u) => directoryView(actorOf(ctx), u as PublicUser));
        },
      ],
      get: [(ctx) => void (ctx.params.provider && (ctx.result = directoryView(actorOf(ctx), ctx.result as PublicUser) as PublicUser))],
      patch: [
        async (ctx) => {
          const user = ctx.result as PublicUser;
          if (user.disabled) revokeUserConnections(app, user.id);
          else await refreshUserChannels(app, user);
          if ((ctx.data as UserPatch).disabled === true) await cancelTasksOfDisabledUser(app, user);
          if ((ctx.data as UserPatch).password !== undefined) await endPasswordLogins(app, ctx);
        },
      ],
      remove: [(ctx) => revokeUserConnections(app, (ctx.result as PublicUser).id)],
    },
  });
}
