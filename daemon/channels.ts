import type { RealTimeConnection } from '@feathersjs/feathers';
import type { Application } from './declarations.js';
import { atLeast } from './auth/roles.js';
import type { PublicUser } from './services/users/users.schema.js';
import type { PublicApiKey } from './services/api-keys/api-keys.schema.js';

const userChannel = (id: string) => `users/${id}`;
const ADMINS = 'admins';

/** Puts a connection in exactly the channels its user may hear: its own, plus admins' if admin+. */
function joinChannels(app: Application, connection: RealTimeConnection, user: PublicUser): void {
  app.channel(userChannel(user.id)).join(connection);
  if (atLeast(user.role, 'admin')) app.channel(ADMINS).join(connection);
  else app.channel(ADMINS).leave(connection);
}

/** Re-evaluates a user's live connections after its role changed. */
export function refreshUserChannels(app: Application, user: PublicUser): void {
  for (const connection of app.channel(userChannel(user.id)).connections) joinChannels(app, connection, user);
}

/** Disconnects every socket of a user (disabled or removed). */
export function revokeUserConnections(app: Application, userId: string): void {
  for (const connection of [...app.channel(userChannel(userId)).connections]) {
    app.channel(app.channels).leave(connection);
    app.emit('disconnect', connection);
  }
}

/**
 * Who hears which event. Anything not published here reaches nobody (default deny), so a new
 * service publishes only once someone decides its audience.
 */
export function configureChannels(app: Application): void {
  app.on('login', (authResult: { user?: PublicUser }, { connection }: { connection?: RealTimeConnection }) => {
    if (connection && authResult.user) joinChannels(app, connection, authResult.user);
  });
  app.on('logout', (_authResult: unknown, { connection }: { connection?: RealTimeConnection }) => {
    if (connection) app.channel(app.channels).leave(connection);
  });
  app.publish(() => undefined);
  app.service('users').publish((user) => [app.channel(ADMINS), app.channel(userChannel((user as PublicUser).id))]);
  // The key itself is shown once, in the create response; events never carry it.
  app.service('api-keys').publish((data) => {
    const { key: _key, ...withoutKey } = data as PublicApiKey;
    return app.channel(userChannel(withoutKey.user_id)).send(withoutKey);
  });
}
