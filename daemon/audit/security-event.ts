import type { Application } from '../declarations.js';
import type { AuditAction, AuditDecision } from './actions.js';
import { appendAudit, type AuditRow } from './chain.js';
import { auditActor } from './events.js';

/** A security-relevant act by a user, usually about one worktree (so its owners can see it). */
export interface SecurityEvent {
  actor: { id: string; email: string } | null | undefined;
  action: AuditAction;
  worktreeId?: string | null;
  target?: { type: string; id: string | number };
  decision?: AuditDecision | null;
  /** When given, also written to the daemon log as one `[SECURITY]` line. */
  message?: string | false;
  /** Never secrets, passwords or keys. */
  details?: Record<string, unknown>;
}

/** Appends the event to the audit log (and logs the `[SECURITY]` line first, if any). */
export async function recordSecurityEvent(app: Application, event: SecurityEvent): Promise<AuditRow> {
  if (event.message) console.warn(`[SECURITY] ${event.message}`);
  return appendAudit(app.get('db'), {
    ...auditActor(event.actor),
    action: event.action,
    target_type: event.target?.type ?? (event.worktreeId ? 'worktree' : null),
    target_id: event.target?.id ?? event.worktreeId ?? null,
    worktree_id: event.worktreeId ?? null,
    decision: event.decision ?? null,
    details: event.details ?? null,
  });
}
