// Global roles and what each may do outside a worktree's contents (DESIGN §4), as data: one row
// per action, read by decide() (decide.ts). Changing who may do something is one line here.

/** Global roles, lowest first. */
export const ROLES = ['viewer', 'member', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

export function atLeast(role: Role, minimum: Role): boolean {
  return roleRank(role) >= roleRank(minimum);
}

/**
 * A site rule: the least role that may act on ANY record (`any`, null = nobody), and on the
 * subject's OWN record (`own`: created by the subject, or the subject itself for users). `denied`
 * is the sentence a refused caller reads.
 */
export interface SiteRule {
  any: Role | null;
  own?: Role;
  denied: string;
}

export const SITE_RULES = {
  'repo.create': { any: 'member', denied: 'Viewers cannot add repos' },
  'repo.create_local': { any: 'admin', denied: 'Only admins may add repos from local paths or file:// URLs; members may clone https:// URLs' },
  'repo.remove': { any: 'admin', own: 'viewer', denied: 'Only the user who added a repo, or an admin, may remove it' },
  'board.create': { any: 'member', denied: 'Viewers cannot create boards' },
  'board.update': { any: 'admin', own: 'viewer', denied: "Only the board's creator or an admin may change it" },
  'board.arrange': { any: 'member', denied: 'Viewers cannot arrange boards' },
  'worktree.create': { any: 'member', denied: 'Viewers cannot create worktrees' },
  /** Acting in a worktree at all, ownership included; below it every worktree action is capped at `view` (decide.ts). */
  'worktree.act': { any: 'member', denied: 'viewers may only view; worktree actions need the member role or above' },
  /** Every worktree *record* (never its contents): to administer it (DESIGN §4). */
  'worktree.see_every_record': { any: 'admin', denied: 'only admins and owners see every worktree record' },
  /** Opening any terminal at all; which worktree is then decided by `terminal.open`. */
  'terminal.use': { any: 'member', denied: 'Terminals need the member role or above' },
  'audit.read_all': { any: 'admin', denied: 'only admins and owners read the whole audit log' },
  'audit.verify_chain': { any: 'admin', denied: 'Only admins and owners can check the audit chain' },
  /** role, disabled, unix_username, timestamps of a user (the directory shows id, name, email to all). */
  'user.see_private_fields': { any: 'admin', own: 'viewer', denied: 'only admins and owners see the role, state and Unix link of other users' },
  'user.filter_private_fields': { any: 'admin', denied: 'Only admins and owners may filter users by role or disabled' },
  'system.unix_sync': { any: 'admin', denied: 'Only admins and owners reconcile Unix groups (agor admin sync-unix)' },
  'system.config_reload': { any: 'admin', denied: "Only admins and owners reload the daemon's config (agor config reload)" },
  'system.metrics': { any: 'admin', denied: 'Only admins and owners read metrics (or set metrics.access: loopback for a local scraper)' },
  /** The admins' event channel (user records, audit events of every worktree). */
  'system.admin_events': { any: 'admin', denied: 'only admins and owners receive administrative events' },
} as const satisfies Record<string, SiteRule>;

export type SiteAction = keyof typeof SITE_RULES;

/**
 * User management by the role of the user acted on: the least role that may create, change,
 * disable or remove a user holding it (`manage`), or give it (`grant`). Nobody manages themselves
 * (their role, state, Unix link; a user edits their own name and password under `SELF_FIELDS`), and
 * nobody grants a role above their own.
 */
export const USER_RULES: Record<Role, { manage: Role; grant: Role }> = {
  viewer: { manage: 'admin', grant: 'admin' },
  member: { manage: 'admin', grant: 'admin' },
  admin: { manage: 'owner', grant: 'owner' },
  owner: { manage: 'owner', grant: 'owner' },
};

export type UserAction = 'user.manage' | 'user.grant_role' | 'user.remove';

export interface Actor {
  id: string;
  role: Role;
}

/** Why `actor` may not do `action` on `target` (user.manage/remove) or grant `role`; null when allowed. */
export function whyNotOnUser(actor: Actor, action: UserAction, object: { target?: Actor; role?: Role }): string | null {
  // The least role that manages anyone at all: below it, the caller is told so plainly.
  const lowestManager = ROLES.find((r) => ROLES.some((t) => USER_RULES[t].manage === r))!;
  if (action === 'user.grant_role') {
    const role = object.role!;
    if (!atLeast(actor.role, lowestManager)) return 'only admins and owners assign roles';
    if (roleRank(role) > roleRank(actor.role)) return `you cannot grant the ${role} role: it is above your own (${actor.role})`;
    if (!atLeast(actor.role, USER_RULES[role].grant)) return 'only owners create admins or owners';
    return null;
  }
  const target = object.target!;
  if (target.id === actor.id) return action === 'user.remove' ? 'You cannot remove yourself; ask another admin or owner' : 'You cannot change your own role or account; ask another admin or owner';
  if (!atLeast(actor.role, lowestManager)) return 'only admins and owners manage users';
  if (!atLeast(actor.role, USER_RULES[target.role].manage)) return 'only owners manage admins and owners';
  return null;
}

/** Why `subject` may not do the site action (on a record created by `ownerId`); null when allowed. */
export function whyNotOnSite(subject: Actor, action: SiteAction, ownerId?: string | null): string | null {
  const rule: SiteRule = SITE_RULES[action];
  if (rule.any && atLeast(subject.role, rule.any)) return null;
  if (rule.own && ownerId === subject.id && atLeast(subject.role, rule.own)) return null;
  return rule.denied;
}

export type TargetUser = Actor;

/** Who may create, change or remove a user with `target`'s current role (for the UI). Null when allowed. */
export function whyCannotManage(actor: Actor, target: TargetUser): string | null {
  return whyNotOnUser(actor, 'user.manage', { target });
}

/** Whether `actor` may give a user the role `role` (on create or role change; for the UI). Null when allowed. */
export function whyCannotGrant(actor: Actor, role: Role): string | null {
  return whyNotOnUser(actor, 'user.grant_role', { role });
}
