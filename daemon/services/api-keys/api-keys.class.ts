import crypto from 'node:crypto';
import { NotFound } from '@feathersjs/errors';
import type { Id, Paginated, Params } from '@feathersjs/feathers';
import type { Database } from '../../db/database.js';
import { nowIso } from '../../db/database.js';
import { displayPrefix, generateApiKey, hashApiKey } from '../../auth/api-key-format.js';
import { toPublicApiKey, type ApiKeyCreate, type ApiKeyRow, type PublicApiKey } from './api-keys.schema.js';

/** A user's own API keys. Every method is scoped to params.user: nobody sees another's keys. */
export class ApiKeysService {
  constructor(private readonly db: Database) {}

  private owned(params: Params) {
    return this.db<ApiKeyRow>('api_keys').where('user_id', params.user!.id);
  }

  async find(params: Params): Promise<Paginated<PublicApiKey>> {
    const { $limit = 100, $skip = 0 } = (params.query ?? {}) as { $limit?: number; $skip?: number };
    const [{ total }] = await this.owned(params).count({ total: '*' });
    const rows = await this.owned(params).orderBy('created_at').limit($limit).offset($skip);
    return { total: Number(total), limit: $limit, skip: $skip, data: rows.map(toPublicApiKey) };
  }

  async get(id: Id, params: Params): Promise<PublicApiKey> {
    const row = await this.owned(params).where('id', String(id)).first();
    if (!row) throw new NotFound(`No API key with id ${id}`);
    return toPublicApiKey(row);
  }

  /** The only response that ever carries the key itself. */
  async create(data: ApiKeyCreate, params: Params): Promise<PublicApiKey> {
    const key = generateApiKey();
    const created = new Date();
    const row: ApiKeyRow = {
      id: crypto.randomUUID(),
      user_id: params.user!.id,
      name: data.name,
      prefix: displayPrefix(key),
      key_hash: hashApiKey(key),
      scope: data.scope,
      expires_at: data.expires_in_days ? new Date(created.getTime() + data.expires_in_days * 86_400_000).toISOString() : null,
      revoked_at: null,
      last_used_at: null,
      created_at: created.toISOString(),
    };
    await this.db('api_keys').insert(row);
    return { ...toPublicApiKey(row), key };
  }

  /** Revokes: the key stops working at once; the row stays so listings show what existed. */
  async remove(id: Id, params: Params): Promise<PublicApiKey> {
    const existing = await this.get(id, params);
    if (!existing.revoked_at) {
      await this.owned(params).where('id', existing.id).update({ revoked_at: nowIso() });
    }
    return this.get(id, params);
  }
}
