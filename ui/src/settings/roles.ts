// The role rules come from the daemon's own pure module (daemon/auth/roles.ts): the UI offers
// exactly what the users service will accept, and there is one copy of the rule.
import { ROLES, whyCannotGrant, whyCannotManage, atLeast, type Role } from '../../../daemon/auth/roles.js';

export { ROLES, atLeast, type Role };

interface Person {
  id: string;
  role: Role;
}

/** Roles `actor` may give to someone (on create or role change), lowest first. */
export function grantableRoles(actor: Person): Role[] {
  return ROLES.filter((role) => whyCannotGrant(actor, role) === null);
}

/** Why `actor` cannot change `target` (role, disabled, Unix link), or null when it can. */
export function whyCannotEdit(actor: Person, target: Person): string | null {
  if (actor.id === target.id) return 'You cannot change your own role or account; ask another admin or owner';
  return whyCannotManage(actor, target);
}

/** Whether the admin sections are shown at all. */
export function isAdmin(user: { role: Role } | null | undefined): boolean {
  return Boolean(user && atLeast(user.role, 'admin'));
}
