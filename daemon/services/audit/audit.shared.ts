/** Path and methods of the audit service: read-only from outside; rows are written by daemon/audit. */
export const auditPath = 'audit';
export const auditMethods = ['find', 'get'] as const;
export type { PublicAuditEvent } from './audit.schema.js';
