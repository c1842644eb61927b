import type { Application } from '../../declarations.js';
import { parseInput } from '../validate.js';
import { BoardItemsService, BoardsService } from './boards.class.js';
import { boardCreateSchema, boardItemCreateSchema, boardItemPatchSchema, boardItemQuerySchema, boardPatchSchema, boardQuerySchema } from './boards.schema.js';
import { boardItemsMethods, boardItemsPath, boardsMethods, boardsPath } from './boards.shared.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [boardsPath]: BoardsService;
    [boardItemsPath]: BoardItemsService;
  }
}

export function configureBoards(app: Application): void {
  app.use(boardsPath, new BoardsService(app), { methods: [...boardsMethods] });
  app.service(boardsPath).hooks({
    before: {
      find: [(ctx) => void (ctx.params.query = parseInput(boardQuerySchema, ctx.params.query ?? {}, 'query'))],
      create: [(ctx) => void (ctx.data = parseInput(boardCreateSchema, ctx.data))],
      patch: [(ctx) => void (ctx.data = parseInput(boardPatchSchema, ctx.data))],
    },
  });
  app.use(boardItemsPath, new BoardItemsService(app), { methods: [...boardItemsMethods] });
  app.service(boardItemsPath).hooks({
    before: {
      find: [(ctx) => void (ctx.params.query = parseInput(boardItemQuerySchema, ctx.params.query ?? {}, 'query'))],
      create: [(ctx) => void (ctx.data = parseInput(boardItemCreateSchema, ctx.data))],
      patch: [(ctx) => void (ctx.data = parseInput(boardItemPatchSchema, ctx.data) as never)],
    },
  });
}
