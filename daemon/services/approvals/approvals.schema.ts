import { z } from 'zod';
import { booleanQuery, pageQuery } from '../pagination.js';

/** pending → allowed | denied (a person answered) | timed_out (nobody did) | cancelled (the task ended first). */
export const APPROVAL_STATUSES = ['pending', 'allowed', 'denied', 'timed_out', 'cancelled'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** One tool call the policy asked a person about (issue 16). */
export interface ApprovalRow {
  id: string;
  task_id: string;
  session_id: string;
  worktree_id: string;
  tool: string;
  /** JSON of the tool's input, in full. */
  input: string;
  /** The policy rule that asked (daemon/policy/decide-tool.ts). */
  rule: string;
  reason: string;
  status: ApprovalStatus;
  /** allowed: `once`, or `session` (the tool, or command prefix, for the rest of the session). */
  scope: 'once' | 'session' | null;
  command_prefix: string | null;
  /** denied: what the agent is told. */
  message: string | null;
  answered_by: string | null;
  created_at: string;
  answered_at: string | null;
}

export interface PublicApproval extends Omit<ApprovalRow, 'input'> {
  input: unknown;
}

export function toPublicApproval(row: ApprovalRow): PublicApproval {
  return { ...row, input: JSON.parse(row.input) };
}

/** An answer: allow (once, or for the session) or deny (with a message the agent sees). */
export const approvalPatchSchema = z
  .strictObject({
    decision: z.enum(['allow', 'deny']),
    scope: z.enum(['once', 'session']).default('once'),
    /** scope session, shell tools: only commands starting with these words (default: the command's first word). */
    command_prefix: z.string().trim().min(1).max(500).optional(),
    message: z.string().trim().min(1).max(2000).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.decision === 'deny' && v.scope === 'session') ctx.addIssue({ code: 'custom', path: ['scope'], message: 'a denial is for this call only (scope "once")' });
    if (v.command_prefix !== undefined && v.scope !== 'session') ctx.addIssue({ code: 'custom', path: ['command_prefix'], message: 'is only for allowing for the session (scope "session")' });
    if (v.message !== undefined && v.decision !== 'deny') ctx.addIssue({ code: 'custom', path: ['message'], message: 'is only for a denial (the agent is told it)' });
  });

export const approvalQuerySchema = z.strictObject({
  session_id: z.string().optional(),
  task_id: z.string().optional(),
  worktree_id: z.string().optional(),
  status: z.enum(APPROVAL_STATUSES).optional(),
  /** Only pending requests the caller may answer (its own sessions, or worktrees it owns). */
  answerable: booleanQuery.optional(),
  ...pageQuery,
});

export type ApprovalPatch = z.output<typeof approvalPatchSchema>;
