import { z } from 'zod';
import type { Application, HookContext } from '../../declarations.js';
import { parseInput } from '../validate.js';
import { InfoService } from './info.class.js';
import { infoMethods, infoPath } from './info.shared.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [infoPath]: InfoService;
  }
}

const noQuery = z.strictObject({});

export function configureInfo(app: Application): void {
  // Signed-in callers only (the global requireAuthentication hook); it takes no query.
  app.use(infoPath, new InfoService(app), { methods: [...infoMethods] });
  app.service(infoPath).hooks({ before: { find: [(ctx: HookContext) => void parseInput(noQuery, ctx.params.query ?? {}, 'query')] } });
}
