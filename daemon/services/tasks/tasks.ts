import type { Application } from '../../declarations.js';
import { parseInput } from '../validate.js';
import { TasksService } from './tasks.class.js';
import { taskCreateSchema, taskPatchSchema, taskQuerySchema } from './tasks.schema.js';
import { tasksMethods, tasksPath } from './tasks.shared.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [tasksPath]: TasksService;
  }
}

export function configureTasks(app: Application): void {
  app.use(tasksPath, new TasksService(app), { methods: [...tasksMethods] });
  app.service(tasksPath).hooks({
    before: {
      find: [(ctx) => void (ctx.params.query = parseInput(taskQuerySchema, ctx.params.query ?? {}, 'query'))],
      create: [(ctx) => void (ctx.data = parseInput(taskCreateSchema, ctx.data))],
      patch: [(ctx) => void (ctx.data = parseInput(taskPatchSchema, ctx.data))],
    },
  });
}
