import crypto from 'node:crypto';
import { BadRequest, Forbidden, NotFound } from '@feathersjs/errors';
import type { Id, Paginated, Params } from '@feathersjs/feathers';
import type { Application } from '../../declarations.js';
import { nowIso } from '../../db/database.js';
import { ensureRecordVisible, ensureWorktreePermission, subjectOf } from '../../rbac/authorize.js';
import { findVisible } from '../scoped-find.js';
import { knownAgentNames, resolveAgent } from '../../runner/agents.js';
import { parseWorktreeToolPolicy, type PermissionMode } from '../../policy/rules.js';
import { toPublicSession, type PublicSession, type SessionCreate, type SessionPatch, type SessionRow } from './sessions.schema.js';

/** Set when a fork/spawn keeps another user's identity (session sharing): logged and audited. */
export interface CrossIdentityFork {
  parentId: string;
  parentCreator: string;
}

type SessionParams = Params & { crossIdentityFork?: CrossIdentityFork };

export class SessionsService {
  constructor(private readonly app: Application) {}

  private get db() {
    return this.app.get('db');
  }

  async find(params: Params): Promise<Paginated<PublicSession>> {
    const { worktree_id, created_by, archived } = (params.query ?? {}) as Record<string, unknown>;
    return findVisible(this.app, 'sessions', params, { worktree_id, created_by, archived }, [['created_at', 'asc'], ['id', 'asc']], toPublicSession);
  }

  /** The row, after checking the caller may view its worktree (NotFound otherwise). */
  async visibleRow(id: string, params: Params): Promise<SessionRow> {
    const row = await this.db<SessionRow>('sessions').where('id', id).first();
    if (!row) throw new NotFound(`No session with id ${id}`);
    await ensureRecordVisible(this.app, params, row.worktree_id, `No session with id ${id}`);
    return row;
  }

  async get(id: Id, params: Params): Promise<PublicSession> {
    return toPublicSession(await this.visibleRow(String(id), params));
  }

  async create(data: SessionCreate, params: SessionParams): Promise<PublicSession> {
    const subject = subjectOf(params);
    let worktreeId: string;
    let agent: string;
    let createdBy = subject.id;
    let parent: SessionRow | undefined;
    if (data.worktree_id !== undefined) {
      await ensureWorktreePermission(this.app, params, 'session.create', data.worktree_id);
      worktreeId = data.worktree_id;
      agent = data.agent!;
    } else {
      const parentId = (data.fork_from ?? data.spawn_from)!;
      parent = await this.visibleRow(parentId, params);
      const worktree = await ensureWorktreePermission(this.app, params, 'session.fork', parent.worktree_id, parent);
      worktreeId = parent.worktree_id;
      agent = data.agent ?? parent.agent;
      if (Boolean(worktree.dangerously_allow_session_sharing) && parent.created_by !== subject.id) {
        createdBy = parent.created_by;
        params.crossIdentityFork = { parentId: parent.id, parentCreator: parent.created_by };
      }
    }
    const { config } = this.app.get('runtime');
    if (!resolveAgent(config, agent)) {
      throw new BadRequest(`Invalid data: "agent": unknown agent "${agent}"; known: ${knownAgentNames(config).join(', ')}`, { errors: { agent: 'unknown agent' } });
    }
    const permissionMode = data.permission_mode ?? parent?.permission_mode ?? 'ask';
    await this.ensureModeAllowed(worktreeId, permissionMode);
    const at = nowIso();
    const row: SessionRow = {
      id: crypto.randomUUID(),
      worktree_id: worktreeId,
      agent,
      title: data.title ?? '',
      created_by: createdBy,
      parent_session_id: data.spawn_from ?? null,
      forked_from: data.fork_from ?? null,
      resume_handle: null,
      permission_mode: permissionMode,
      archived: false,
      created_at: at,
      updated_at: at,
    };
    await this.db('sessions').insert(row);
    return toPublicSession(row);
  }

  async patch(id: Id, data: SessionPatch, params: Params): Promise<PublicSession> {
    const row = await this.visibleRow(String(id), params);
    if (data.archived !== undefined) await ensureWorktreePermission(this.app, params, 'session.archive', row.worktree_id, row);
    if (data.title !== undefined) await ensureWorktreePermission(this.app, params, 'session.prompt', row.worktree_id, row);
    if (data.permission_mode !== undefined) {
      // The mode decides what runs as the creator without asking them: theirs alone to change.
      await ensureWorktreePermission(this.app, params, 'session.prompt', row.worktree_id, row);
      if (row.created_by !== subjectOf(params).id) throw new Forbidden("Only the session's creator may change its permission mode");
      await this.ensureModeAllowed(row.worktree_id, data.permission_mode);
    }
    await this.db('sessions').where('id', row.id).update({ ...data, updated_at: nowIso() });
    return this.get(row.id, params);
  }

  /** allow-all only where the worktree's owners allow it (tool_policy.allow_all). */
  private async ensureModeAllowed(worktreeId: string, mode: PermissionMode): Promise<void> {
    if (mode !== 'allow-all') return;
    const worktree = await this.db('worktrees').where('id', worktreeId).first('tool_policy');
    if (!parseWorktreeToolPolicy(worktree?.tool_policy).allow_all) {
      throw new BadRequest('Invalid data: "permission_mode": this worktree\'s owners do not allow "allow-all" sessions (worktree tool_policy.allow_all)', { errors: { permission_mode: 'allow-all is not allowed here' } });
    }
  }

  async remove(id: Id, params: Params): Promise<PublicSession> {
    const row = await this.visibleRow(String(id), params);
    await ensureWorktreePermission(this.app, params, 'session.delete', row.worktree_id, row);
    await this.db('sessions').where('id', row.id).delete();
    return toPublicSession(row);
  }
}
