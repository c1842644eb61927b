/**
 * Global roles. What each role may do is data in daemon/rbac/ (roles.ts for users, repos, boards,
 * audit and the system; decide.ts for worktrees); this module re-exports the names and the user
 * rules for the UI (ui/src/settings/roles.ts), which offers exactly what the users service accepts.
 */
export { ROLES, atLeast, roleRank, whyCannotGrant, whyCannotManage, type Actor, type Role, type TargetUser } from '../rbac/roles.js';
