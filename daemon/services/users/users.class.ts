import crypto from 'node:crypto';
import { hashPassword } from '../../auth/passwords.js';
import { Conflict, Forbidden, NotFound } from '@feathersjs/errors';
import type { Id, Paginated, Params } from '@feathersjs/feathers';
import type { Database } from '../../db/database.js';
import { nowIso } from '../../db/database.js';
import { BCRYPT_ROUNDS, toPublicUser, type PublicUser, type UserCreate, type UserPatch, type UserQuery, type UserRow } from './users.schema.js';

const DEFAULT_LIMIT = 100;

/**
 * Storage of users. Authorization happens in the hooks (users.ts); the invariants that must hold
 * whatever the caller — unique email, at least one enabled owner — are enforced here, inside a
 * transaction, so two concurrent demotions cannot remove the last owner.
 */
export class UsersService {
  constructor(private readonly db: Database) {}

  async find(params: Params = {}): Promise<Paginated<PublicUser>> {
    const { $limit = DEFAULT_LIMIT, $skip = 0, ...filters } = (params.query ?? {}) as UserQuery;
    const base = this.db<UserRow>('users').where((qb) => {
      if (filters.email !== undefined) qb.where('email', filters.email);
      if (filters.role !== undefined) qb.where('role', filters.role);
      if (filters.disabled !== undefined) qb.where('disabled', filters.disabled);
    });
    const [{ total }] = await base.clone().count({ total: '*' });
    const rows = await base.clone().orderBy('created_at').orderBy('id').limit($limit).offset($skip);
    return { total: Number(total), limit: $limit, skip: $skip, data: rows.map(toPublicUser) };
  }

  async get(id: Id, _params?: Params): Promise<PublicUser> {
    return toPublicUser(await this.row(String(id)));
  }

  async create(data: UserCreate, _params?: Params): Promise<PublicUser> {
    const at = nowIso();
    const row: UserRow = {
      id: crypto.randomUUID(),
      email: data.email,
      name: data.name ?? '',
      password: await hashPassword(data.password, BCRYPT_ROUNDS),
      role: data.role,
      disabled: false,
      unix_username: data.unix_username ?? null,
      sessions_revoked_at: null,
      created_at: at,
      updated_at: at,
    };
    try {
      await this.db('users').insert(row);
    } catch (error) {
      if (/UNIQUE/i.test((error as Error).message)) throw new Conflict(/unix_username/i.test((error as Error).message) ? `The Unix account ${data.unix_username} is already linked to another user` : `A user with email ${data.email} already exists`);
      throw error;
    }
    return toPublicUser(row);
  }

  /** `data` has been authorized by the hooks; `old_password` was checked there. */
  async patch(id: Id, data: UserPatch, _params?: Params): Promise<PublicUser> {
    const { old_password: _ignored, password, ...fields } = data;
    const changes: Partial<UserRow> = { ...fields, updated_at: nowIso() };
    if (password !== undefined) {
      changes.password = await hashPassword(password, BCRYPT_ROUNDS);
      changes.password_changed_at = changes.updated_at!;
    }
    if (data.disabled === true) changes.sessions_revoked_at = changes.updated_at!;
    await this.db.transaction(async (trx) => {
      const before = await trx<UserRow>('users').where('id', String(id)).first();
      if (!before) throw new NotFound(`No user with id ${id}`);
      const losesOwner = before.role === 'owner' && !before.disabled && ((data.role && data.role !== 'owner') || data.disabled === true);
      if (losesOwner) await assertAnotherOwner(trx, before.id);
      try {
        await trx('users').where('id', before.id).update(changes);
      } catch (error) {
        if (/UNIQUE/i.test((error as Error).message)) throw new Conflict(/unix_username/i.test((error as Error).message) ? `The Unix account ${data.unix_username} is already linked to another user` : `A user with email ${data.email} already exists`);
        throw error;
      }
    });
    return this.get(id);
  }

  async remove(id: Id, _params?: Params): Promise<PublicUser> {
    return this.db.transaction(async (trx) => {
      const before = await trx<UserRow>('users').where('id', String(id)).first();
      if (!before) throw new NotFound(`No user with id ${id}`);
      if (before.role === 'owner' && !before.disabled) await assertAnotherOwner(trx, before.id);
      await assertNoHistory(trx, before);
      await trx('users').where('id', before.id).delete();
      return toPublicUser(before);
    });
  }

  /** The stored row including the hash, for the hooks that must check a password. Internal only. */
  async row(id: string): Promise<UserRow> {
    const row = await this.db<UserRow>('users').where('id', id).first();
    if (!row) throw new NotFound(`No user with id ${id}`);
    return row;
  }
}

/**
 * Sessions and tasks name who created them and as whom they ran; that history must stay true, so a
 * user who has any is disabled rather than deleted (DESIGN §4).
 */
async function assertNoHistory(trx: Database, user: UserRow): Promise<void> {
  const [sessions, tasks] = await Promise.all([
    trx('sessions').where('created_by', user.id).count({ n: '*' }),
    trx('tasks').where((q) => q.where('created_by', user.id).orWhere('executed_as', user.id)).count({ n: '*' }),
  ]);
  const n = { sessions: Number(sessions[0]!.n), tasks: Number(tasks[0]!.n) };
  if (n.sessions + n.tasks > 0) {
    throw new Conflict(`${user.email} has ${n.sessions} session(s) and ${n.tasks} task(s) in the history, which must keep naming them; disable the account instead (PATCH {"disabled": true})`);
  }
}

async function assertAnotherOwner(trx: Database, exceptId: string): Promise<void> {
  const other = await trx('users').where({ role: 'owner', disabled: false }).whereNot('id', exceptId).first('id');
  if (!other) throw new Forbidden('This is the last enabled owner: make another user an owner first');
}
