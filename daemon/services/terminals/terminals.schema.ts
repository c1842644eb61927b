import { z } from 'zod';

const cols = z.number().int().min(2).max(1000);
const rows = z.number().int().min(1).max(1000);
const terminalId = z.string().min(1).max(64);

export const terminalCreateSchema = z.strictObject({ worktree_id: z.string().min(1).max(64), cols, rows });
/** One keystroke batch or a paste; 64 KiB at most per call. */
export const terminalInputSchema = z.strictObject({ id: terminalId, data: z.string().max(65536) });
export const terminalResizeSchema = z.strictObject({ id: terminalId, cols, rows });
