import type { Context, Next } from 'koa';
import { Forbidden, NotAuthenticated, NotFound } from '@feathersjs/errors';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Application } from '../declarations.js';
import { allowOrThrow } from '../rbac/authorize.js';
import type { Subject } from '../rbac/decide.js';
import { onAuditAppended } from '../audit/chain.js';
import { runnerOf } from '../runner/index.js';

/**
 * GET /metrics in Prometheus text format. One registry per app (several test daemons share a
 * process). Counts and timings only: no ids, names, emails or paths in any label; the `route`
 * label is the service name (or health/metrics/ui/other), so its values are a fixed set.
 */
export class DaemonMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'agor_http_requests_total',
    help: 'HTTP requests by route (service name), method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly loginFailures = new Counter({ name: 'agor_login_failures_total', help: 'Refused logins (as audited: auth.login_failed)', registers: [this.registry] });
  readonly executorSpawn = new Histogram({
    name: 'agor_executor_spawn_seconds',
    help: 'From spawning a task executor to its ready message',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });

  constructor(app: Application) {
    collectDefaultMetrics({ register: this.registry, prefix: 'agor_' }); // includes agor_nodejs_eventloop_lag_seconds
    new Gauge({
      name: 'agor_socket_connections',
      help: 'Open Socket.IO connections',
      registers: [this.registry],
      collect() {
        this.set(app.io?.of('/').sockets.size ?? 0);
      },
    });
    new Gauge({
      name: 'agor_tasks',
      help: 'Tasks by status (database)',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const rows = (await app.get('db')('tasks').select('status').count({ n: '*' }).groupBy('status')) as { status: string; n: number }[];
        this.reset();
        for (const { status, n } of rows) this.set({ status }, Number(n));
      },
    });
    new Gauge({
      name: 'agor_task_queue_length',
      help: 'Tasks waiting in the runner for a slot (limits, one per session)',
      registers: [this.registry],
      collect() {
        this.set(runnerOf(app).queueLength);
      },
    });
    onAuditAppended(app.get('db'), (row) => {
      if (row.action === 'auth.login_failed') this.loginFailures.inc();
    });
    runnerOf(app).onExecutorReady = (seconds) => this.executorSpawn.observe(seconds);
  }
}

export function metricsOf(app: Application): DaemonMetrics {
  return app.get('metrics');
}

function routeLabel(app: Application, path: string): string {
  const first = path.split('/')[1] ?? '';
  if (first === 'health' || first === 'metrics') return first;
  if (first === '' || first === 'index.html' || first === 'assets') return 'ui';
  return Object.hasOwn(app.services, first) ? first : 'other';
}

/** Outermost middleware: counts every HTTP request once its status is final. */
export function countRequests(app: Application) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } finally {
      metricsOf(app).requests.inc({ route: routeLabel(app, ctx.path), method: ctx.method, status: String(ctx.status) });
    }
  };
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** GET /metrics, as `metrics.access` says (read per request: it applies live). */
export function metricsRoute(app: Application) {
  return async (ctx: Context, next: Next) => {
    if (ctx.path !== '/metrics' || ctx.method !== 'GET') return next();
    const access = app.get('runtime').config.metrics.access;
    if (access === 'off') throw new NotFound('Metrics are off (metrics.access: off)');
    if (access === 'loopback') {
      if (!LOOPBACK.has(ctx.req.socket.remoteAddress ?? '')) throw new Forbidden('Metrics are served to local callers only (metrics.access: loopback)');
    } else {
      const auth = app.service('authentication' as never) as unknown as {
        parse(req: unknown, res: unknown, ...names: string[]): Promise<Record<string, unknown> | null>;
        authenticate(data: Record<string, unknown>, params: object, ...names: string[]): Promise<{ user?: { role: string } }>;
      };
      const credential = await auth.parse(ctx.req, ctx.res, 'apikey', 'jwt');
      if (!credential) throw new NotAuthenticated('Metrics need an admin\'s credential: "Authorization: Bearer <token or API key>"');
      const { user } = await auth.authenticate(credential, { provider: 'rest' }, 'apikey', 'jwt');
      if (!user) throw new NotAuthenticated('Metrics need an admin\'s credential: "Authorization: Bearer <token or API key>"');
      allowOrThrow(user as unknown as Subject, 'system.metrics');
    }
    const registry = metricsOf(app).registry;
    ctx.set('Content-Type', registry.contentType);
    ctx.body = await registry.metrics();
  };
}
