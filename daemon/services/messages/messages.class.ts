import { NotFound } from '@feathersjs/errors';
import type { Id, Paginated, Params } from '@feathersjs/feathers';
import type { Application } from '../../declarations.js';
import { nowIso } from '../../db/database.js';
import { ensureRecordVisible } from '../../rbac/authorize.js';
import { findVisible } from '../scoped-find.js';
import { toPublicMessage, type MessageCreate, type MessageRow, type PublicMessage } from './messages.schema.js';
import type { TaskRow } from '../tasks/tasks.schema.js';

export class MessagesService {
  constructor(private readonly app: Application) {}

  private get db() {
    return this.app.get('db');
  }

  async find(params: Params): Promise<Paginated<PublicMessage>> {
    const { session_id, task_id, worktree_id } = (params.query ?? {}) as Record<string, unknown>;
    return findVisible(this.app, 'messages', params, { session_id, task_id, worktree_id }, [['id', 'asc']], toPublicMessage);
  }

  async get(id: Id, params: Params): Promise<PublicMessage> {
    const row = await this.db<MessageRow>('messages').where('id', Number(id)).first();
    if (!row) throw new NotFound(`No message with id ${id}`);
    await ensureRecordVisible(this.app, params, row.worktree_id, `No message with id ${id}`);
    return toPublicMessage(row);
  }

  /** Internal: the runner appends a task's output. Not exposed to clients (see messages.shared.ts). */
  async create(data: MessageCreate): Promise<PublicMessage> {
    const task = await this.db<TaskRow>('tasks').where('id', data.task_id).first();
    if (!task) throw new NotFound(`No task with id ${data.task_id}`);
    const row = {
      task_id: task.id,
      session_id: task.session_id,
      worktree_id: task.worktree_id,
      type: data.type,
      content: JSON.stringify(data.content ?? null),
      raw: data.raw === undefined ? null : JSON.stringify(data.raw),
      created_at: nowIso(),
    };
    const [id] = await this.db('messages').insert(row);
    return toPublicMessage({ id: Number(id), ...row } as MessageRow);
  }
}
