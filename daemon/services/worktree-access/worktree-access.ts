import { z } from 'zod';
import type { Application, HookContext } from '../../declarations.js';
import { pageQuery } from '../pagination.js';
import { parseInput } from '../validate.js';
import { WorktreeAccessService } from './worktree-access.class.js';
import { worktreeAccessMethods, worktreeAccessPath } from './worktree-access.shared.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [worktreeAccessPath]: WorktreeAccessService;
  }
}

const querySchema = z.strictObject({ worktree_id: z.string().min(1).optional(), ...pageQuery });

export function configureWorktreeAccess(app: Application): void {
  // Read-only and computed; no events (clients re-read it when a worktree or its owners change).
  app.use(worktreeAccessPath, new WorktreeAccessService(app), { methods: [...worktreeAccessMethods] });
  app.service(worktreeAccessPath).hooks({
    before: {
      find: [(ctx: HookContext) => void (ctx.params.query = parseInput(querySchema, ctx.params.query ?? {}, 'query'))],
      get: [(ctx: HookContext) => void parseInput(z.strictObject({}), ctx.params.query ?? {}, 'query')],
    },
  });
}
