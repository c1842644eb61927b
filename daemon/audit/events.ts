import type { Database } from '../db/database.js';
import { appendAudit } from './chain.js';

/** Who did it: a user (id + email), or nobody in particular. */
export interface AuditActor {
  actor: string | null;
  actor_label: string;
}

export const SYSTEM_ACTOR: AuditActor = { actor: null, actor_label: 'system' };
export const ANONYMOUS_ACTOR: AuditActor = { actor: null, actor_label: 'anonymous' };

export function auditActor(user?: { id: string; email: string } | null, fallback: AuditActor = SYSTEM_ACTOR): AuditActor {
  return user ? { actor: user.id, actor_label: user.email } : fallback;
}

export type LoginFailureReason = 'unknown_account' | 'wrong_password' | 'disabled';

/** A successful email + password login. */
export async function recordLogin(db: Database, user: { id: string; email: string }, ip: string | undefined): Promise<void> {
  await appendAudit(db, {
    ...auditActor(user),
    action: 'auth.login',
    target_type: 'user',
    target_id: user.id,
    decision: 'allow',
    details: { strategy: 'local', ip: ip ?? null },
  });
}

/**
 * A refused login: the attempted email (never the password) and why. Attempts refused by the
 * rate limiter are not recorded, or an anonymous caller could grow the log for free.
 */
export async function recordLoginFailure(
  db: Database,
  attempt: { email: string; reason: LoginFailureReason; userId?: string; ip?: string },
): Promise<void> {
  await appendAudit(db, {
    ...ANONYMOUS_ACTOR,
    action: 'auth.login_failed',
    target_type: 'user',
    target_id: attempt.userId ?? null,
    decision: 'deny',
    details: { strategy: 'local', email: attempt.email.slice(0, 254), reason: attempt.reason, ip: attempt.ip ?? null },
  });
}
