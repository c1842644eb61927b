import { FeathersError, GeneralError, type FeathersErrorJSON } from '@feathersjs/errors';
import type { Context, Next } from 'koa';

/** @feathersjs/errors has no 413; requests over the body cap get this one. */
export class PayloadTooLarge extends FeathersError {
  constructor(message = 'Request body is larger than the 10 MB limit') {
    super(message, 'PayloadTooLarge', 413, 'payload-too-large', {});
  }
}

/** Neither has it a 415, for request bodies that are not JSON. */
export class UnsupportedMediaType extends FeathersError {
  constructor(message: string) {
    super(message, 'UnsupportedMediaType', 415, 'unsupported-media-type', {});
  }
}

const HTTP_STATUS_ERRORS: Record<number, (message: string) => FeathersError> = {
  400: (m) => new FeathersError(`Malformed request body: ${m}`, 'BadRequest', 400, 'bad-request', {}),
  413: () => new PayloadTooLarge(),
  415: (m) => new UnsupportedMediaType(m),
};

/**
 * Turns any error into a Feathers error body with the right status. Errors from the body parser
 * carry an HTTP status (400 malformed JSON, 413 too large); anything unexpected becomes a 500
 * whose details stay in the daemon's log, never in the response.
 */
export function toFeathersError(error: unknown): FeathersError {
  if (error instanceof FeathersError) return error;
  const status = (error as { status?: number }).status;
  const make = status ? HTTP_STATUS_ERRORS[status] : undefined;
  if (make) return make((error as Error).message);
  console.error('[error]', error);
  return new GeneralError('Internal error; see the daemon log');
}

export function errorHandler() {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.body === undefined) throw new FeathersError(`Path ${ctx.path} not found`, 'NotFound', 404, 'not-found', {});
    } catch (raw) {
      const error = toFeathersError(raw);
      const json: FeathersErrorJSON = error.toJSON();
      const retryAfter = (error.data as { retryAfter?: number } | undefined)?.retryAfter;
      if (retryAfter) ctx.set('Retry-After', String(retryAfter));
      ctx.status = error.code;
      ctx.body = json;
    }
  };
}
