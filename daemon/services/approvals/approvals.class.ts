import { BadRequest, Conflict, NotFound } from '@feathersjs/errors';
import type { Id, Paginated, Params } from '@feathersjs/feathers';
import type { Knex } from 'knex';
import type { Application } from '../../declarations.js';
import { nowIso } from '../../db/database.js';
import { ensureRecordVisible, ensureWorktreePermission, policyOf, subjectOf } from '../../rbac/authorize.js';
import { whereWorktreeVisible } from '../../rbac/scope.js';
import { classifyToolCall } from '../../policy/tool-call.js';
import { partsOf, startsWithWords, wordsOf } from '../../policy/shell.js';
import { DEFAULT_PAGE } from '../pagination.js';
import type { SessionRow } from '../sessions/sessions.schema.js';
import { toPublicApproval, type ApprovalPatch, type ApprovalRow, type PublicApproval } from './approvals.schema.js';

/**
 * Tool approvals (issue 16). The runner records each `ask` of the tool policy here and waits; the
 * session's creator or one of the worktree's owners (nobody else, whatever their tier) answers
 * with patch. Visible like everything else in a worktree (tier `view`).
 */
export class ApprovalsService {
  constructor(private readonly app: Application) {}

  private get db() {
    return this.app.get('db');
  }

  async find(params: Params): Promise<Paginated<PublicApproval>> {
    const subject = subjectOf(params);
    const { $limit = DEFAULT_PAGE, $skip = 0, answerable, ...filters } = (params.query ?? {}) as Record<string, unknown> & { $limit?: number; $skip?: number; answerable?: boolean };
    const db = this.db;
    const visible = () => {
      const q: Knex.QueryBuilder = db('tool_approvals as a').join('worktrees as w', 'w.id', 'a.worktree_id');
      for (const [column, value] of Object.entries(filters)) if (value !== undefined) q.where(`a.${column}`, value as never);
      if (answerable) {
        q.where('a.status', 'pending').where((inner) =>
          inner
            .whereExists(db('sessions as s').whereRaw('s.id = a.session_id').where('s.created_by', subject.id))
            .orWhereExists(db('worktree_owners as o').whereRaw('o.worktree_id = a.worktree_id').where('o.user_id', subject.id)),
        );
      }
      return whereWorktreeVisible(q, subject, policyOf(this.app), { worktreeId: 'w.id', othersCan: 'w.others_can' });
    };
    const rows = (await visible().select('a.*').orderBy([{ column: 'a.created_at', order: 'asc' }, { column: 'a.id', order: 'asc' }]).limit($limit).offset($skip)) as ApprovalRow[];
    const [{ total }] = (await visible().count({ total: '*' })) as [{ total: number | string }];
    return { total: Number(total), limit: $limit, skip: $skip, data: rows.map(toPublicApproval) };
  }

  private async visibleRow(id: string, params: Params): Promise<ApprovalRow> {
    const row = await this.db<ApprovalRow>('tool_approvals').where('id', id).first();
    if (!row) throw new NotFound(`No approval request with id ${id}`);
    await ensureRecordVisible(this.app, params, row.worktree_id, `No approval request with id ${id}`);
    return row;
  }

  async get(id: Id, params: Params): Promise<PublicApproval> {
    return toPublicApproval(await this.visibleRow(String(id), params));
  }

  /** An answer. The runner hears it through this method's after hook (daemon/runner/index.ts). */
  async patch(id: Id, data: ApprovalPatch, params: Params): Promise<PublicApproval> {
    const row = await this.visibleRow(String(id), params);
    const session = await this.db<SessionRow>('sessions').where('id', row.session_id).first();
    if (!session) throw new NotFound(`No approval request with id ${row.id}`);
    await ensureWorktreePermission(this.app, params, 'session.answer_tool_request', row.worktree_id, session);
    if (row.status !== 'pending') throw new Conflict(`This request is no longer waiting (it was ${row.status.replace('_', ' ')})`);
    const allow = data.decision === 'allow';
    const prefix = allow && data.scope === 'session' ? this.grantPrefix(row, data.command_prefix) : null;
    const changed = await this.db('tool_approvals')
      .where({ id: row.id, status: 'pending' })
      .update({
        status: allow ? 'allowed' : 'denied',
        scope: allow ? data.scope : null,
        command_prefix: prefix,
        message: allow ? null : (data.message ?? null),
        answered_by: subjectOf(params).id,
        answered_at: nowIso(),
      });
    if (changed !== 1) throw new Conflict('This request is no longer waiting (answered, timed out or its task ended meanwhile)');
    return this.get(row.id, params);
  }

  /**
   * For shell tools, what "this command prefix" means: the words given (they must begin the asked
   * command) or the command's first word. Other tools are allowed by name.
   */
  private grantPrefix(row: ApprovalRow, given: string | undefined): string | null {
    const call = classifyToolCall(row.tool, JSON.parse(row.input), '/');
    if (call.kind !== 'shell') {
      if (given !== undefined) throw new BadRequest('Invalid data: "command_prefix": only shell tools take a command prefix', { errors: { command_prefix: 'not a shell tool' } });
      return null;
    }
    const words = partsOf(call.command ?? '')[0] ?? wordsOf(call.command ?? '');
    const prefix = given ?? words[0];
    if (!prefix || !startsWithWords(words, prefix)) {
      throw new BadRequest(`Invalid data: "command_prefix": must be the first words of the asked command (${JSON.stringify((call.command ?? '').slice(0, 200))})`, { errors: { command_prefix: 'not a prefix of the command' } });
    }
    return prefix;
  }
}
