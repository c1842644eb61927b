/**
 * Path and methods of the info service: non-secret facts about this daemon that clients adapt to
 * (which agents exist, whether the web terminal is on). `find` answers one object, not a page.
 */
export const infoPath = 'info';
export const infoMethods = ['find'] as const;

export interface DaemonInfo {
  version: string;
  /** execution.worktree_rbac: whether tiers and owners apply at all. */
  worktree_rbac: boolean;
  unix_user_mode: 'simple' | 'insulated' | 'strict';
  /** execution.allow_web_terminal. Opening one still needs tier `all` (or ownership) and member+. */
  web_terminal: boolean;
  /** Names a session's `agent` may take: built-ins first, then command agents from config. */
  agents: string[];
  /**
   * Per agent name, the secret names (never values) it cannot run without, from the secrets of
   * the session's creator: the UI warns when the caller has not set them.
   */
  agent_credentials: Record<string, string[]>;
}
