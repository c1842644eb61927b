/**
 * Path, methods and event of the presence service: who is looking at which worktree right now.
 * A socket says what it looks at with `create({ worktree_id })` (null: nothing); `find` lists the
 * worktrees the caller may view that someone looks at. `presence changed` events carry one
 * PresenceEntry and go only to that worktree's channel, like everything else about it.
 */
export const presencePath = 'presence';
export const presenceMethods = ['find', 'create'] as const;
export const presenceEvents = ['changed'] as const;

export interface PresenceEntry {
  worktree_id: string;
  /** Users looking at it now (each once, however many tabs), who may still view it. */
  users: { id: string; name: string }[];
}
