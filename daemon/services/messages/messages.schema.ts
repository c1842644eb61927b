import { z } from 'zod';
import { pageQuery } from '../pagination.js';

/** The normalised kinds of agent output (the raw payload is kept beside it). */
export const MESSAGE_TYPES = ['text', 'thinking', 'tool_use', 'tool_result', 'error', 'usage', 'status', 'permission_request'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export interface MessageRow {
  id: number;
  task_id: string;
  session_id: string;
  worktree_id: string;
  type: MessageType;
  content: string;
  raw: string | null;
  created_at: string;
}

export interface PublicMessage extends Omit<MessageRow, 'content' | 'raw'> {
  content: unknown;
  raw: unknown;
}

export function toPublicMessage(row: MessageRow): PublicMessage {
  return { ...row, content: JSON.parse(row.content), raw: row.raw === null ? null : JSON.parse(row.raw) };
}

/** Written by the runner only (not an external method). */
export const messageCreateSchema = z.strictObject({
  task_id: z.string().min(1),
  type: z.enum(MESSAGE_TYPES),
  content: z.unknown(),
  raw: z.unknown().optional(),
});

export const messageQuerySchema = z.strictObject({
  session_id: z.string().optional(),
  task_id: z.string().optional(),
  worktree_id: z.string().optional(),
  ...pageQuery,
});

export type MessageCreate = z.output<typeof messageCreateSchema>;
