import { feathers } from '@feathersjs/feathers';
import { koa, rest, bodyParser } from '@feathersjs/koa';
import socketio from '@feathersjs/socketio';
import type { Server as SocketServer } from 'socket.io';
import type { Application } from './declarations.js';
import type { Database } from './db/database.js';
import type { Runtime } from './config/load.js';
import { errorHandler } from './http/errors.js';
import { logResponseError, webUi } from './http/static-ui.js';
import { healthRoute, queryCarriesToken, QUERY_TOKEN_MESSAGE, refuseQueryTokens, remoteAddress, requireJsonBodies } from './http/middleware.js';
import { answerUnknownMethods } from './http/socket-methods.js';
import { guardExternalCall } from './services/call-guard.js';
import { configureAuthentication } from './auth/authentication.js';
import { requireAuthentication } from './auth/hooks.js';
import { auditDenials } from './audit/denials.js';
import { configureServices } from './services/index.js';
import { configureChannels } from './channels.js';
import { configureRunner } from './runner/index.js';
import { VERSION } from './version.js';
import { countRequests, DaemonMetrics, metricsRoute } from './http/metrics.js';

export const BODY_LIMIT_BYTES = 10 * 1024 * 1024;

function configureSockets(io: SocketServer): void {
  io.use((socket, next) => {
    if (queryCarriesToken(socket.handshake.query as Record<string, unknown>)) return next(new Error(QUERY_TOKEN_MESSAGE));
    (socket as unknown as { feathers: Record<string, unknown> }).feathers.ip = socket.handshake.address;
    next();
  });
  io.on('connection', answerUnknownMethods);
}

/** Assembles the daemon: transports, authentication, services, channels. Does not listen. */
export function createApp(runtime: Runtime, db: Database): Application {
  const app: Application = koa(feathers());
  app.set('runtime', runtime);
  app.set('db', db);
  app.set('version', VERSION);

  app.use(countRequests(app));
  app.use(errorHandler());
  app.use(healthRoute(VERSION));
  app.use(metricsRoute(app));
  app.use(refuseQueryTokens());
  // Static files only, outside every service path; the global service hooks do not apply to it.
  app.use(webUi());
  app.on('error', logResponseError);
  app.use(remoteAddress());
  app.use(requireJsonBodies());
  app.use(bodyParser({ jsonLimit: BODY_LIMIT_BYTES, formLimit: BODY_LIMIT_BYTES, textLimit: BODY_LIMIT_BYTES, urlencoded: false, text: false }));
  app.configure(rest());
  app.configure(socketio({ maxHttpBufferSize: BODY_LIMIT_BYTES, serveClient: false }, configureSockets));

  app.hooks({ around: { all: [guardExternalCall, auditDenials, requireAuthentication] } });
  configureServices(app);
  configureAuthentication(app);
  configureChannels(app);
  configureRunner(app);
  app.set('metrics', new DaemonMetrics(app));
  return app;
}
