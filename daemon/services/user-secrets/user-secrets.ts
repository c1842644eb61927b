import { auditSecretChanges } from '../../audit/service-hooks.js';
import { NotAuthenticated } from '@feathersjs/errors';
import type { Application, HookContext } from '../../declarations.js';
import { secretBoxOf } from '../../crypto/secrets-at-rest.js';
import { parseInput } from '../validate.js';
import { UserSecretsService } from './user-secrets.class.js';
import { userSecretCreateSchema, userSecretNoQuerySchema, userSecretPatchSchema, userSecretQuerySchema } from './user-secrets.schema.js';
import { userSecretsMethods, userSecretsPath } from './user-secrets.shared.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [userSecretsPath]: UserSecretsService;
  }
}

// Internal callers act for a user too: a secret always belongs to someone.
const requireUser = (ctx: HookContext) => {
  if (!ctx.params.user) throw new NotAuthenticated('Not authenticated');
};

export function configureUserSecrets(app: Application): void {
  app.use(userSecretsPath, new UserSecretsService(app.get('db'), () => secretBoxOf(app)), { methods: [...userSecretsMethods] });
  app.service(userSecretsPath).hooks({
    around: { all: [auditSecretChanges] },
    before: {
      all: [requireUser],
      find: [(ctx) => void (ctx.params.query = parseInput(userSecretQuerySchema, ctx.params.query ?? {}, 'query'))],
      get: [(ctx) => void (ctx.params.query = parseInput(userSecretNoQuerySchema, ctx.params.query ?? {}, 'query'))],
      create: [(ctx) => void (ctx.data = parseInput(userSecretCreateSchema, ctx.data))],
      patch: [
        (ctx) => {
          ctx.params.query = parseInput(userSecretNoQuerySchema, ctx.params.query ?? {}, 'query');
          ctx.data = parseInput(userSecretPatchSchema, ctx.data) as never;
        },
      ],
      remove: [(ctx) => void (ctx.params.query = parseInput(userSecretNoQuerySchema, ctx.params.query ?? {}, 'query'))],
    },
  });
}
