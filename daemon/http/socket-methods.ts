import { MethodNotAllowed } from '@feathersjs/errors';
import type { Socket } from 'socket.io';

/**
 * Feathers listens on a socket only for the method names some service offers; any other event
 * (`socket.emit('frobnicate', 'users', cb)`) would never be answered, and the caller would wait for
 * its timeout. Every such event that asks for an answer gets MethodNotAllowed, as REST answers 405.
 * (A known method on a service that lacks it, or an unknown path, is answered by Feathers itself.)
 */
export function answerUnknownMethods(socket: Socket): void {
  socket.onAny((event: unknown, ...args: unknown[]) => {
    if (typeof event === 'string' && socket.listeners(event).length > 0) return;
    const answer = args[args.length - 1];
    if (typeof answer !== 'function') return;
    const name = typeof event === 'string' ? JSON.stringify(event.slice(0, 100)) : 'without a name';
    answer(new MethodNotAllowed(`Method ${name} is not offered by any service; services offer find, get, create, update, patch and remove (as each allows)`).toJSON());
  });
}
