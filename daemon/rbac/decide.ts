import { atLeast, type Role } from '../auth/roles.js';
import { minTier, tierRank, type Tier } from './tiers.js';

/**
 * THE permission rule (DESIGN §4). Pure: every hook, route, socket publisher, gateway and
 * runner asks this function, and scope.ts compiles the `view` rule into SQL for lists.
 */
export interface Subject {
  id: string;
  role: Role;
}

export interface WorktreeFacts {
  others_can: Tier;
  dangerously_allow_session_sharing: boolean;
  /** Whether the subject is one of the worktree's owners. */
  isOwner: boolean;
}

export interface SessionFacts {
  created_by: string;
}

export type Action =
  | 'worktree.see_record'
  | 'worktree.view'
  | 'session.create'
  | 'session.prompt'
  | 'session.stop'
  | 'session.fork'
  | 'session.answer_tool_request'
  | 'session.archive'
  | 'session.delete'
  | 'worktree.patch'
  | 'terminal.open'
  | 'environment.control'
  | 'worktree.manage_owners'
  | 'worktree.change_permissions'
  | 'worktree.delete'
  | 'worktree.break_glass';

export interface Resource {
  worktree: WorktreeFacts;
  /** The session acted on (prompt/stop/fork/archive/delete). */
  session?: SessionFacts;
}

export interface Policy {
  /** execution.worktree_rbac */
  rbac: boolean;
}

export type Decision = { allow: true } | { allow: false; notFound: boolean; reason: string };

const ALLOW: Decision = { allow: true };

/** What a non-owner needs for each action; null = owners only. */
function requiredTier(action: Action, subject: Subject, resource: Resource): Tier | null {
  const own = resource.session ? resource.session.created_by === subject.id : true;
  switch (action) {
    case 'worktree.see_record':
    case 'worktree.view':
      return 'view';
    case 'session.create':
      return 'session';
    case 'session.prompt':
    case 'session.stop':
      return own ? 'session' : 'prompt';
    case 'session.answer_tool_request':
      // A tool approval runs as the session's creator: only they (or an owner) answer, whatever one's tier.
      return own ? 'session' : null;
    case 'session.fork':
      // With sharing on, a fork of someone else's session keeps running as them: that is prompting them.
      return !own && resource.worktree.dangerously_allow_session_sharing ? 'prompt' : 'session';
    case 'session.archive':
    case 'session.delete':
    case 'worktree.patch':
    case 'terminal.open':
    case 'environment.control':
      return 'all';
    case 'worktree.manage_owners':
    case 'worktree.change_permissions':
    case 'worktree.delete':
    case 'worktree.break_glass':
      return null;
  }
}

/** The tier a non-owner effectively has on the worktree. */
export function effectiveTier(subject: Subject, worktree: WorktreeFacts, policy: Policy): Tier {
  if (!policy.rbac) return subject.role === 'viewer' ? 'view' : 'all';
  return subject.role === 'viewer' ? minTier(worktree.others_can, 'view') : worktree.others_can;
}

export function decide(subject: Subject, action: Action, resource: Resource, policy: Policy): Decision {
  const { worktree } = resource;
  const tier = effectiveTier(subject, worktree, policy);
  const canView = worktree.isOwner || tierRank(tier) >= tierRank('view');
  const isAdmin = atLeast(subject.role, 'admin');

  // Admins administer worktree records (never their contents) and may explicitly take over.
  if (action === 'worktree.see_record' && isAdmin) return ALLOW;
  if (action === 'worktree.break_glass') {
    return isAdmin ? ALLOW : { allow: false, notFound: !canView, reason: 'only admins and owners may take over a worktree' };
  }
  if (!canView) {
    // Admins see every worktree record, so for them an act on the worktree itself is refused, not
    // "missing" (they just listed it); its sessions and what is in them stay invisible (404).
    if (isAdmin && action !== 'worktree.view' && !resource.session) {
      return { allow: false, notFound: false, reason: `admins see this worktree's record but have no access to it; ${action} needs ownership (make yourself an owner, which is audited) or a tier` };
    }
    return { allow: false, notFound: true, reason: 'not found' };
  }
  // The viewer role caps every action at `view`, ownership included: a user demoted to viewer
  // keeps seeing their worktrees but acts on nothing until promoted again.
  if (subject.role === 'viewer' && action !== 'worktree.view' && action !== 'worktree.see_record') {
    return { allow: false, notFound: false, reason: `viewers may only view; ${action} needs the member role or above` };
  }
  if (worktree.isOwner) return ALLOW;

  const needed = requiredTier(action, subject, resource);
  if (needed === null) {
    const who = action === 'session.answer_tool_request' ? "the session's creator and the worktree's owners" : "the worktree's owners";
    return { allow: false, notFound: false, reason: `only ${who} may do this (${action})` };
  }
  if (tierRank(tier) >= tierRank(needed)) return ALLOW;
  return { allow: false, notFound: false, reason: `this worktree gives others "${tier}" access and ${action} needs "${needed}"` };
}
