import { z } from 'zod';
import { pageQuery } from '../pagination.js';

/** `awaiting_permission`: running, paused until a person answers a tool approval (issue 16). */
export const TASK_STATUSES = ['queued', 'running', 'awaiting_permission', 'completed', 'failed', 'stopped'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** A prompt sent to a session. `executed_as` is the session's creator: whose identity runs it. */
export interface TaskRow {
  id: string;
  session_id: string;
  worktree_id: string;
  prompt: string;
  created_by: string;
  executed_as: string;
  status: TaskStatus;
  reason: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export const taskCreateSchema = z.strictObject({
  session_id: z.string().min(1),
  prompt: z.string().min(1, 'must not be empty').max(1_000_000),
});

/** Clients may only stop a task (a queued one is cancelled, a running one stopped). */
export const taskPatchSchema = z.strictObject({ status: z.literal('stopped') });

export const taskQuerySchema = z.strictObject({
  session_id: z.string().optional(),
  worktree_id: z.string().optional(),
  status: z.enum(TASK_STATUSES).optional(),
  ...pageQuery,
});

export type TaskCreate = z.output<typeof taskCreateSchema>;
