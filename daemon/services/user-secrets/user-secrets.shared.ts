/**
 * Path and methods of the user-secrets service: the caller's own secrets, write-only. Every
 * response and event carries only PublicUserSecret (never a value). `get`, `patch` and `remove`
 * take the secret's id or its name.
 */
export const userSecretsPath = 'user-secrets';
export const userSecretsMethods = ['find', 'get', 'create', 'patch', 'remove'] as const;
export const SECRET_KINDS = ['agent_key', 'env'] as const;
export type { PublicUserSecret, SecretKind } from './user-secrets.schema.js';
