import { z } from 'zod';
import { pageQuery } from '../pagination.js';

export interface RepoRow {
  id: string;
  name: string;
  path: string;
  source: string;
  managed: boolean | number;
  default_branch: string | null;
  created_by: string | null;
  created_at: string;
}

export const repoName = z
  .string()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit')
  .refine((n) => !n.includes('..'), 'must not contain ".."');

/** Register a repository already on this machine (`path`) or clone one (`url`). */
export const repoCreateSchema = z
  .strictObject({
    path: z.string().min(1).max(1024).optional(),
    url: z.string().min(1).max(2048).optional(),
    name: repoName.optional(),
  })
  .superRefine((v, ctx) => {
    if ((v.path === undefined) === (v.url === undefined)) ctx.addIssue({ code: 'custom', path: ['path'], message: 'give exactly one of path or url' });
  });

export const repoQuerySchema = z.strictObject({ name: z.string().optional(), ...pageQuery });

export type RepoCreate = z.output<typeof repoCreateSchema>;

export function toPublicRepo(row: RepoRow) {
  return { ...row, managed: Boolean(row.managed) };
}
export type PublicRepo = ReturnType<typeof toPublicRepo>;
