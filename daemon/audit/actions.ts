/**
 * Every action the audit log records, in one place. Add new ones here (the type keeps callers
 * and the `audit` service's filter honest). Names are `<subject>.<what happened>`.
 */
export const AUDIT_ACTIONS = [
  // authentication and authorization
  'auth.login',
  'auth.login_failed',
  'authz.denied',
  // users
  'user.created',
  'user.removed',
  'user.role_changed',
  'user.disabled',
  'user.enabled',
  'user.email_changed',
  'user.password_changed',
  'user.unix_username_changed',
  // API keys
  'apikey.created',
  'apikey.revoked',
  // worktrees and their access (issue 3; written by the worktree services)
  'worktree.created',
  'worktree.deleted',
  'worktree.access_changed',
  'worktree.break_glass',
  'owner.added',
  'owner.removed',
  'session.shared_fork',
  // Unix isolation (daemon/unix): the OS could not follow a change, or sync-unix ran
  'unix.synced',
  'unix.sync_failed',
  // prepare-worktree left inodes it may not change (hard links, foreign owners, too deep) as they were
  'unix.tree_left_alone',
  // stored credentials (user_secrets)
  'secret.set',
  'secret.removed',
  // the runner handed a session creator's secrets (names only) to a task's executor
  'secret.delivered',
  // web terminals (daemon/terminal): opened and closed, with the Unix identity the shell ran as
  'terminal.opened',
  'terminal.closed',
  // a running task stopped because its creator or prompter lost the access it needs (rbac/running.ts)
  'task.stopped_access_revoked',
  // tool approvals (issue 16): a policy ask, and who answered it (or that nobody did)
  'tool.asked',
  'tool.answered',
  // config.yaml reloaded by the running daemon (changed key names only, never values)
  'config.reloaded',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_DECISIONS = ['allow', 'deny'] as const;
export type AuditDecision = (typeof AUDIT_DECISIONS)[number];

export function isAuditAction(value: string): value is AuditAction {
  return (AUDIT_ACTIONS as readonly string[]).includes(value);
}
