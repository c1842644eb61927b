import { BadRequest } from '@feathersjs/errors';
import type { Params } from '@feathersjs/feathers';
import { z } from 'zod';
import type { Application } from '../declarations.js';
import { allowOrThrow, subjectOf } from '../rbac/authorize.js';
import { parseInput } from '../services/validate.js';
import { ConfigError } from './load.js';
import { liveConfigOf } from './live.js';
import { configReloadMethods, configReloadPath, type ReloadResult } from './config-reload.shared.js';

const noData = z.strictObject({});

/**
 * POST /config-reload {}: `agor config reload`. Admins and owners only, authorised like the other
 * daemon-wide admin act (unix-sync): by role, there being no worktree for decide() to weigh.
 */
export class ConfigReloadService {
  constructor(private readonly app: Application) {}

  async create(data: unknown, params: Params): Promise<ReloadResult> {
    allowOrThrow(subjectOf(params), 'system.config_reload');
    parseInput(noData, data ?? {});
    try {
      return await liveConfigOf(this.app).reload('api', params.user);
    } catch (error) {
      if (error instanceof ConfigError) throw new BadRequest(`The config file was not applied; the daemon keeps its running config: ${error.message}`);
      throw error;
    }
  }
}

declare module '../declarations.js' {
  interface ServiceTypes {
    [configReloadPath]: ConfigReloadService;
  }
}

export function configureConfigReload(app: Application): void {
  app.use(configReloadPath, new ConfigReloadService(app), { methods: [...configReloadMethods] });
}
