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

  /**
   * Internal: the runner appends a task's output. Not exposed to clients (see messages.shared.ts).
   * An array is written in ONE transaction (the runner batches streamed output); Feathers then
   * emits one `created` event per message, in order.
   */
  async create(data: MessageCreate): Promise<PublicMessage>;
  async create(data: MessageCreate[]): Promise<PublicMessage[]>;
  async create(data: MessageCreate | MessageCreate[]): Promise<PublicMessage | PublicMessage[]> {
    const items = Array.isArray(data) ? data : [data];
    const taskIds = [...new Set(items.map((m) => m.task_id))];
    const created = await this.db.transaction(async (trx) => {
      const tasks = new Map<string, Pick<TaskRow, 'id' | 'session_id' | 'worktree_id'>>();
      for (const task of await trx<TaskRow>('tasks').whereIn('id', taskIds).select('id', 'session_id', 'worktree_id')) tasks.set(task.id, task);
      const at = nowIso();
      const rows = items.map((item) => {
        const task = tasks.get(item.task_id);
        if (!task) throw new NotFound(`No task with id ${item.task_id}`);
        return {
          task_id: task.id,
          session_id: task.session_id,
          worktree_id: task.worktree_id,
          type: item.type,
          content: JSON.stringify(item.content ?? null),
          raw: item.raw === undefined ? null : JSON.stringify(item.raw),
          created_at: at,
        };
      });
      const out: PublicMessage[] = [];
      // One multi-row INSERT per slice (SQLite allows 32766 bound variables; 7 per row).
      for (let i = 0; i < rows.length; i += 500) {
        const slice = rows.slice(i, i + 500);
        // Ids ascend in insertion order: the sorted ids belong to the rows in order.
        const ids = ((await trx('messages').insert(slice).returning('id')) as { id: number }[]).map((r) => Number(r.id)).sort((a, b) => a - b);
        slice.forEach((row, j) => out.push(toPublicMessage({ id: ids[j]!, ...row } as MessageRow)));
      }
      return out;
    });
    return Array.isArray(data) ? created : created[0]!;
  }
}
