import { BadRequest } from '@feathersjs/errors';
import type { NextFunction } from '@feathersjs/feathers';
import type { HookContext } from '../declarations.js';
import { toFeathersError } from '../http/errors.js';

/** Ids are UUIDs, names or "me": short printable strings. Numbers are accepted as Feathers allows them. */
const MAX_ID_LENGTH = 256;
const ID_METHODS = new Set(['get', 'update', 'patch', 'remove']);

/** Why `id` cannot name a record, or null. `null` (a multi call) is left to the service to refuse. */
export function whyBadId(id: unknown): string | null {
  if (id === null || id === undefined) return null;
  if (typeof id === 'number') return Number.isFinite(id) ? null : 'must be a finite number or a string';
  if (typeof id !== 'string') return `must be a string (got ${Array.isArray(id) ? 'an array' : `a value of type ${typeof id}`})`;
  if (id.length === 0) return 'must not be empty';
  if (id.length > MAX_ID_LENGTH) return `must be at most ${MAX_ID_LENGTH} characters`;
  if (/[\x00-\x1f\x7f]/.test(id)) return 'must not contain control characters';
  return null;
}

/**
 * App-wide around hook, outermost, for external calls on both transports: the id is checked for type
 * and shape before any service or hook sees it, and whatever goes wrong inside reaches the caller as
 * a Feathers error with a sentence. An unexpected error (a TypeError, SQL text, a file path) becomes a
 * 500 whose details stay in the daemon's log: Socket.IO would otherwise send it with its stack.
 */
export async function guardExternalCall(context: HookContext, next: NextFunction): Promise<void> {
  if (!context.params.provider) return next();
  if (ID_METHODS.has(context.method)) {
    const why = whyBadId(context.id);
    if (why) throw new BadRequest(`Invalid id: it ${why}`);
  }
  try {
    await next();
  } catch (error) {
    throw toFeathersError(error);
  }
}
