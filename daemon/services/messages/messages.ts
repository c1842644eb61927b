import type { Application } from '../../declarations.js';
import { parseInput } from '../validate.js';
import { MessagesService } from './messages.class.js';
import { messageCreateSchema, messageQuerySchema } from './messages.schema.js';
import { messagesMethods, messagesPath } from './messages.shared.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [messagesPath]: MessagesService;
  }
}

export function configureMessages(app: Application): void {
  app.use(messagesPath, new MessagesService(app), { methods: [...messagesMethods] });
  app.service(messagesPath).hooks({
    before: {
      find: [(ctx) => void (ctx.params.query = parseInput(messageQuerySchema, ctx.params.query ?? {}, 'query'))],
      // Internal only (the runner); an array is one batch.
      create: [
        (ctx) => {
          ctx.data = (Array.isArray(ctx.data) ? ctx.data.map((m) => parseInput(messageCreateSchema, m)) : parseInput(messageCreateSchema, ctx.data)) as never;
        },
      ],
    },
  });
}
