import type { RealTimeConnection } from '@feathersjs/feathers';
import type { Application, HookContext } from './declarations.js';
import { policyOf } from './rbac/authorize.js';
import { decide } from './rbac/decide.js';
import { whereWorktreeVisible } from './rbac/scope.js';
import type { Tier } from './rbac/tiers.js';
import type { PublicUser } from './services/users/users.schema.js';
import type { PublicApiKey } from './services/api-keys/api-keys.schema.js';

/**
 * Who hears which event (DESIGN §6). Each signed-in connection is in: its user's channel, the
 * 'authenticated' channel, 'admins' if admin+, and one channel per worktree it may view.
 * Events about a worktree and everything in it go only to that worktree's channel. Anything
 * not published here reaches nobody (default deny).
 */
const AUTHENTICATED = 'authenticated';
const ADMINS = 'admins';
const WORKTREE_PREFIX = 'worktrees/';
export const userChannel = (id: string) => `users/${id}`;
export const worktreeChannel = (id: string) => `${WORKTREE_PREFIX}${id}`;

/** `apiKeyId`: the API key the connection authenticated with, if any (its revocation ends it). */
export type Connection = RealTimeConnection & { user?: PublicUser; apiKeyId?: string };

/** Worktree ids `user` may view: the same SQL scope list queries use. */
async function visibleWorktreeIds(app: Application, user: PublicUser): Promise<Set<string>> {
  const query = app.get('db')('worktrees as w').select('w.id');
  whereWorktreeVisible(query, user, policyOf(app), { worktreeId: 'w.id', othersCan: 'w.others_can' });
  return new Set((await query).map((r: { id: string }) => r.id));
}

async function joinChannels(app: Application, connection: Connection, user: PublicUser): Promise<void> {
  connection.user = user;
  app.channel(userChannel(user.id)).join(connection);
  app.channel(AUTHENTICATED).join(connection);
  if (decide(user, 'system.admin_events').allow) app.channel(ADMINS).join(connection);
  else app.channel(ADMINS).leave(connection);
  const visible = await visibleWorktreeIds(app, user);
  for (const name of app.channels) {
    if (name.startsWith(WORKTREE_PREFIX) && !visible.has(name.slice(WORKTREE_PREFIX.length))) app.channel(name).leave(connection);
  }
  for (const id of visible) app.channel(worktreeChannel(id)).join(connection);
}

/** Takes a connection out of every channel (app.channel() with no names throws). */
function leaveAll(app: Application, connection: Connection): void {
  if (app.channels.length > 0) app.channel(app.channels).leave(connection);
}

/** Re-evaluates a user's live connections after its role changed. */
export async function refreshUserChannels(app: Application, user: PublicUser): Promise<void> {
  const connections = (app.channel(userChannel(user.id)).connections as Connection[]).filter((c) => c.user?.id === user.id);
  for (const connection of connections) await joinChannels(app, connection, user);
}

/**
 * Ends the signed-in connections that `match`: each leaves every channel at once (no event of this
 * instant reaches it) and its socket is closed; its calls were already refused by the credential check.
 */
export function endConnections(app: Application, match: (connection: Connection) => boolean): number {
  const ended = (app.channel(AUTHENTICATED).connections as Connection[]).filter(match);
  for (const connection of ended) {
    leaveAll(app, connection);
    app.emit('disconnect', connection);
  }
  return ended.length;
}

/** Disconnects every socket of a user (disabled or removed). */
export function revokeUserConnections(app: Application, userId: string): void {
  endConnections(app, (c) => c.user?.id === userId);
}

/** Disconnects the sockets that authenticated with an API key that was just revoked. */
export function revokeApiKeyConnections(app: Application, apiKeyId: string): void {
  endConnections(app, (c) => c.apiKeyId === apiKeyId);
}

/**
 * After a worktree's owners or tiers changed (or it was created): every signed-in connection
 * joins or leaves its channel per decide(), before the event of that change is published.
 */
export async function reevaluateWorktree(app: Application, worktreeId: string): Promise<Set<string>> {
  const db = app.get('db');
  const worktree = await db('worktrees').where('id', worktreeId).first('others_can', 'dangerously_allow_session_sharing');
  // Looked up for every join/leave, never kept: Feathers drops a channel from the app once a
  // leave() finds it empty, and joins to that dropped object would reach nobody.
  const channel = () => app.channel(worktreeChannel(worktreeId));
  const revoked = new Set<string>();
  if (!worktree) return revoked;
  const owners = new Set((await db('worktree_owners').where('worktree_id', worktreeId).pluck('user_id')) as string[]);
  for (const connection of app.channel(AUTHENTICATED).connections as Connection[]) {
    const user = connection.user;
    if (!user) continue;
    const facts = { others_can: worktree.others_can as Tier, dangerously_allow_session_sharing: Boolean(worktree.dangerously_allow_session_sharing), isOwner: owners.has(user.id) };
    if (decide(user, 'worktree.view', { worktree: facts }, policyOf(app)).allow) channel().join(connection);
    else if (channel().connections.includes(connection)) {
      channel().leave(connection);
      revoked.add(user.id);
    }
  }
  return revoked;
}

