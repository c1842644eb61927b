/**
 * Global roles and the rules for who may change whose role. Pure functions, so every caller
 * (users service, CLI checks, tests) applies the one rule.
 */
export const ROLES = ['viewer', 'member', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

export function atLeast(role: Role, minimum: Role): boolean {
  return roleRank(role) >= roleRank(minimum);
}

const PRIVILEGED: readonly Role[] = ['admin', 'owner'];

export interface Actor {
  id: string;
  role: Role;
}

export interface TargetUser {
  id: string;
  role: Role;
}

/** Who may create, change or remove a user with `target`'s current role. Null when allowed. */
export function whyCannotManage(actor: Actor, target: TargetUser): string | null {
  if (!atLeast(actor.role, 'admin')) return 'only admins and owners manage users';
  if (PRIVILEGED.includes(target.role) && actor.role !== 'owner') return 'only owners manage admins and owners';
  return null;
}

/** Whether `actor` may give a user the role `role` (on create or role change). Null when allowed. */
export function whyCannotGrant(actor: Actor, role: Role): string | null {
  if (!atLeast(actor.role, 'admin')) return 'only admins and owners assign roles';
  if (roleRank(role) > roleRank(actor.role)) return `you cannot grant the ${role} role: it is above your own (${actor.role})`;
  if (PRIVILEGED.includes(role) && actor.role !== 'owner') return 'only owners create admins or owners';
  return null;
}
