/**
 * Path and methods of the worktree-access service: what the CALLER may do on each worktree whose
 * record it may see, computed by decide() (the one rule) so clients never re-implement it.
 * `find` lists them (optionally `worktree_id`), `get` answers one (404 when the record is hidden).
 */
export const worktreeAccessPath = 'worktree-access';
export const worktreeAccessMethods = ['find', 'get'] as const;

export interface WorktreeAccess {
  worktree_id: string;
  is_owner: boolean;
  /** The caller's effective tier as a non-owner (viewers capped at `view`; `all` without rbac). */
  tier: 'none' | 'view' | 'session' | 'prompt' | 'all';
  can: {
    /** Its sessions, tasks, messages (admins may see a record without this). */
    view: boolean;
    create_session: boolean;
    /** Prompt or stop one's own sessions. */
    prompt_own: boolean;
    /** Prompt or stop sessions other users created (they run as their creator). */
    prompt_others: boolean;
    /** Fork another user's session (with session sharing on this needs `prompt`). */
    fork_others: boolean;
    /** Archive/delete sessions, patch the worktree. */
    manage_sessions: boolean;
    /** Open a web terminal: tier `all` or owner, member+, and the terminal enabled on the daemon. */
    terminal: boolean;
    /** Owners, others_can, others_fs_access, session sharing. */
    change_permissions: boolean;
    delete: boolean;
    /** Admins: make themselves an owner (audited). */
    break_glass: boolean;
  };
}
