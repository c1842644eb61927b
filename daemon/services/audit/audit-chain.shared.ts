import type { AuditVerification } from '../../audit/chain.js';

/**
 * Path and methods of the audit-chain service: `find` re-verifies the audit log's hash chain and
 * answers what `agor audit verify` prints (admins and owners only). Imported by the UI's settings.
 */
export const auditChainPath = 'audit-chain';
export const auditChainMethods = ['find'] as const;

/** The answer: the verification (ok, or the first broken seq and why) plus when it was made. */
export type AuditChainStatus = AuditVerification & { checked_at: string };
