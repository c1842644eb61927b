// Shared fixtures for the worktree / RBAC suites: real git repositories, users with tokens and
// both kinds of client, fresh worktrees with unique names, bounded concurrency.
import crypto from 'node:crypto';
import type { Application as ClientApp, Paginated } from '@feathersjs/feathers';
import { OWNER, type SocketClient, type TestDaemon } from './daemon.js';
import { makeRepo, tempDir } from '../../daemon/git/test-support.js';
import type { Role } from '../../daemon/auth/roles.js';
import type { Tier } from '../../daemon/rbac/tiers.js';
import type { PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';
import type { PublicSession } from '../../daemon/services/sessions/sessions.shared.js';
import type { PublicTask } from '../../daemon/services/tasks/tasks.shared.js';
import type { PublicRepo } from '../../daemon/services/repos/repos.shared.js';
import type { PublicMessage } from '../../daemon/services/messages/messages.shared.js';

export { cleanupTempDirs, commitFiles, makeRepo, plainGit, tempDir } from '../../daemon/git/test-support.js';

/** A signed-in user with a REST client and an authenticated Socket.IO client. */
export interface Actor {
  id: string;
  email: string;
  role: Role;
  token: string;
  rest: ClientApp;
  socket: SocketClient;
}

export type Transport = 'rest' | 'socket';
export const TRANSPORTS: readonly Transport[] = ['rest', 'socket'];

export function client(actor: Actor, transport: Transport): ClientApp {
  return transport === 'rest' ? actor.rest : actor.socket.app;
}

/** 'ok', or the Feathers error class name (NotFound, Forbidden, BadRequest, ...). */
export async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return (error as { name?: string }).name ?? String(error);
  }
}

/** The daemon's first owner, signed in. */
export async function ownerActor(d: TestDaemon): Promise<Actor> {
  const token = await d.login(OWNER.email, OWNER.password);
  const me = (await d.rest(token).service('users').get('me')) as { id: string; role: Role };
  return { id: me.id, email: OWNER.email, role: me.role, token, rest: d.rest(token), socket: await d.socket(token) };
}

/** A new user of `role`, signed in over REST (bcrypt: ~0.5 s each, so make them once per file). */
export async function newActor(d: TestDaemon, role: Role, name?: string): Promise<Actor> {
  const user = await d.createUser(role, name);
  const token = await d.login(user.email, user.password);
  return { id: user.id, email: user.email, role, token, rest: d.rest(token), socket: await d.socket(token) };
}

/**
 * Like newActor, but the access token is minted by the daemon's own authentication service: the
 * same JWT a login returns, without the second bcrypt (logging in is tested elsewhere).
 */
export async function quickActor(d: TestDaemon, role: Role, name?: string): Promise<Actor> {
  const user = await d.createUser(role, name);
  const auth = d.app.service('authentication' as never) as unknown as { createAccessToken(payload: object, options: object): Promise<string> };
  const token = await auth.createAccessToken({}, { subject: user.id });
  return { id: user.id, email: user.email, role, token, rest: d.rest(token), socket: await d.socket(token) };
}

let names = 0;
/** Worktree names must be unique per repo: a counter plus a little randomness across runs. */
export function uniqueName(prefix = 'wt'): string {
  names += 1;
  return `${prefix}-${names}-${crypto.randomBytes(2).toString('hex')}`;
}

/** A real repository with a couple of commits and an extra branch, registered by `admin` by path. */
export async function registerRepo(admin: Actor, files: Record<string, string> = { 'README.md': 'hello\n' }): Promise<PublicRepo & { dir: string }> {
  const dir = makeRepo(`${tempDir('agor-wt-repo-')}/project`, files);
  const repo = (await admin.rest.service('repos').create({ path: dir })) as PublicRepo;
  return { ...repo, dir };
}

export interface WorktreeOptions {
  others_can?: Tier;
  dangerously_allow_session_sharing?: boolean;
  /** Added as co-owners by the creator right after creation. */
  coOwners?: string[];
  name?: string;
  branch?: string;
}

/** A fresh worktree made over REST by `creator` (who becomes its owner). */
export async function createWorktree(creator: Actor, repoId: string, opts: WorktreeOptions = {}): Promise<PublicWorktree> {
  const wt = (await creator.rest.service('worktrees').create({
    repo_id: repoId,
    name: opts.name ?? uniqueName(),
    ...(opts.branch && { branch: opts.branch }),
    others_can: opts.others_can ?? 'session',
    dangerously_allow_session_sharing: opts.dangerously_allow_session_sharing ?? false,
  })) as PublicWorktree;
  for (const userId of opts.coOwners ?? []) await creator.rest.service('worktrees/:worktree_id/owners').create({ user_id: userId }, { route: { worktree_id: wt.id } });
  return wt;
}

export async function createSession(actor: Actor, worktreeId: string, transport: Transport = 'rest'): Promise<PublicSession> {
  return (await client(actor, transport).service('sessions').create({ worktree_id: worktreeId, agent: 'claude-code', title: 'fixture' })) as PublicSession;
}

export async function createTask(actor: Actor, sessionId: string): Promise<PublicTask> {
  return (await actor.rest.service('tasks').create({ session_id: sessionId, prompt: 'fixture prompt' })) as PublicTask;
}

/**
 * A session row written straight to the database: only for a session a user can no longer make
 * through the API, such as a viewer's own session (one it made before it was demoted).
 */
export async function insertSession(d: TestDaemon, worktreeId: string, createdBy: string): Promise<PublicSession> {
  const at = new Date().toISOString();
  const row = {
    id: crypto.randomUUID(),
    worktree_id: worktreeId,
    agent: 'claude-code',
    title: 'inserted',
    created_by: createdBy,
    parent_session_id: null,
    forked_from: null,
    resume_handle: null,
    permission_mode: 'ask' as const,
    archived: false,
    created_at: at,
    updated_at: at,
  };
  await d.app.get('db')('sessions').insert(row);
  const { resume_handle: _r, ...rest } = row;
  return rest;
}

/** A pending tool approval of a task, as the runner records one (approvals have no external create). */
export async function insertApproval(d: TestDaemon, taskId: string, tool = 'Bash', input: unknown = { command: 'echo fixture' }): Promise<string> {
  const db = d.app.get('db');
  const task = await db('tasks').where('id', taskId).first();
  const id = crypto.randomUUID();
  await db('tool_approvals').insert({
    id,
    task_id: taskId,
    session_id: task.session_id,
    worktree_id: task.worktree_id,
    tool,
    input: JSON.stringify(input),
    rule: 'mode:ask',
    reason: 'fixture',
    status: 'pending',
    created_at: new Date().toISOString(),
  });
  return id;
}

/** Agent output, as the runner writes it (messages have no external create). */
export async function appendMessage(d: TestDaemon, taskId: string, text = 'fixture output'): Promise<PublicMessage> {
  return (await d.app.service('messages').create({ task_id: taskId, type: 'text', content: { text } })) as PublicMessage;
}

/** Every page of a find, concatenated. */
export async function findAll<T>(app: ClientApp, path: string, query: Record<string, unknown> = {}): Promise<T[]> {
  const all: T[] = [];
  for (let skip = 0; ; ) {
    const page = (await app.service(path).find({ query: { ...query, $limit: 1000, $skip: skip } })) as Paginated<T>;
    all.push(...page.data);
    skip += page.data.length;
    if (page.data.length === 0 || skip >= page.total) return all;
  }
}

/** Runs `fn` over `items`, at most `limit` at a time, preserving order of results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
