// A Socket.IO connection for commands that follow work as it happens (prompt --wait, session log
// --follow). Loaded only by them: socket.io-client alone costs more than a bare node start.
import { feathers, type Application } from '@feathersjs/feathers';
import socketioModule from '@feathersjs/socketio-client';
import authModule from '@feathersjs/authentication-client';
import { io, type Socket } from 'socket.io-client';
import { credentials, type GlobalOptions } from './context.js';
import { CliError } from './errors.js';
import { looksLikeApiKey } from '../daemon/auth/api-key-format.js';

// The CommonJS modules are the functions themselves; under NodeNext their typings see namespaces.
const socketio = socketioModule as unknown as typeof socketioModule.default;
const authentication = authModule as unknown as typeof authModule.default;

export interface Live {
  app: Application;
  socket: Socket;
  url: string;
  close(): void;
}

/**
 * Connects and signs in over Socket.IO. After a drop, socket.io reconnects and the authentication
 * client signs in again by itself; `onReconnected` callers re-read what they may have missed.
 */
export async function connectLive(opts: GlobalOptions): Promise<Live> {
  const { url, token } = credentials(opts);
  const socket = io(url, { transports: ['websocket'], reconnectionDelayMax: 2000 });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', () => {
      socket.close();
      reject(new CliError(`Cannot reach the daemon at ${url}: is it running? (agor daemon start)`));
    });
  });
  const app = feathers().configure(socketio(socket as never, { timeout: 20_000 })).configure(authentication());
  await (app as unknown as { authenticate(data: object): Promise<unknown> }).authenticate(
    looksLikeApiKey(token) ? { strategy: 'apikey', apiKey: token } : { strategy: 'jwt', accessToken: token },
  );
  return { app, socket, url, close: () => socket.close() };
}

/** Calls `fn` each time the connection is back and signed in again after a drop. */
export function onReconnected(live: Live, fn: () => void): void {
  let dropped = false;
  live.socket.on('disconnect', () => void (dropped = true));
  live.app.on('authenticated', () => {
    if (!dropped) return;
    dropped = false;
    fn();
  });
}

/** Calls `fn` when the session is deleted (its tasks and messages go with it: nothing more will come). */
export function onSessionRemoved(live: Live, sessionId: string, fn: () => void): void {
  live.app.service('sessions').on('removed', (s: { id: string }) => {
    if (s.id === sessionId) fn();
  });
}
