import { Forbidden, NotAuthenticated } from '@feathersjs/errors';
import type { Application, HookContext } from '../../declarations.js';
import { onAuditAppended } from '../../audit/chain.js';
import { parseInput } from '../validate.js';
import { AuditService } from './audit.class.js';
import { auditScopeFor, auditScopeIsEmpty } from './audit-scope.js';
import { auditQuerySchema, toPublicAuditEvent } from './audit.schema.js';
import { auditMethods, auditPath } from './audit.shared.js';
import { configureAuditChain } from './audit-chain.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [auditPath]: AuditService;
  }
}

/** Internal callers act for a user too; a caller whose scope is empty is refused outright. */
async function authorizeAuditRead(context: HookContext<AuditService>): Promise<void> {
  const { user } = context.params;
  if (!user) throw new NotAuthenticated('Not authenticated');
  const db = context.app.get('db');
  if (await auditScopeIsEmpty(auditScopeFor(user, db), user, db)) {
    throw new Forbidden("Only admins and owners can read the audit log, and worktree owners their worktrees' events");
  }
}

export function configureAudit(app: Application): void {
  const db = app.get('db');
  // `created` is emitted for each appended row (published to admins in channels.ts); there is
  // no create method, so nothing outside the daemon can write.
  app.use(auditPath, new AuditService(db), { methods: [...auditMethods], events: [] });
  app.service(auditPath).hooks({
    before: {
      all: [authorizeAuditRead],
      find: [(ctx) => void (ctx.params.query = parseInput(auditQuerySchema, ctx.params.query ?? {}, 'query'))],
    },
  });
  onAuditAppended(db, (row) => app.service(auditPath).emit('created', toPublicAuditEvent(row)));
  configureAuditChain(app);
}
