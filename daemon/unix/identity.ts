// Which Unix identity runs an executor or a terminal (DESIGN §3). Pure: mode × creator × worktree.
import { BadRequest, Forbidden } from '@feathersjs/errors';
import type { Database } from '../db/database.js';
import type { UnixUserMode } from '../config/schema.js';
import { UNIX_USERNAME_PATTERN, WORKTREE_GROUP_PATTERN } from './names.js';

export type ExecutionIdentity =
  | { kind: 'daemon' }
  /** The executor user with the worktree's group as its only group. */
  | { kind: 'insulated'; user: string; group: string }
  /** The creator's own account, with its primary group and the worktree's group — no other group. */
  | { kind: 'strict'; user: string; group: string };

export interface IdentityFacts {
  creator: { id: string; unix_username: string | null };
  worktree: { id: string; unix_group: string | null };
  executorUser: string;
}

/** Refusal to run anything: a clear 4xx, raised before any process exists. */
export class ExecutionRefused extends Forbidden {
  constructor(message: string) {
    super(message);
  }
}

/**
 * The identity a session's process runs as. Fails closed: in strict mode a creator without a Unix
 * account gets an error and nothing runs (no fallback to the executor or the daemon user); in
 * insulated/strict a worktree whose group was never prepared is refused too.
 */
export function resolveExecutionIdentity(mode: UnixUserMode, facts: IdentityFacts): ExecutionIdentity {
  if (mode === 'simple') return { kind: 'daemon' };
  const group = facts.worktree.unix_group;
  if (!group || !WORKTREE_GROUP_PATTERN.test(group)) {
    throw new ExecutionRefused(
      `Worktree ${facts.worktree.id} has no Unix group yet (it was created before ${mode} mode was enabled?): run \`agor admin sync-unix\` to prepare it`,
    );
  }
  if (mode === 'insulated') {
    if (!UNIX_USERNAME_PATTERN.test(facts.executorUser)) throw new ExecutionRefused(`execution.executor_unix_user ${JSON.stringify(facts.executorUser)} is not a valid agor user name`);
    return { kind: 'insulated', user: facts.executorUser, group };
  }
  const user = facts.creator.unix_username;
  if (!user) {
    throw new ExecutionRefused(
      `Strict mode runs every session as its creator's own Unix account, and user ${facts.creator.id} has none: nothing was run. An admin links one with \`agor user link-unix <user> agor_<name>\`.`,
    );
  }
  if (!UNIX_USERNAME_PATTERN.test(user)) throw new ExecutionRefused(`The stored Unix account ${JSON.stringify(user)} of user ${facts.creator.id} is not a valid agor user name; nothing was run`);
  return { kind: 'strict', user, group };
}

/** Loads the facts of `creatorId` × `worktreeId` and resolves the identity (what the runner and terminals call). */
export async function loadExecutionIdentity(
  db: Database,
  execution: { unix_user_mode: UnixUserMode; executor_unix_user: string },
  creatorId: string,
  worktreeId: string,
): Promise<ExecutionIdentity> {
  const creator = await db('users').where('id', creatorId).first('id', 'unix_username', 'disabled');
  if (!creator) throw new BadRequest(`No user with id ${creatorId}`);
  if (creator.disabled) throw new ExecutionRefused(`User ${creatorId} is disabled; nothing runs as it`);
  const worktree = await db('worktrees').where('id', worktreeId).first('id', 'unix_group');
  if (!worktree) throw new BadRequest(`No worktree with id ${worktreeId}`);
  return resolveExecutionIdentity(execution.unix_user_mode, {
    creator: { id: creator.id, unix_username: creator.unix_username ?? null },
    worktree: { id: worktree.id, unix_group: worktree.unix_group ?? null },
    executorUser: execution.executor_unix_user,
  });
}
