import { z } from 'zod';
import { pageQuery } from '../pagination.js';

export interface BoardRow {
  id: string;
  name: string;
  created_by: string | null;
  created_at: string;
}

/** A worktree's place on a board. Visible only to those who may view the worktree. */
export interface BoardItemRow {
  id: string;
  board_id: string;
  worktree_id: string;
  x: number;
  y: number;
}

export const boardCreateSchema = z.strictObject({ name: z.string().trim().min(1).max(100) });
export const boardPatchSchema = boardCreateSchema;
export const boardQuerySchema = z.strictObject({ ...pageQuery });

const coordinate = z.number().finite().min(-1e6).max(1e6);
export const boardItemCreateSchema = z.strictObject({ board_id: z.string().min(1), worktree_id: z.string().min(1), x: coordinate, y: coordinate });
export const boardItemPatchSchema = z
  .strictObject({ x: coordinate.optional(), y: coordinate.optional() })
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');
export const boardItemQuerySchema = z.strictObject({ board_id: z.string().optional(), worktree_id: z.string().optional(), ...pageQuery });

export type BoardItemCreate = z.output<typeof boardItemCreateSchema>;
