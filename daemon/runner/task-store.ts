// Task status changes made by the runner (queued → running → completed | failed | stopped). Each
// change is one conditional UPDATE, so a user's stop that lands at the same moment wins cleanly,
// and is published as a `patched` event of the tasks service: the same channels (the worktree's)
// as every other task event.
import type { Application } from '../declarations.js';
import { nowIso } from '../db/database.js';
import type { TaskRow, TaskStatus } from '../services/tasks/tasks.schema.js';

/** The tasks.reason column holds at most 500 characters. */
const MAX_REASON = 500;
export const INTERRUPTED = 'interrupted';

export class TaskStore {
  constructor(private readonly app: Application) {}

  private get db() {
    return this.app.get('db');
  }

  private async publish(id: string): Promise<TaskRow | null> {
    const row = await this.db<TaskRow>('tasks').where('id', id).first();
    if (row) this.app.service('tasks').emit('patched', row);
    return row ?? null;
  }

  async get(id: string): Promise<TaskRow | null> {
    return (await this.db<TaskRow>('tasks').where('id', id).first()) ?? null;
  }

  /** queued → running. Null when the task is no longer queued (cancelled, deleted). */
  async markRunning(id: string): Promise<TaskRow | null> {
    const changed = await this.db('tasks').where({ id, status: 'queued' }).update({ status: 'running', started_at: nowIso() });
    return changed === 1 ? this.publish(id) : null;
  }

  /**
   * running → its outcome. A task a user stopped meanwhile is already `stopped` and stays so.
   * Returns the row when this call changed it.
   */
  async finish(id: string, status: Exclude<TaskStatus, 'queued' | 'running' | 'awaiting_permission'>, reason: string | null): Promise<TaskRow | null> {
    const changed = await this.db('tasks')
      .where('id', id)
      .whereIn('status', ['running', 'awaiting_permission'])
      .update({ status, reason: reason === null ? null : reason.slice(0, MAX_REASON), finished_at: nowIso() });
    return changed === 1 ? this.publish(id) : null;
  }

  /** At start: tasks a crashed daemon left `running` are `failed` with reason `interrupted`. */
  async failInterrupted(): Promise<number> {
    return this.db('tasks').whereIn('status', ['running', 'awaiting_permission']).update({ status: 'failed', reason: INTERRUPTED, finished_at: nowIso() });
  }

  /** running ⇄ awaiting_permission while a tool approval waits (a stopped task stays stopped). */
  async setAwaitingPermission(id: string, awaiting: boolean): Promise<TaskRow | null> {
    const [from, to] = awaiting ? ['running', 'awaiting_permission'] : ['awaiting_permission', 'running'];
    const changed = await this.db('tasks').where({ id, status: from }).update({ status: to });
    return changed === 1 ? this.publish(id) : null;
  }

  /** Tasks waiting to run, oldest first (picked up again after a restart). */
  async queued(): Promise<TaskRow[]> {
    return this.db<TaskRow>('tasks').where('status', 'queued').orderBy([{ column: 'created_at', order: 'asc' }, { column: 'id', order: 'asc' }]);
  }
}
