import { z } from 'zod';
import { booleanQuery, pageQuery } from '../pagination.js';
import { AGENT_NAME_PATTERN } from '../../config/schema.js';
import { PERMISSION_MODES, type PermissionMode } from '../../policy/rules.js';

export interface SessionRow {
  id: string;
  worktree_id: string;
  agent: string;
  title: string;
  created_by: string;
  parent_session_id: string | null;
  forked_from: string | null;
  resume_handle: string | null;
  /** What the tool policy asks a person about (daemon/policy); changed by the creator only. */
  permission_mode: PermissionMode;
  archived: boolean | number;
  created_at: string;
  updated_at: string;
}

export interface PublicSession extends Omit<SessionRow, 'archived' | 'resume_handle'> {
  archived: boolean;
}

export function toPublicSession(row: SessionRow): PublicSession {
  const { resume_handle: _r, ...rest } = row;
  return { ...rest, archived: Boolean(row.archived) };
}

// Which names exist is decided at create time by daemon/runner/agents.ts (built-ins + config).
const agent = z.string().regex(AGENT_NAME_PATTERN, 'must be an agent name such as "claude-code"');
const title = z.string().trim().max(200);

/**
 * A new session in a worktree, or a child of an existing one: `fork_from` (a copy that goes its
 * own way) or `spawn_from` (a sub-session). `created_by` is never accepted: the server sets it.
 */
export const sessionCreateSchema = z
  .strictObject({
    worktree_id: z.string().min(1).optional(),
    fork_from: z.string().min(1).optional(),
    spawn_from: z.string().min(1).optional(),
    agent: agent.optional(),
    title: title.optional(),
    /** Default `ask` (a fork or sub-session keeps its parent's). */
    permission_mode: z.enum(PERMISSION_MODES).optional(),
  })
  .superRefine((v, ctx) => {
    const sources = [v.worktree_id, v.fork_from, v.spawn_from].filter((x) => x !== undefined).length;
    if (sources !== 1) ctx.addIssue({ code: 'custom', path: ['worktree_id'], message: 'give exactly one of worktree_id, fork_from or spawn_from' });
    if (v.worktree_id !== undefined && v.agent === undefined) ctx.addIssue({ code: 'custom', path: ['agent'], message: 'is required for a new session' });
  });

export const sessionPatchSchema = z
  .strictObject({ title: title.optional(), archived: z.boolean().optional(), permission_mode: z.enum(PERMISSION_MODES).optional() })
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');

export const sessionQuerySchema = z.strictObject({
  worktree_id: z.string().optional(),
  created_by: z.string().optional(),
  archived: booleanQuery.optional(),
  ...pageQuery,
});

export type SessionCreate = z.output<typeof sessionCreateSchema>;
export type SessionPatch = z.output<typeof sessionPatchSchema>;
