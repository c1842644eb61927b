import { z } from 'zod';
import { whyRefusedEnvName } from '../../crypto/env-names.js';
import { SECRET_KINDS } from './user-secrets.shared.js';

export type SecretKind = (typeof SECRET_KINDS)[number];

export const USER_SECRETS_TABLE = 'user_secrets';

/** Largest value accepted, in UTF-8 bytes. */
export const MAX_SECRET_VALUE_BYTES = 64 * 1024;

/** The row as stored. `value` is the stored form (`v1:...` or `plain:...`) and never leaves the daemon. */
export interface UserSecretRow {
  id: string;
  user_id: string;
  name: string;
  kind: SecretKind;
  value: string;
  fingerprint: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * Everything any response or event may say about a secret. `fingerprint` is a keyed hash prefix
 * (null while no master secret is configured: there is no key to hash with, and a plain hash of
 * a guessable value could be tested offline).
 */
export interface PublicUserSecret {
  id: string;
  name: string;
  kind: SecretKind;
  set: true;
  fingerprint: string | null;
  updated_at: string;
}

/** Built field by field, so a column added to the row later cannot slip into a response. */
export function toPublicUserSecret(row: UserSecretRow): PublicUserSecret {
  return { id: row.id, name: row.name, kind: row.kind, set: true, fingerprint: row.fingerprint, updated_at: row.updated_at };
}

const secretName = z.string().superRefine((name, ctx) => {
  const why = whyRefusedEnvName(name);
  if (why) ctx.addIssue({ code: 'custom', message: why });
});

// Messages are fixed texts: none may ever quote the value.
const secretValue = z
  .string()
  .min(1, 'must not be empty (remove the secret instead)')
  .refine((v) => !v.includes('\u0000'), 'must not contain NUL (an environment variable cannot carry it)')
  .refine((v) => Buffer.from(v, 'utf8').toString('utf8') === v, 'must be well-formed Unicode')
  .refine((v) => Buffer.byteLength(v, 'utf8') <= MAX_SECRET_VALUE_BYTES, `must be at most ${MAX_SECRET_VALUE_BYTES} bytes (64 KiB)`);

export const userSecretCreateSchema = z.strictObject({
  name: secretName,
  value: secretValue,
  kind: z.enum(SECRET_KINDS).optional(),
});

export const userSecretPatchSchema = z
  .strictObject({
    value: secretValue.optional(),
    kind: z.enum(SECRET_KINDS).optional(),
  })
  .refine((d) => d.value !== undefined || d.kind !== undefined, 'give a new "value" or "kind" (a secret cannot be renamed: create the new name and remove the old)');

export const userSecretQuerySchema = z.strictObject({
  $limit: z.coerce.number().int().min(0).max(1000).optional(),
  $skip: z.coerce.number().int().min(0).optional(),
  name: z.string().max(128).optional(),
  kind: z.enum(SECRET_KINDS).optional(),
});

/** get, patch and remove take no query parameters. */
export const userSecretNoQuerySchema = z.strictObject({});

export type UserSecretCreate = z.output<typeof userSecretCreateSchema>;
export type UserSecretPatch = z.output<typeof userSecretPatchSchema>;
export type UserSecretQuery = z.output<typeof userSecretQuerySchema>;
