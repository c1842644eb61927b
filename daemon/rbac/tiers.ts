/** Worktree tiers for non-owners, lowest first. */
export const TIERS = ['none', 'view', 'session', 'prompt', 'all'] as const;
export type Tier = (typeof TIERS)[number];

export const FS_ACCESS = ['none', 'read', 'write'] as const;
export type FsAccess = (typeof FS_ACCESS)[number];

export function tierRank(tier: Tier): number {
  return TIERS.indexOf(tier);
}

/** Tiers at or above `minimum`, for SQL `IN (...)` conditions. */
export function tiersAtLeast(minimum: Tier): Tier[] {
  return TIERS.slice(tierRank(minimum));
}

export function minTier(a: Tier, b: Tier): Tier {
  return tierRank(a) <= tierRank(b) ? a : b;
}
