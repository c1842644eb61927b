import crypto from 'node:crypto';
import { BadRequest, Conflict, GeneralError, NotAuthenticated, NotFound } from '@feathersjs/errors';
import type { Id, NullableId, Paginated, Params } from '@feathersjs/feathers';
import type { Database } from '../../db/database.js';
import { nowIso } from '../../db/database.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import { sealForStorage } from '../../crypto/stored-secret.js';
import { AGENT_KEY_NAMES } from '../../crypto/env-names.js';
import {
  USER_SECRETS_TABLE,
  toPublicUserSecret,
  type PublicUserSecret,
  type UserSecretCreate,
  type UserSecretPatch,
  type UserSecretQuery,
  type UserSecretRow,
} from './user-secrets.schema.js';

/**
 * The caller's own secrets, and nobody else's: every method is scoped to params.user, with no
 * override for admins or owners (they may remove a user, never read its secrets). Another user's
 * secret answers exactly like a missing one. Values go in; only PublicUserSecret comes out.
 */
export class UserSecretsService {
  constructor(
    private readonly db: Database,
    private readonly box: () => SecretBox | null,
  ) {}

  private ownerId(params: Params): string {
    const id = params.user?.id;
    if (!id) throw new NotAuthenticated('Not authenticated');
    return id;
  }

  private owned(params: Params) {
    return this.db<UserSecretRow>(USER_SECRETS_TABLE).where('user_id', this.ownerId(params));
  }

  /** By id or by name (names are upper case, ids are lower-case UUIDs: they cannot collide). */
  private async row(key: NullableId, params: Params): Promise<UserSecretRow> {
    if (key === null) throw new BadRequest('Name one secret, by id or name');
    const k = String(key);
    const row = await this.owned(params)
      .where((qb) => qb.where('id', k).orWhere('name', k))
      .first();
    if (!row) throw new NotFound(`No secret ${k}`);
    return row;
  }

  async find(params: Params): Promise<Paginated<PublicUserSecret>> {
    const { $limit = 100, $skip = 0, name, kind } = (params.query ?? {}) as UserSecretQuery;
    const base = this.owned(params).where((qb) => {
      if (name !== undefined) qb.where('name', name);
      if (kind !== undefined) qb.where('kind', kind);
    });
    const [{ total }] = await base.clone().count({ total: '*' });
    const rows = await base.clone().orderBy('name').limit($limit).offset($skip);
    return { total: Number(total), limit: $limit, skip: $skip, data: rows.map(toPublicUserSecret) };
  }

  async get(id: Id, params: Params): Promise<PublicUserSecret> {
    return toPublicUserSecret(await this.row(id, params));
  }

  /** A new secret. An existing name is a Conflict: change a value with patch. */
  async create(data: UserSecretCreate, params: Params): Promise<PublicUserSecret> {
    const userId = this.ownerId(params);
    const at = nowIso();
    const row: UserSecretRow = {
      id: crypto.randomUUID(),
      user_id: userId,
      name: data.name,
      kind: data.kind ?? (AGENT_KEY_NAMES.has(data.name) ? 'agent_key' : 'env'),
      ...sealForStorage(this.box(), data.value, { userId, name: data.name }),
      created_at: at,
      updated_at: at,
    };
    await this.write(() => this.db(USER_SECRETS_TABLE).insert(row), `You already have a secret named ${data.name}; patch it to change its value`);
    return toPublicUserSecret(row);
  }

  /** Replaces the value (write-only) and/or the kind. The name is bound into the ciphertext and cannot change. */
  async patch(id: NullableId, data: UserSecretPatch, params: Params): Promise<PublicUserSecret> {
    const before = await this.row(id, params);
    const changes: Partial<UserSecretRow> = { updated_at: nowIso() };
    if (data.kind !== undefined) changes.kind = data.kind;
    if (data.value !== undefined) Object.assign(changes, sealForStorage(this.box(), data.value, { userId: before.user_id, name: before.name }));
    await this.write(() => this.owned(params).where('id', before.id).update(changes));
    return toPublicUserSecret({ ...before, ...changes });
  }

  async remove(id: NullableId, params: Params): Promise<PublicUserSecret> {
    const before = await this.row(id, params);
    await this.write(() => this.owned(params).where('id', before.id).delete());
    return toPublicUserSecret(before);
  }

  /**
   * Runs a write. Database errors quote the statement with its bindings (the stored form), so
   * they are replaced here by errors that say what happened and carry nothing of the value.
   */
  private async write(run: () => Promise<unknown>, conflict?: string): Promise<void> {
    try {
      await run();
    } catch (error) {
      const text = String((error as Error)?.message ?? '');
      if (conflict && /UNIQUE/i.test(text)) throw new Conflict(conflict);
      throw new GeneralError(`Could not store the secret (database error ${(error as { code?: string }).code ?? 'unknown'})`);
    }
  }
}
