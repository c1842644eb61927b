import type { Context, Next } from 'koa';
import { NotAuthenticated } from '@feathersjs/errors';
import { UnsupportedMediaType } from './errors.js';

/** Query-string names that would put a credential in URLs, logs and browser history. */
export const QUERY_TOKEN_NAMES = ['access_token', 'accessToken', 'token', 'jwt', 'api_key', 'apiKey', 'apikey', 'authorization'];

export function queryCarriesToken(query: Record<string, unknown>): boolean {
  return Object.keys(query).some((k) => QUERY_TOKEN_NAMES.includes(k));
}

export const QUERY_TOKEN_MESSAGE = 'Credentials in the query string are refused; send them in the header "Authorization: Bearer <token>"';

export function refuseQueryTokens() {
  return async (ctx: Context, next: Next) => {
    if (queryCarriesToken(ctx.query)) throw new NotAuthenticated(QUERY_TOKEN_MESSAGE);
    await next();
  };
}

/** Liveness and version only: the one route besides logging in that needs no credentials. */
export function healthRoute(version: string) {
  return async (ctx: Context, next: Next) => {
    if (ctx.path === '/health' && ctx.method === 'GET') {
      ctx.body = { status: 'ok', version };
      return;
    }
    await next();
  };
}

/** Hands the remote address to services (login rate limiting). */
export function remoteAddress() {
  return async (ctx: Context & { feathers?: Record<string, unknown> }, next: Next) => {
    ctx.feathers = { ...ctx.feathers, ip: ctx.request.ip };
    await next();
  };
}

/**
 * Request bodies are JSON. A body of another type (text/plain, a form) is refused with 415 rather
 * than read as empty: an empty body would let a service act on its defaults. A request with no body
 * at all is left to the service's own validation.
 */
export function requireJsonBodies() {
  return async (ctx: Context, next: Next) => {
    const hasBody = Boolean(ctx.get('transfer-encoding')) || (ctx.request.length ?? 0) > 0;
    if (hasBody && !ctx.request.is('application/json', '+json')) {
      const type = ctx.request.type || 'none';
      throw new UnsupportedMediaType(`Request bodies must be JSON (Content-Type: application/json); this one is ${JSON.stringify(type.slice(0, 100))}`);
    }
    await next();
  };
}
