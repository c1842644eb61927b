export const approvalsPath = 'approvals';
/** Requests are made by the runner; people list, read and answer (patch) them. */
export const approvalsMethods = ['find', 'get', 'patch'] as const;
export type { PublicApproval, ApprovalStatus } from './approvals.schema.js';
