import { z } from 'zod';
import { AUDIT_DECISIONS, isAuditAction } from '../../audit/actions.js';
import type { AuditRow } from '../../audit/chain.js';

/** A row as the API returns it: `details` parsed back into an object. */
export interface PublicAuditEvent extends Omit<AuditRow, 'details'> {
  details: Record<string, unknown> | string | null;
}

export function toPublicAuditEvent(row: AuditRow): PublicAuditEvent {
  let details: PublicAuditEvent['details'] = row.details;
  if (typeof row.details === 'string') {
    try {
      details = JSON.parse(row.details);
    } catch {
      // An edited row may hold anything; show it as text rather than fail the listing.
    }
  }
  return { ...row, seq: Number(row.seq), details };
}

const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'must be an ISO-8601 date or date-time, e.g. 2025-01-31T12:00:00Z' })
  .transform((v) => new Date(v).toISOString());

const action = z
  .string()
  .refine((v) => isAuditAction(v) || /^[a-z]+\.\*$/.test(v), 'must be a known audit action (e.g. "auth.login") or a prefix like "user.*"');

export const auditQuerySchema = z.strictObject({
  actor: z.string().max(64).optional(),
  action: action.optional(),
  target_type: z.string().max(64).optional(),
  target_id: z.string().max(256).optional(),
  worktree_id: z.string().max(64).optional(),
  decision: z.enum(AUDIT_DECISIONS).optional(),
  /** Inclusive. */
  since: instant.optional(),
  /** Exclusive. */
  until: instant.optional(),
  /** Only events newer than this seq (for following the log). */
  after_seq: z.coerce.number().int().min(0).optional(),
  $limit: z.coerce.number().int().min(0).max(1000).default(100),
  $skip: z.coerce.number().int().min(0).default(0),
});

export type AuditQuery = z.output<typeof auditQuerySchema>;
