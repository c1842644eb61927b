import { comparePassword } from '../../auth/passwords.js';
import { Forbidden, NotAuthenticated } from '@feathersjs/errors';
import type { Application, HookContext } from '../../declarations.js';
import { whyCannotGrant, whyCannotManage } from '../../auth/roles.js';
import { parseInput } from '../validate.js';
import { revokeUserConnections, refreshUserChannels } from '../../channels.js';
import { auditUserChanges } from '../../audit/service-hooks.js';
import { UsersService } from './users.class.js';
import { userCreateSchema, userPatchSchema, userQuerySchema, type PublicUser, type UserPatch } from './users.schema.js';
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

function deny(reason: string | null): void {
  if (reason) throw new Forbidden(reason);
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
  deny(whyCannotManage(actor, target));
  if (data.role !== undefined) deny(whyCannotGrant(actor, data.role));
}

export function configureUsers(app: Application): void {
  app.use(usersPath, new UsersService(app.get('db')), { methods: [...usersMethods] });
  app.service(usersPath).hooks({
    around: { create: [auditUserChanges], patch: [auditUserChanges], remove: [auditUserChanges] },
    before: {
      // "me" names the caller, so clients need not know their own id.
      all: [(ctx) => void (ctx.id === 'me' && ctx.params.user && (ctx.id = ctx.params.user.id))],
      find: [(ctx) => void (ctx.params.query = parseInput(userQuerySchema, ctx.params.query ?? {}, 'query'))],
      create: [
        (ctx) => {
          const data = parseInput(userCreateSchema, ctx.data);
          if (ctx.params.provider) deny(whyCannotGrant(actorOf(ctx), data.role));
          ctx.data = data;
        },
      ],
      patch: [async (ctx) => (ctx.params.provider ? authorizePatch(ctx) : void (ctx.data = parseInput(userPatchSchema, ctx.data) as never))],
      remove: [
        async (ctx) => {
          if (!ctx.params.provider) return;
          const actor = actorOf(ctx);
          const target = await ctx.service.row(String(ctx.id));
          if (target.id === actor.id) throw new Forbidden('You cannot remove yourself; ask another admin or owner');
          deny(whyCannotManage(actor, target));
        },
      ],
    },
    after: {
      patch: [
        async (ctx) => {
          const user = ctx.result as PublicUser;
          if (user.disabled) revokeUserConnections(app, user.id);
          else await refreshUserChannels(app, user);
        },
      ],
      remove: [(ctx) => revokeUserConnections(app, (ctx.result as PublicUser).id)],
    },
  });
}
