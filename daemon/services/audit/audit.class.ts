import { NotFound } from '@feathersjs/errors';
import type { Id, Paginated, Params } from '@feathersjs/feathers';
import type { Database } from '../../db/database.js';
import { AUDIT_EVENTS_TABLE, type AuditRow } from '../../audit/chain.js';
import { applyAuditScope, auditScopeFor } from './audit-scope.js';
import { toPublicAuditEvent, type AuditQuery, type PublicAuditEvent } from './audit.schema.js';

/**
 * Reads the audit log, newest first, within the caller's scope. There are deliberately no write
 * methods: rows are only ever appended by daemon/audit/chain.ts.
 */
export class AuditService {
  constructor(private readonly db: Database) {}

  private scoped(params: Params) {
    return applyAuditScope(this.db<AuditRow>(AUDIT_EVENTS_TABLE), auditScopeFor(params.user, this.db));
  }

  async find(params: Params): Promise<Paginated<PublicAuditEvent>> {
    const { $limit = 100, $skip = 0, ...f } = (params.query ?? {}) as AuditQuery;
    const base = this.scoped(params).where((qb) => {
      if (f.actor !== undefined) qb.where('actor', f.actor);
      if (f.action !== undefined) {
        if (f.action.endsWith('.*')) qb.where('action', 'like', `${f.action.slice(0, -1)}%`);
        else qb.where('action', f.action);
      }
      if (f.target_type !== undefined) qb.where('target_type', f.target_type);
      if (f.target_id !== undefined) qb.where('target_id', f.target_id);
      if (f.worktree_id !== undefined) qb.where('worktree_id', f.worktree_id);
      if (f.decision !== undefined) qb.where('decision', f.decision);
      if (f.since !== undefined) qb.where('at', '>=', f.since);
      if (f.until !== undefined) qb.where('at', '<', f.until);
      if (f.after_seq !== undefined) qb.where('seq', '>', f.after_seq);
    });
    const [{ total }] = await base.clone().count({ total: '*' });
    const rows = await base.clone().orderBy('seq', 'desc').limit($limit).offset($skip);
    return { total: Number(total), limit: $limit, skip: $skip, data: rows.map((row) => toPublicAuditEvent(row as AuditRow)) };
  }

  async get(id: Id, params: Params): Promise<PublicAuditEvent> {
    const seq = Number(id);
    const row = Number.isSafeInteger(seq) ? await this.scoped(params).where('seq', seq).first() : undefined;
    if (!row) throw new NotFound(`No audit event with seq ${id}`);
    return toPublicAuditEvent(row as AuditRow);
  }
}
