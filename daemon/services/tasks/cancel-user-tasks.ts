import type { Application } from '../../declarations.js';
import { nowIso } from '../../db/database.js';
import { runnerOf } from '../../runner/index.js';
import type { TaskRow } from './tasks.schema.js';

/**
 * A user was disabled: nothing may run as them any more, with their secrets, nor on their behalf
 * (DESIGN §4). Their queued tasks — those that would run as them (`executed_as`) and those they
 * prompted — are marked stopped with the reason, as a user's stop would, then the runner drops them
 * from its queue. Each change is published like any task patch. What already runs (or waits for a
 * tool approval) is ended by the one re-check of running processes (rbac/running.ts), which audits it.
 */
export async function cancelTasksOfDisabledUser(app: Application, user: { id: string; email: string }): Promise<number> {
  const db = app.get('db');
  const reason = `cancelled: ${user.email} was disabled`;
  const live = () => db<TaskRow>('tasks').where('status', 'queued').andWhere((q) => q.where('executed_as', user.id).orWhere('created_by', user.id));
  const ids = (await live().pluck('id')) as string[];
  if (ids.length === 0) return 0;
  await live().whereIn('id', ids).update({ status: 'stopped', reason, finished_at: nowIso() });
  const rows = await db<TaskRow>('tasks').whereIn('id', ids).andWhere('status', 'stopped');
  for (const row of rows) app.service('tasks').emit('patched', row);
  await Promise.all(rows.map((row) => runnerOf(app).stopTask(row.id, reason)));
  return rows.length;
}
