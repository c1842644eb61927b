export const worktreeOwnersPath = 'worktrees/:worktree_id/owners';
export const worktreeOwnersMethods = ['find', 'create', 'remove'] as const;

export interface WorktreeOwner {
  worktree_id: string;
  user_id: string;
  email: string;
  name: string;
  added_by: string | null;
  added_at: string;
}
