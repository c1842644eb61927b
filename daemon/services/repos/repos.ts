import type { Application } from '../../declarations.js';
import { parseInput } from '../validate.js';
import { ReposService } from './repos.class.js';
import { repoCreateSchema, repoQuerySchema } from './repos.schema.js';
import { repoEvents, reposMethods, reposPath } from './repos.shared.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [reposPath]: ReposService;
  }
}

export function configureRepos(app: Application): void {
  app.use(reposPath, new ReposService(app), { methods: [...reposMethods], events: [...repoEvents] });
  app.service(reposPath).hooks({
    before: {
      find: [(ctx) => void (ctx.params.query = parseInput(repoQuerySchema, ctx.params.query ?? {}, 'query'))],
      create: [(ctx) => void (ctx.data = parseInput(repoCreateSchema, ctx.data))],
    },
  });
}
