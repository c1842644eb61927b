// Client-facing types, imported (types only) from the daemon's *.shared.ts files: one definition
// for the daemon, the CLI and the UI. `import type` is erased, so no daemon code reaches the bundle.
export type { PublicUser } from '../../../daemon/services/users/users.shared.js';
export type { PublicApiKey } from '../../../daemon/services/api-keys/api-keys.shared.js';
export type { PublicAuditEvent } from '../../../daemon/services/audit/audit.shared.js';
export type { AuditChainStatus } from '../../../daemon/services/audit/audit-chain.shared.js';
export type { PublicUserSecret, SecretKind } from '../../../daemon/services/user-secrets/user-secrets.shared.js';
export type { PublicRepo } from '../../../daemon/services/repos/repos.shared.js';
export type { PublicWorktree } from '../../../daemon/services/worktrees/worktrees.shared.js';
export type { WorktreeOwner } from '../../../daemon/services/worktree-owners/worktree-owners.shared.js';
export type { PublicSession } from '../../../daemon/services/sessions/sessions.shared.js';
export type { PublicTask } from '../../../daemon/services/tasks/tasks.shared.js';
export type { PublicMessage } from '../../../daemon/services/messages/messages.shared.js';
export type { PublicApproval } from '../../../daemon/services/approvals/approvals.shared.js';
export type { PublicBoard, PublicBoardItem } from '../../../daemon/services/boards/boards.shared.js';
export type { TerminalEvent, TerminalEventData, TerminalOpened } from '../../../daemon/services/terminals/terminals.shared.js';
export type { DaemonInfo } from '../../../daemon/services/info/info.shared.js';
export type { Role } from '../../../daemon/auth/roles.js';
export type { Tier, FsAccess } from '../../../daemon/rbac/tiers.js';

/** A page of a `find`, as every daemon service answers it. */
export interface Page<T> {
  total: number;
  limit: number;
  skip: number;
  data: T[];
}
export type { WorktreeAccess } from '../../../daemon/services/worktree-access/worktree-access.shared.js';
export type { PresenceEntry } from '../../../daemon/services/presence/presence.shared.js';

/** What someone who just lost sight of a worktree receives instead of the record. */
export interface AccessRevoked {
  id: string;
  worktree_id: string;
  access_revoked: true;
}
export const isRevoked = (x: unknown): x is AccessRevoked => Boolean(x && (x as AccessRevoked).access_revoked === true);
