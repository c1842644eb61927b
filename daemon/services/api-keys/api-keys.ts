import { NotAuthenticated } from '@feathersjs/errors';
import type { Application, HookContext } from '../../declarations.js';
import { parseInput } from '../validate.js';
import { auditApiKeyChanges } from '../../audit/service-hooks.js';
import { ApiKeysService } from './api-keys.class.js';
import { apiKeyCreateSchema, apiKeyQuerySchema, type PublicApiKey } from './api-keys.schema.js';
import { revokeApiKeyConnections } from '../../channels.js';
import { apiKeysMethods, apiKeysPath } from './api-keys.shared.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [apiKeysPath]: ApiKeysService;
  }
}

// Internal callers act for a user too: the service has no meaning without one.
const requireUser = (ctx: HookContext) => {
  if (!ctx.params.user) throw new NotAuthenticated('Not authenticated');
};

export function configureApiKeys(app: Application): void {
  app.use(apiKeysPath, new ApiKeysService(app.get('db')), { methods: [...apiKeysMethods] });
  app.service(apiKeysPath).hooks({
    around: { create: [auditApiKeyChanges], remove: [auditApiKeyChanges] },
    before: {
      all: [requireUser],
      find: [(ctx) => void (ctx.params.query = parseInput(apiKeyQuerySchema, ctx.params.query ?? {}, 'query'))],
      create: [(ctx) => void (ctx.data = parseInput(apiKeyCreateSchema, ctx.data))],
    },
    // Sockets that signed in with the key stop hearing events at once, as their calls stop working.
    after: { remove: [(ctx) => revokeApiKeyConnections(app, (ctx.result as PublicApiKey).id)] },
  });
}
