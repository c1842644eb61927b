// Names for ids: repos, worktrees and sessions are accepted by name where that is unambiguous, as
// users are by email. An ambiguous name is refused with the candidates listed, so the person can
// pick one by id without another command.
import type { Application, Paginated } from '@feathersjs/feathers';
import { CliError } from './errors.js';
import { reposPath, type PublicRepo } from '../daemon/services/repos/repos.shared.js';
import { worktreesPath, type PublicWorktree } from '../daemon/services/worktrees/worktrees.shared.js';
import { sessionsPath, type PublicSession } from '../daemon/services/sessions/sessions.shared.js';
import { usersPath, type PublicUser } from '../daemon/services/users/users.shared.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Shortest id prefix accepted: shorter ones match too much to mean anything. */
const MIN_PREFIX = 4;
const MAX_ROWS = 5000;

/** Every row of a find from row `from` on, page by page (bounded: at most `max` rows). */
export async function findAll<T>(app: Application, path: string, query: Record<string, unknown> = {}, from = 0, max = MAX_ROWS): Promise<T[]> {
  const rows: T[] = [];
  for (let skip = from; skip < from + max; ) {
    const page = (await app.service(path).find({ query: { ...query, $limit: 1000, $skip: skip } })) as Paginated<T>;
    rows.push(...page.data);
    skip += page.data.length;
    if (page.data.length === 0 || skip >= page.total) break;
  }
  return rows;
}

/**
 * The one candidate the first matching rule finds. Rules go from the most to the least precise
 * (an exact id before a name), so a name can never shadow an id.
 */
export function pickOne<T>(kind: string, ref: string, candidates: T[], rules: ((c: T) => boolean)[], describe: (c: T) => string, how: string): T {
  for (const rule of rules) {
    const found = candidates.filter(rule);
    if (found.length === 1) return found[0]!;
    if (found.length > 1) {
      const shown = found.slice(0, 20).map((c) => `  ${describe(c)}`);
      if (found.length > 20) shown.push(`  … and ${found.length - 20} more`);
      throw new CliError(`"${ref}" matches ${found.length} ${kind}s; give ${how}:\n${shown.join('\n')}`);
    }
  }
  throw new CliError(`No ${kind} "${ref}" that you may see`);
}

const idPrefix = (ref: string) => ref.length >= MIN_PREFIX && /^[0-9a-f-]+$/i.test(ref);

/** A repo id, from an id or a name (names are unique). */
export async function repoId(app: Application, ref: string): Promise<string> {
  if (UUID.test(ref)) return ref;
  const page = (await app.service(reposPath).find({ query: { name: ref } })) as Paginated<PublicRepo>;
  if (page.data[0]) return page.data[0].id;
  throw new CliError(`No repository named "${ref}" (agor repo list shows them)`);
}

/** A worktree, from an id, an id prefix, `repo/name`, or a name unique among the worktrees you may see. */
export async function resolveWorktree(app: Application, ref: string): Promise<PublicWorktree> {
  if (UUID.test(ref)) return (await app.service(worktreesPath).get(ref)) as PublicWorktree;
  const [worktrees, repos] = await Promise.all([findAll<PublicWorktree>(app, worktreesPath), findAll<PublicRepo>(app, reposPath)]);
  const repoName = new Map(repos.map((r) => [r.id, r.name]));
  const qualified = (w: PublicWorktree) => `${repoName.get(w.repo_id) ?? w.repo_id}/${w.name}`;
  return pickOne(
    'worktree',
    ref,
    worktrees,
    [(w) => idPrefix(ref) && w.id.startsWith(ref.toLowerCase()), (w) => qualified(w) === ref, (w) => w.name === ref],
    (w) => `${w.id}  ${qualified(w)}  branch ${w.branch}${w.archived ? '  (archived)' : ''}`,
    'its id or repo/name',
  );
}

export async function worktreeId(app: Application, ref: string): Promise<string> {
  return UUID.test(ref) ? ref : (await resolveWorktree(app, ref)).id;
}

/** A session, from an id, an id prefix, or a title unique among the sessions you may see. */
export async function resolveSession(app: Application, ref: string): Promise<PublicSession> {
  if (UUID.test(ref)) return (await app.service(sessionsPath).get(ref)) as PublicSession;
  const [sessions, worktrees, emails] = await Promise.all([findAll<PublicSession>(app, sessionsPath), findAll<PublicWorktree>(app, worktreesPath), emailsById(app)]);
  const worktreeName = new Map(worktrees.map((w) => [w.id, w.name]));
  const folded = ref.toLowerCase();
  return pickOne(
    'session',
    ref,
    sessions,
    [(s) => idPrefix(ref) && s.id.startsWith(folded), (s) => s.title === ref, (s) => s.title.toLowerCase() === folded],
    (s) => `${s.id}  "${s.title}"  worktree ${worktreeName.get(s.worktree_id) ?? s.worktree_id}  by ${emails.get(s.created_by) ?? s.created_by}  ${s.created_at}`,
    'its id (or a longer id prefix)',
  );
}

export async function sessionId(app: Application, ref: string): Promise<string> {
  return UUID.test(ref) ? ref : (await resolveSession(app, ref)).id;
}

/** A user, from an id or an email. */
export async function resolveUser(app: Application, ref: string): Promise<PublicUser> {
  if (!ref.includes('@')) return (await app.service(usersPath).get(ref)) as PublicUser;
  const page = (await app.service(usersPath).find({ query: { email: ref } })) as Paginated<PublicUser>;
  if (!page.data[0]) throw new CliError(`No user with email ${ref}`);
  return page.data[0];
}

/** Emails by user id, for "creator" columns (every signed-in user may list users). */
export async function emailsById(app: Application): Promise<Map<string, string>> {
  return new Map((await findAll<PublicUser>(app, usersPath)).map((u) => [u.id, u.email]));
}
