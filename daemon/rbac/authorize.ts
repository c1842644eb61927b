import { Forbidden, NotAuthenticated, NotFound } from '@feathersjs/errors';
import type { Params } from '@feathersjs/feathers';
import type { Application } from '../declarations.js';
import { decide, type Action, type Policy, type SessionFacts, type Subject } from './decide.js';
import type { SiteAction } from './roles.js';
import { factsOf, loadWorktreeAccess, type WorktreeAccessRow } from './scope.js';
import { auditedDenial } from '../audit/denials.js';

export function policyOf(app: Application): Policy {
  return { rbac: app.get('runtime').config.execution.worktree_rbac };
}

/**
 * The acting user. Internal callers act for a user too and pass it in params.user; there is no
 * "internal = trusted" shortcut for anything a user or an agent can reach.
 */
export function subjectOf(params: Params): Subject {
  if (!params.user) throw new NotAuthenticated('Not authenticated');
  return { id: params.user.id, role: params.user.role };
}

/** Throws Forbidden with the rule's sentence unless `subject` may do `action` (on a record created by `ownerId`). */
export function allowOrThrow(subject: Subject, action: SiteAction, ownerId?: string | null): void {
  const decision = decide(subject, action, { ownerId });
  if (!decision.allow) throw new Forbidden(decision.reason, { action });
}

/** Missing and invisible answer the same, so ids of private worktrees leak nothing. */
export function worktreeNotFound(id: string): NotFound {
  return new NotFound(`No worktree with id ${id}`);
}

/**
 * Loads a worktree and applies decide() for `action`; throws NotFound (tier none, or missing) or
 * Forbidden with the reason. Returns the row for the caller to use.
 */
export async function ensureWorktreePermission(
  app: Application,
  params: Params,
  action: Action,
  worktreeId: string,
  session?: SessionFacts,
): Promise<WorktreeAccessRow> {
  const subject = subjectOf(params);
  const row = await loadWorktreeAccess(app.get('db'), worktreeId, subject);
  if (!row) throw worktreeNotFound(worktreeId);
  const decision = decide(subject, action, { worktree: factsOf(row), session }, policyOf(app));
  if (!decision.allow) {
    // Audited like any denial, yet indistinguishable from a missing id for the caller.
    if (decision.notFound) throw auditedDenial(worktreeNotFound(worktreeId), { worktree_id: worktreeId, reason: `${action}: no access` });
    throw new Forbidden(decision.reason, { action, worktree_id: worktreeId });
  }
  return row;
}

/** Whether `subject` may view the worktree's contents (for channels and publishers). */
export function mayView(app: Application, subject: Subject, row: WorktreeAccessRow): boolean {
  return decide(subject, 'worktree.view', { worktree: factsOf(row) }, policyOf(app)).allow;
}

/**
 * For records inside a worktree (sessions, tasks, messages, board items): the caller must be able
 * to view the worktree, and when it cannot, the record is "not found" under its own name, exactly
 * as if the id did not exist.
 */
export async function ensureRecordVisible(app: Application, params: Params, worktreeId: string, notFoundMessage: string): Promise<void> {
  try {
    await ensureWorktreePermission(app, params, 'worktree.view', worktreeId);
  } catch (error) {
    // The record exists, so its worktree does: a NotFound here is always a denial.
    if (error instanceof NotFound) throw auditedDenial(new NotFound(notFoundMessage), { worktree_id: worktreeId, reason: 'no access' });
    throw error;
  }
}
