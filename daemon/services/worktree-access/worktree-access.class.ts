import { NotFound } from '@feathersjs/errors';
import type { Id, Paginated, Params } from '@feathersjs/feathers';
import type { Application } from '../../declarations.js';
import { policyOf, subjectOf } from '../../rbac/authorize.js';
import { decide, effectiveTier, type Action, type Subject } from '../../rbac/decide.js';
import { factsOf, whereWorktreeVisible, type WorktreeAccessRow } from '../../rbac/scope.js';
import { DEFAULT_PAGE } from '../pagination.js';
import type { WorktreeAccess } from './worktree-access.shared.js';

/** Somebody else's session, for the actions that differ by creator. */
const OTHERS_SESSION = { created_by: '\u0000someone-else' };

export class WorktreeAccessService {
  constructor(private readonly app: Application) {}

  private describe(subject: Subject, row: WorktreeAccessRow): WorktreeAccess {
    const policy = policyOf(this.app);
    const worktree = factsOf(row);
    const may = (action: Action, session?: { created_by: string }) => decide(subject, action, { worktree, session }, policy).allow;
    const execution = this.app.get('runtime').config.execution;
    return {
      worktree_id: row.id,
      is_owner: worktree.isOwner,
      tier: effectiveTier(subject, worktree, policy),
      can: {
        view: may('worktree.view'),
        create_session: may('session.create'),
        prompt_own: may('session.prompt', { created_by: subject.id }),
        prompt_others: may('session.prompt', OTHERS_SESSION),
        fork_others: may('session.fork', OTHERS_SESSION),
        manage_sessions: may('session.archive'),
        terminal: may('terminal.open') && decide(subject, 'terminal.use').allow && execution.allow_web_terminal,
        change_permissions: may('worktree.change_permissions'),
        delete: may('worktree.delete'),
        break_glass: may('worktree.break_glass') && !worktree.isOwner,
      },
    };
  }

  /** Worktree records the caller may see (admins: all records), with ownership: one query. */
  private query(subject: Subject) {
    const db = this.app.get('db');
    const q = db('worktrees as w')
      .select('w.id', 'w.others_can', 'w.dangerously_allow_session_sharing')
      .select(db.raw('EXISTS (SELECT 1 FROM worktree_owners wo WHERE wo.worktree_id = w.id AND wo.user_id = ?) AS is_owner', [subject.id]));
    if (!decide(subject, 'worktree.see_every_record').allow) whereWorktreeVisible(q, subject, policyOf(this.app), { worktreeId: 'w.id', othersCan: 'w.others_can' });
    return q;
  }

  async find(params: Params): Promise<Paginated<WorktreeAccess>> {
    const subject = subjectOf(params);
    const { $limit = DEFAULT_PAGE, $skip = 0, worktree_id } = (params.query ?? {}) as { $limit?: number; $skip?: number; worktree_id?: string };
    const q = this.query(subject);
    if (worktree_id !== undefined) q.where('w.id', worktree_id);
    const total = Number(((await q.clone().clearSelect().count('* as n').first()) as { n: number } | undefined)?.n ?? 0);
    const rows = (await q.orderBy('w.id').limit($limit).offset($skip)) as WorktreeAccessRow[];
    return { total, limit: $limit, skip: $skip, data: rows.map((row) => this.describe(subject, row)) };
  }

  async get(id: Id, params: Params): Promise<WorktreeAccess> {
    const subject = subjectOf(params);
    const row = (await this.query(subject).where('w.id', String(id)).first()) as WorktreeAccessRow | undefined;
    // Hidden and missing answer alike.
    if (!row) throw new NotFound(`No worktree with id ${id}`);
    return this.describe(subject, row);
  }
}
