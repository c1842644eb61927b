export const worktreesPath = 'worktrees';
export const worktreesMethods = ['find', 'get', 'create', 'patch', 'remove'] as const;
export type { PublicWorktree } from './worktrees.schema.js';
