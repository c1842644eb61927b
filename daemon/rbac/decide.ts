import { SITE_RULES, whyNotOnSite, whyNotOnUser, type Actor, type Role, type SiteAction, type UserAction } from './roles.js';
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
  /** worktree.break_glass by adding an owner: who becomes owner (break-glass covers only oneself). */
  newOwnerId?: string;
}

export interface Policy {
  /** execution.worktree_rbac */
  rbac: boolean;
}

export type Decision = { allow: true } | { allow: false; notFound: boolean; reason: string };

const ALLOW: Decision = { allow: true };

/**
 * What a non-owner needs for each worktree action (DESIGN §4 table), as data. `tier`: on the
 * worktree, or on one's own session; null = owners only. `others`: on another user's session (null:
 * only its creator or an owner).
 * `othersShared`: on another user's session when the worktree has dangerously_allow_session_sharing
 * on (a fork then keeps running as that user: that is prompting them).
 */
export const WORKTREE_RULES: Record<Action, { tier: Tier | null; others?: Tier | null; othersShared?: Tier }> = {
  'worktree.see_record': { tier: 'view' },
  'worktree.view': { tier: 'view' },
  'session.create': { tier: 'session' },
  'session.prompt': { tier: 'session', others: 'prompt' },
  'session.stop': { tier: 'session', others: 'prompt' },
  'session.fork': { tier: 'session', othersShared: 'prompt' },
  // A tool approval runs as the session's creator: only they (or an owner) answer, whatever one's tier.
  'session.answer_tool_request': { tier: 'session', others: null },
  'session.archive': { tier: 'all' },
  'session.delete': { tier: 'all' },
  'worktree.patch': { tier: 'all' },
  'terminal.open': { tier: 'all' },
  'environment.control': { tier: 'all' },
  'worktree.manage_owners': { tier: null },
  'worktree.change_permissions': { tier: null },
  'worktree.delete': { tier: null },
  'worktree.break_glass': { tier: null },
};

/** Actions that stay allowed under the viewer role's cap (ownership included). */
const VIEWER_CAP: readonly Action[] = ['worktree.see_record', 'worktree.view'];

/** What a non-owner needs for `action`; null = owners only. */
function requiredTier(action: Action, subject: Subject, resource: Resource): Tier | null {
  const rule = WORKTREE_RULES[action];
  const others = resource.session !== undefined && resource.session.created_by !== subject.id;
  if (!others) return rule.tier;
  if (resource.worktree.dangerously_allow_session_sharing && rule.othersShared) return rule.othersShared;
  return rule.others !== undefined ? rule.others : rule.tier;
}

/** The tier a non-owner effectively has on the worktree. */
export function effectiveTier(subject: Subject, worktree: WorktreeFacts, policy: Policy): Tier {
  const capped = !mayAct(subject);
  if (!policy.rbac) return capped ? VIEW : 'all';
  return capped ? minTier(worktree.others_can, VIEW) : worktree.others_can;
}

/** Whether the subject's role acts in worktrees at all; below it (viewer) everything is capped at `view`. */
const mayAct = (subject: Subject) => whyNotOnSite(subject, 'worktree.act') === null;
const VIEW = WORKTREE_RULES['worktree.view'].tier!;

/**
 * One authority: worktree actions need the worktree's facts and the policy; every other action
 * (repos, boards, users and role grants, audit, terminals, the system) is a row of SITE_RULES or
 * USER_RULES (roles.ts), with the record's creator or the user acted on as `object`.
 */
export function decide(subject: Subject, action: Action, resource: Resource, policy: Policy): Decision;
export function decide(subject: Subject, action: SiteAction, object?: { ownerId?: string | null }): Decision;
export function decide(subject: Subject, action: UserAction, object: { target?: Actor; role?: Role }): Decision;
export function decide(subject: Subject, action: Action | SiteAction | UserAction, resource?: unknown, policy?: Policy): Decision {
  if (action in SITE_RULES) return verdict(whyNotOnSite(subject, action as SiteAction, (resource as { ownerId?: string | null } | undefined)?.ownerId));
  if (action === 'user.manage' || action === 'user.grant_role' || action === 'user.remove') return verdict(whyNotOnUser(subject, action, resource as { target?: Actor; role?: Role }));
  return decideOnWorktree(subject, action as Action, resource as Resource, policy!);
}

function verdict(why: string | null): Decision {
  return why === null ? ALLOW : { allow: false, notFound: false, reason: why };
}

function decideOnWorktree(subject: Subject, action: Action, resource: Resource, policy: Policy): Decision {
  const { worktree } = resource;
  const tier = effectiveTier(subject, worktree, policy);
  const canView = worktree.isOwner || tierRank(tier) >= tierRank(VIEW);
  // Seeing every worktree record is what lets admins administer (and take over) worktrees.
  const isAdmin = whyNotOnSite(subject, 'worktree.see_every_record') === null;

  // Admins administer worktree records (never their contents) and may explicitly take over.
  if (action === 'worktree.see_record' && isAdmin) return ALLOW;
  if (action === 'worktree.break_glass') {
    if (!isAdmin) return { allow: false, notFound: !canView, reason: 'only admins and owners may take over a worktree' };
    if (resource.newOwnerId !== undefined && resource.newOwnerId !== subject.id) return { allow: false, notFound: false, reason: 'break-glass makes only yourself an owner' };
    return ALLOW;
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
  if (!mayAct(subject) && !VIEWER_CAP.includes(action)) {
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
