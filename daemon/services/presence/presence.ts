import { z } from 'zod';
import type { RealTimeConnection } from '@feathersjs/feathers';
import type { Application, HookContext } from '../../declarations.js';
import { parseInput } from '../validate.js';
import { PresenceService } from './presence.class.js';
import { presenceEvents, presenceMethods, presencePath } from './presence.shared.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [presencePath]: PresenceService;
  }
}

const createSchema = z.strictObject({ worktree_id: z.string().min(1).max(64).nullable() });

export function configurePresence(app: Application): void {
  const presence = new PresenceService(app);
  app.use(presencePath, presence, { methods: [...presenceMethods], events: [...presenceEvents] });
  app.service(presencePath).hooks({
    before: {
      find: [(ctx: HookContext) => void parseInput(z.strictObject({}), ctx.params.query ?? {}, 'query')],
      create: [(ctx: HookContext) => void (ctx.data = parseInput(createSchema, ctx.data))],
    },
  });
  app.on('disconnect', (connection: RealTimeConnection) => presence.disconnect(connection));
  app.on('logout', (_result: unknown, params: { connection?: RealTimeConnection }) => {
    if (params?.connection) presence.disconnect(params.connection);
  });
}
