import type { Application as KoaApplication } from '@feathersjs/koa';
import type { HookContext as FeathersHookContext } from '@feathersjs/feathers';
import type { Database } from './db/database.js';
import type { Runtime } from './config/load.js';
import type { LiveConfig } from './config/live.js';
import type { DaemonMetrics } from './http/metrics.js';
import type { PublicUser } from './services/users/users.schema.js';

/** Settings stored on the app with app.set(); read with app.get(). */
export interface AppSettings {
  runtime: Runtime;
  db: Database;
  version: string;
  /** Reloads config.yaml into `runtime` (daemon/config/live.ts). */
  liveConfig: LiveConfig;
  /** GET /metrics (daemon/http/metrics.ts). */
  metrics: DaemonMetrics;
}

// Services register their types here through module augmentation in their own files.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ServiceTypes {}

export type Application = KoaApplication<ServiceTypes, AppSettings>;
export type HookContext<S = any> = FeathersHookContext<Application, S>;

declare module '@feathersjs/feathers' {
  interface Params {
    user?: PublicUser;
    /** Set when the caller authenticated with an API key (directly or through a socket login). */
    apiKey?: { id: string; scope: 'full' | 'read' };
    /** Remote address of the caller, for login rate limiting. */
    ip?: string;
  }
}
