import { z } from 'zod';

export const API_KEY_SCOPES = ['full', 'read'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  scope: ApiKeyScope;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  created_at: string;
}

/** What responses and events carry: never the hash. `key` only in the create response. */
export interface PublicApiKey {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  scope: ApiKeyScope;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  created_at: string;
  key?: string;
}

export function toPublicApiKey(row: ApiKeyRow): PublicApiKey {
  const { key_hash: _hash, ...rest } = row;
  return rest;
}

export const apiKeyCreateSchema = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(100),
  scope: z.enum(API_KEY_SCOPES).default('full'),
  expires_in_days: z.number().int().min(1).max(3650).optional(),
});

export const apiKeyQuerySchema = z.strictObject({
  $limit: z.coerce.number().int().min(0).max(1000).optional(),
  $skip: z.coerce.number().int().min(0).optional(),
});

export type ApiKeyCreate = z.output<typeof apiKeyCreateSchema>;
