import { z } from 'zod';
import { parseWorktreeToolPolicy, worktreeToolPolicySchema, type WorktreeToolPolicy } from '../../policy/rules.js';
import { FS_ACCESS, TIERS, type FsAccess, type Tier } from '../../rbac/tiers.js';
import { booleanQuery, pageQuery } from '../pagination.js';

export interface WorktreeRow {
  id: string;
  repo_id: string;
  name: string;
  path: string;
  branch: string;
  others_can: Tier;
  others_fs_access: FsAccess;
  dangerously_allow_session_sharing: boolean | number;
  unix_group: string | null;
  archived: boolean | number;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  /** JSON of the owners' tool policy (daemon/policy/rules.ts); null: the defaults. */
  tool_policy?: string | null;
}

export interface PublicWorktree extends Omit<WorktreeRow, 'archived' | 'dangerously_allow_session_sharing' | 'tool_policy'> {
  archived: boolean;
  dangerously_allow_session_sharing: boolean;
  tool_policy: WorktreeToolPolicy;
  owners: string[];
}

export function toPublicWorktree(row: WorktreeRow & { owners?: string | string[]; is_owner?: unknown; total_count?: unknown }): PublicWorktree {
  const { owners, is_owner: _o, total_count: _t, ...rest } = row;
  return {
    ...rest,
    archived: Boolean(row.archived),
    dangerously_allow_session_sharing: Boolean(row.dangerously_allow_session_sharing),
    tool_policy: parseWorktreeToolPolicy(row.tool_policy),
    owners: typeof owners === 'string' ? JSON.parse(owners) : (owners ?? []),
  };
}

export const worktreeName = z
  .string()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit')
  .refine((n) => !n.includes('..'), 'must not contain ".."');

export const worktreeCreateSchema = z.strictObject({
  repo_id: z.string().min(1),
  name: worktreeName,
  branch: z.string().min(1).max(255).optional(),
  base: z.string().min(1).max(255).optional(),
  others_can: z.enum(TIERS).default('session'),
  others_fs_access: z.enum(FS_ACCESS).default('read'),
  dangerously_allow_session_sharing: z.boolean().default(false),
});

export const worktreePatchSchema = z
  .strictObject({
    others_can: z.enum(TIERS).optional(),
    others_fs_access: z.enum(FS_ACCESS).optional(),
    dangerously_allow_session_sharing: z.boolean().optional(),
    /** The owners' tool policy: rules that only tighten, and whether allow-all sessions are allowed. */
    tool_policy: worktreeToolPolicySchema.optional(),
    archived: z.boolean().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');

export const PERMISSION_FIELDS = ['others_can', 'others_fs_access', 'dangerously_allow_session_sharing', 'tool_policy'] as const;

export const worktreeQuerySchema = z.strictObject({
  repo_id: z.string().optional(),
  archived: booleanQuery.optional(),
  ...pageQuery,
});

export const worktreeRemoveQuerySchema = z.strictObject({ force: booleanQuery.optional() });

export type WorktreeCreate = z.output<typeof worktreeCreateSchema>;
export type WorktreePatch = z.output<typeof worktreePatchSchema>;
