import type { NextFunction } from '@feathersjs/feathers';
import type { HookContext } from '../declarations.js';
import type { Database } from '../db/database.js';
import type { PublicUser, UserRow } from '../services/users/users.schema.js';
import type { ApiKeyRow, PublicApiKey } from '../services/api-keys/api-keys.schema.js';
import { appendAudit, type AuditEventInput } from './chain.js';
import { auditActor } from './events.js';

// These run after the change committed (the audit row is a separate transaction). If writing the
// audit row fails the caller gets an error, so an unaudited change does not pass as a clean success.

async function appendAll(db: Database, events: AuditEventInput[]): Promise<void> {
  for (const event of events) await appendAudit(db, event);
}

/** Around hook for users create / patch / remove: creation, removal, role, disabled, email, password. */
export async function auditUserChanges(context: HookContext, next: NextFunction): Promise<void> {
  const db: Database = context.app.get('db');
  const user = context.params.user;
  const id = context.id === 'me' && user ? user.id : context.id;
  const before = context.method === 'patch' && id != null ? await db<UserRow>('users').where('id', String(id)).first() : undefined;
  await next();
  const result = context.result as PublicUser;
  const actor = auditActor(user);
  const target = { target_type: 'user', target_id: result.id };
  const events: AuditEventInput[] = [];
  if (context.method === 'create') {
    events.push({ ...actor, ...target, action: 'user.created', details: { email: result.email, role: result.role } });
  } else if (context.method === 'remove') {
    events.push({ ...actor, ...target, action: 'user.removed', details: { email: result.email, role: result.role } });
  } else if (context.method === 'patch' && before) {
    if (before.role !== result.role) {
      events.push({ ...actor, ...target, action: 'user.role_changed', details: { email: result.email, from: before.role, to: result.role } });
    }
    if (Boolean(before.disabled) !== result.disabled) {
      events.push({ ...actor, ...target, action: result.disabled ? 'user.disabled' : 'user.enabled', details: { email: result.email } });
    }
    if (before.email !== result.email) {
      events.push({ ...actor, ...target, action: 'user.email_changed', details: { from: before.email, to: result.email } });
    }
    if ((before.unix_username ?? null) !== result.unix_username) {
      events.push({ ...actor, ...target, action: 'user.unix_username_changed', details: { email: result.email, from: before.unix_username ?? null, to: result.unix_username } });
    }
    if ((context.data as { password?: unknown } | undefined)?.password !== undefined) {
      events.push({ ...actor, ...target, action: 'user.password_changed', details: { email: result.email } });
    }
  }
  await appendAll(db, events);
}

/** Around hook for api-keys create / remove. Never records the key, only its id, name and prefix. */
export async function auditApiKeyChanges(context: HookContext, next: NextFunction): Promise<void> {
  const db: Database = context.app.get('db');
  const before =
    context.method === 'remove' && context.id != null ? await db<ApiKeyRow>('api_keys').where('id', String(context.id)).first('revoked_at') : undefined;
  await next();
  const key = context.result as PublicApiKey;
  const base = { ...auditActor(context.params.user), target_type: 'apikey', target_id: key.id };
  const details = { name: key.name, prefix: key.prefix, scope: key.scope, owner: key.user_id };
  if (context.method === 'create') {
    await appendAudit(db, { ...base, action: 'apikey.created', details: { ...details, expires_at: key.expires_at } });
  } else if (context.method === 'remove' && before && !before.revoked_at && key.revoked_at) {
    await appendAudit(db, { ...base, action: 'apikey.revoked', details });
  }
}

/** Around hook for user-secrets create / patch / remove: the name and kind, never the value. */
export async function auditSecretChanges(context: HookContext, next: NextFunction): Promise<void> {
  await next();
  if (!['create', 'patch', 'remove'].includes(context.method)) return;
  const secret = context.result as { id: string; name: string; kind: string };
  await appendAudit(context.app.get('db'), {
    ...auditActor(context.params.user),
    action: context.method === 'remove' ? 'secret.removed' : 'secret.set',
    target_type: 'user_secret',
    target_id: secret.id,
    details: { name: secret.name, kind: secret.kind },
  });
}
