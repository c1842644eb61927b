import { authenticate } from '@feathersjs/authentication';
import { Forbidden } from '@feathersjs/errors';
import type { NextFunction } from '@feathersjs/feathers';
import type { HookContext } from '../declarations.js';

const READ_METHODS = new Set(['find', 'get']);
const checkCredentials = authenticate('jwt', 'apikey');

/**
 * Registered once on the whole app, so a service added later cannot forget it: every external
 * call except logging in needs a valid JWT or API key; read-scoped keys may only read.
 */
export async function requireAuthentication(context: HookContext, next: NextFunction): Promise<void> {
  if ((context.path as string) !== 'authentication' && context.params.provider) {
    await checkCredentials(context as never);
    if (context.params.apiKey?.scope === 'read' && !READ_METHODS.has(context.method)) {
      throw new Forbidden('This API key is read-only; create a key with scope "full" to change things');
    }
  }
  await next();
}
