import { z } from 'zod';
import { ROLES, type Role } from '../../auth/roles.js';
import { emailProblem } from './email.shared.js';

/** The row as stored. `password` is a bcrypt hash and never leaves the daemon. */
export interface UserRow {
  id: string;
  email: string;
  name: string;
  password: string;
  role: Role;
  disabled: boolean | number;
  unix_username: string | null;
  sessions_revoked_at: string | null;
  /** Login tokens issued before it are refused (API keys are not). */
  password_changed_at?: string | null;
  created_at: string;
  updated_at: string;
}

/** What any response or event may carry about a user. */
export interface PublicUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  unix_username: string | null;
  created_at: string;
  updated_at: string;
}

export function toPublicUser(row: UserRow): PublicUser {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    disabled: Boolean(row.disabled),
    unix_username: row.unix_username ?? null,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export const BCRYPT_ROUNDS = 12;

// Any address a mail server takes (a@b.c, user+tag@localhost): one rule, shared with the UI.
const email = z
  .string()
  .trim()
  .toLowerCase()
  .superRefine((value, ctx) => {
    const problem = emailProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const password = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(72, 'must be at most 72 bytes (bcrypt ignores the rest)')
  .refine((p) => Buffer.byteLength(p) <= 72, 'must be at most 72 bytes (bcrypt ignores the rest)');
const name = z.string().trim().max(200, 'must be at most 200 characters');
const role = z.enum(ROLES);

export const userCreateSchema = z.strictObject({
  email,
  password,
  name: name.optional(),
  role: role.default('member'),
  // Checked (namespace, reserved names) by daemon/unix/sync-hooks.ts on every write.
  unix_username: z.string().max(64).nullable().optional(),
});

export const userPatchSchema = z
  .strictObject({
    name: name.optional(),
    email: email.optional(),
    password: password.optional(),
    old_password: z.string().max(200).optional(),
    role: role.optional(),
    disabled: z.boolean().optional(),
    unix_username: z.string().max(64).nullable().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');

export const userQuerySchema = z.strictObject({
  email: z.string().trim().toLowerCase().optional(),
  role: role.optional(),
  disabled: z
    .union([z.boolean(), z.enum(['true', 'false'])])
    .transform((v) => v === true || v === 'true')
    .optional(),
  $limit: z.coerce.number().int().min(0).max(1000).optional(),
  $skip: z.coerce.number().int().min(0).optional(),
});

export type UserCreate = z.output<typeof userCreateSchema>;
export type UserPatch = z.output<typeof userPatchSchema>;
export type UserQuery = z.output<typeof userQuerySchema>;
