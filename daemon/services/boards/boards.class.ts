import crypto from 'node:crypto';
import { NotFound } from '@feathersjs/errors';
import type { Id, Paginated, Params } from '@feathersjs/feathers';
import type { Application } from '../../declarations.js';
import { nowIso } from '../../db/database.js';
import { allowOrThrow, ensureRecordVisible, ensureWorktreePermission, subjectOf } from '../../rbac/authorize.js';
import { findVisible } from '../scoped-find.js';
import { DEFAULT_PAGE, pageTotal } from '../pagination.js';
import type { BoardItemCreate, BoardItemRow, BoardRow } from './boards.schema.js';

/** Named boards. A board's name is team-visible; what is on it follows worktree visibility. */
export class BoardsService {
  constructor(private readonly app: Application) {}

  private get db() {
    return this.app.get('db');
  }

  async find(params: Params): Promise<Paginated<BoardRow>> {
    subjectOf(params);
    const { $limit = DEFAULT_PAGE, $skip = 0 } = (params.query ?? {}) as Record<string, number>;
    const rows = await this.db('boards').select('*').select(this.db.raw('COUNT(*) OVER () AS total_count')).orderBy('created_at').limit($limit).offset($skip);
    const total = await pageTotal(rows, $skip, () => this.db('boards').count({ total: '*' }));
    return { total, limit: $limit, skip: $skip, data: rows.map(({ total_count: _t, ...r }: any) => r) };
  }

  async get(id: Id, params: Params): Promise<BoardRow> {
    subjectOf(params);
    const row = await this.db<BoardRow>('boards').where('id', String(id)).first();
    if (!row) throw new NotFound(`No board with id ${id}`);
    return row;
  }

  async create(data: { name: string }, params: Params): Promise<BoardRow> {
    const subject = subjectOf(params);
    allowOrThrow(subject, 'board.create');
    const row: BoardRow = { id: crypto.randomUUID(), name: data.name, created_by: subject.id, created_at: nowIso() };
    await this.db('boards').insert(row);
    return row;
  }

  private async ensureManage(id: string, params: Params): Promise<BoardRow> {
    const subject = subjectOf(params);
    const board = await this.get(id, params);
    allowOrThrow(subject, 'board.update', board.created_by);
    return board;
  }

  async patch(id: Id, data: { name: string }, params: Params): Promise<BoardRow> {
    await this.ensureManage(String(id), params);
    await this.db('boards').where('id', String(id)).update({ name: data.name });
    return this.get(id, params);
  }

  async remove(id: Id, params: Params): Promise<BoardRow> {
    const board = await this.ensureManage(String(id), params);
    await this.db('boards').where('id', board.id).delete();
    return board;
  }
}

/** Positions of worktrees on boards; placing or moving one needs only `view` of the worktree. */
export class BoardItemsService {
  constructor(private readonly app: Application) {}

  private get db() {
    return this.app.get('db');
  }

  async find(params: Params): Promise<Paginated<BoardItemRow>> {
    const { board_id, worktree_id } = (params.query ?? {}) as Record<string, unknown>;
    return findVisible(this.app, 'board_items', params, { board_id, worktree_id }, [['id', 'asc']], (r) => r as BoardItemRow);
  }

  private async visibleItem(id: string, params: Params): Promise<BoardItemRow> {
    const item = await this.db<BoardItemRow>('board_items').where('id', id).first();
    if (!item) throw new NotFound(`No board item with id ${id}`);
    await ensureRecordVisible(this.app, params, item.worktree_id, `No board item with id ${id}`);
    return item;
  }

  async create(data: BoardItemCreate, params: Params): Promise<BoardItemRow> {
    const subject = subjectOf(params);
    allowOrThrow(subject, 'board.arrange');
    await this.app.service('boards').get(data.board_id, params);
    await ensureWorktreePermission(this.app, params, 'worktree.view', data.worktree_id);
    const existing = await this.db<BoardItemRow>('board_items').where({ board_id: data.board_id, worktree_id: data.worktree_id }).first();
    if (existing) {
      await this.db('board_items').where('id', existing.id).update({ x: data.x, y: data.y });
      return { ...existing, x: data.x, y: data.y };
    }
    const row: BoardItemRow = { id: crypto.randomUUID(), ...data };
    await this.db('board_items').insert(row);
    return row;
  }

  async patch(id: Id, data: { x?: number; y?: number }, params: Params): Promise<BoardItemRow> {
    const subject = subjectOf(params);
    allowOrThrow(subject, 'board.arrange');
    const item = await this.visibleItem(String(id), params);
    await this.db('board_items').where('id', item.id).update(data);
    return { ...item, ...data };
  }

  async remove(id: Id, params: Params): Promise<BoardItemRow> {
    const subject = subjectOf(params);
    allowOrThrow(subject, 'board.arrange');
    const item = await this.visibleItem(String(id), params);
    await this.db('board_items').where('id', item.id).delete();
    return item;
  }
}