/** Users who lost sight of a worktree in this call (set by the re-evaluation hooks below). */
const revokedOf = (ctx: HookContext): string[] => [...((ctx.params as { revokedViewers?: Set<string> }).revokedViewers ?? [])];

const reevaluateAfter = (idOf: (ctx: HookContext) => string | undefined) => async (ctx: HookContext) => {
  const id = idOf(ctx);
  if (!id) return;
  const revoked = await reevaluateWorktree(app(ctx), id);
  (ctx.params as { revokedViewers?: Set<string> }).revokedViewers = revoked;
  // Whoever lost sight of it drops out of the "who is looking" list the others see.
  if (revoked.size > 0) (app(ctx).service('presence') as unknown as { lostSight(id: string, users: Set<string>): void }).lostSight(id, revoked);
};
const app = (ctx: HookContext) => ctx.app as Application;

export function configureChannels(app: Application): void {
  // A (re-)authentication replaces the connection's identity: it leaves every channel of the previous
  // one at once, before joining the new identity's, so nothing of the first user reaches the second.
  app.on('login', (authResult: { user?: PublicUser; apiKey?: { id: string } }, { connection }: { connection?: Connection }) => {
    if (!connection || !authResult.user) return;
    leaveAll(app, connection);
    connection.apiKeyId = authResult.apiKey?.id;
    joinChannels(app, connection, authResult.user).catch((e) => console.error('[channels]', e));
  });
  // Feathers' own logout listener may already have emptied every channel.
  app.on('logout', (_authResult: unknown, { connection }: { connection?: Connection }) => {
    if (connection) leaveAll(app, connection);
  });

  // Membership follows permission changes before the change's own event goes out.
  app.service('worktrees').hooks({
    after: {
      create: [reevaluateAfter((ctx) => (ctx.result as { id: string }).id)],
      patch: [reevaluateAfter((ctx) => String(ctx.id))],
    },
  });
  app.service('worktrees/:worktree_id/owners').hooks({
    after: { create: [reevaluateAfter((ctx) => ctx.params.route?.worktree_id)], remove: [reevaluateAfter((ctx) => ctx.params.route?.worktree_id)] },
  });

  const inWorktree = (data: unknown) => app.channel(worktreeChannel((data as { worktree_id: string }).worktree_id));
  app.publish(() => undefined);
  // A fresh access token (own password change) is for the answer only, never for an event.
  app.service('users').publish((user) => {
    const { accessToken: _token, ...data } = user as PublicUser & { accessToken?: string };
    return [app.channel(ADMINS).send(data), app.channel(userChannel(data.id)).send(data)];
  });
  // The key itself is shown once, in the create response; events never carry it.
  app.service('api-keys').publish((data) => {
    const { key: _key, ...withoutKey } = data as PublicApiKey;
    return app.channel(userChannel(withoutKey.user_id)).send(withoutKey);
  });
  // Secrets events (name, fingerprint; never a value) go to their owner only.
  app.service('user-secrets').publish((_data, ctx) => (ctx.params.user ? app.channel(userChannel(ctx.params.user.id)) : undefined));
  app.service('audit').publish(() => app.channel(ADMINS));
  app.service('repos').publish(() => app.channel(AUTHENTICATED));
  app.service('repos').publish('progress', (data) => app.channel(userChannel((data as unknown as { user_id: string }).user_id)));
  app.service('boards').publish(() => app.channel(AUTHENTICATED));
  // Worktree records are also administered by admins (records only, never contents).
  // Who just lost sight of it hears only its id and that fact, so open pages can drop it at once.
  const revokedNotice = (ctx: HookContext, worktreeId: string) =>
    revokedOf(ctx).map((userId) => app.channel(userChannel(userId)).send({ id: worktreeId, worktree_id: worktreeId, access_revoked: true }));
  app.service('worktrees').publish((data, ctx) => {
    const id = (data as { id: string }).id;
    return [app.channel(worktreeChannel(id)), app.channel(ADMINS), ...revokedNotice(ctx, id)];
  });
  app.service('worktrees/:worktree_id/owners').publish((data, ctx) => [inWorktree(data), app.channel(ADMINS), ...revokedNotice(ctx, (data as { worktree_id: string }).worktree_id)]);
  app.service('sessions').publish(inWorktree);
  app.service('tasks').publish(inWorktree);
  app.service('approvals').publish(inWorktree);
  // send(data): each event carries its own message (a batch create would otherwise make the socket
  // transport search the whole batch for every event).
  app.service('messages').publish((data) => inWorktree(data).send(data));
  app.service('board-items').publish(inWorktree);
  // Who is looking at a worktree: only to those who may view it.
  app.service('presence').publish('changed', inWorktree);
}
