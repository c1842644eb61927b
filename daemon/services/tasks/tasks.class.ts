import crypto from 'node:crypto';
import { Conflict, Forbidden, NotFound } from '@feathersjs/errors';
import type { Id, Paginated, Params } from '@feathersjs/feathers';
import type { Application } from '../../declarations.js';
import { nowIso } from '../../db/database.js';
import { ensureRecordVisible, ensureWorktreePermission, subjectOf } from '../../rbac/authorize.js';
import { findVisible } from '../scoped-find.js';
import type { TaskCreate, TaskRow } from './tasks.schema.js';

/**
 * Prompts sent to sessions. Here they are recorded and visible; running them is the runner's job.
 * Prompting someone else's session needs tier `prompt` and still runs as that session's creator.
 */
export class TasksService {
  constructor(private readonly app: Application) {}

  private get db() {
    return this.app.get('db');
  }

  async find(params: Params): Promise<Paginated<TaskRow>> {
    const { session_id, worktree_id, status } = (params.query ?? {}) as Record<string, unknown>;
    return findVisible(this.app, 'tasks', params, { session_id, worktree_id, status }, [['created_at', 'asc'], ['id', 'asc']], (r) => r as TaskRow);
  }

  private async visibleRow(id: string, params: Params): Promise<TaskRow> {
    const row = await this.db<TaskRow>('tasks').where('id', id).first();
    if (!row) throw new NotFound(`No task with id ${id}`);
    await ensureRecordVisible(this.app, params, row.worktree_id, `No task with id ${id}`);
    return row;
  }

  async get(id: Id, params: Params): Promise<TaskRow> {
    return this.visibleRow(String(id), params);
  }

  async create(data: TaskCreate, params: Params): Promise<TaskRow> {
    const subject = subjectOf(params);
    const session = await this.app.service('sessions').visibleRow(data.session_id, params);
    await ensureWorktreePermission(this.app, params, 'session.prompt', session.worktree_id, session);
    // A prompt runs as the session's creator, with their secrets: never as a disabled user.
    const creator = await this.db('users').where('id', session.created_by).first('email', 'disabled');
    if (!creator || creator.disabled) {
      throw new Forbidden(`The creator of session ${session.id} (${creator?.email ?? 'a removed user'}) is disabled, and a prompt would run as them; start or fork a session of your own`);
    }
    const row: TaskRow = {
      id: crypto.randomUUID(),
      session_id: session.id,
      worktree_id: session.worktree_id,
      prompt: data.prompt,
      created_by: subject.id,
      executed_as: session.created_by,
      status: 'queued',
      reason: null,
      created_at: nowIso(),
      started_at: null,
      finished_at: null,
    };
    await this.db('tasks').insert(row);
    return row;
  }

  async patch(id: Id, _data: { status: 'stopped' }, params: Params): Promise<TaskRow> {
    const task = await this.visibleRow(String(id), params);
    const session = await this.app.service('sessions').visibleRow(task.session_id, params);
    await ensureWorktreePermission(this.app, params, 'session.stop', task.worktree_id, session);
    if (task.status !== 'queued' && task.status !== 'running' && task.status !== 'awaiting_permission') throw new Conflict(`Task ${task.id} is already ${task.status}`);
    const reason = task.status === 'queued' ? 'cancelled before it ran' : 'stopped by a user';
    await this.db('tasks').where('id', task.id).update({ status: 'stopped', reason, finished_at: nowIso() });
    return this.visibleRow(task.id, params);
  }
}
