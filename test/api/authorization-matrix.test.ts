// The authorization matrix: every action of DESIGN §4 × global role × (worktree owner or not) ×
// worktree tier × transport, each case asserting "allowed" or the exact error class. Expected
// outcomes come from the SPEC table below (a transcription of the design), never from decide().
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Application as ClientApp } from '@feathersjs/feathers';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import {
  TRANSPORTS,
  appendMessage,
  cleanupTempDirs,
  client,
  createSession,
  createTask,
  createWorktree,
  findAll,
  insertSession,
  quickActor,
  outcome,
  ownerActor,
  registerRepo,
  type Actor,
  type Transport,
} from '../helpers/worktree-fixture.js';
import type { Role } from '../../daemon/auth/roles.js';
import type { PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';
import type { PublicSession } from '../../daemon/services/sessions/sessions.shared.js';
import type { PublicTask } from '../../daemon/services/tasks/tasks.shared.js';
import type { PublicMessage } from '../../daemon/services/messages/messages.shared.js';
import type { WorktreeOwner } from '../../daemon/services/worktree-owners/worktree-owners.shared.js';
import { AUDIT_EVENTS_TABLE } from '../../daemon/audit/chain.js';

// ---------------------------------------------------------------------------------------------
// The specification (DESIGN §4), written out independently of daemon/rbac.
// ---------------------------------------------------------------------------------------------

const TIERS = ['none', 'view', 'session', 'prompt', 'all'] as const;
type Tier = (typeof TIERS)[number];
const ROLES = ['viewer', 'member', 'admin', 'owner'] as const satisfies readonly Role[];
const rank = (t: Tier) => TIERS.indexOf(t);

interface SpecRow {
  /** What a non-owner needs (DESIGN §4 table); 'owner' = owners only. */
  needs: Tier | 'owner';
  /**
   * What the call names: the worktree's `record` (which admin and owner roles always see, to
   * administer it), or its `contents` (sessions, tasks, messages: never visible without a tier).
   */
  target: 'record' | 'contents';
  /** A read of the record: admins may, whatever the tier. */
  readsRecord?: boolean;
  /** Admin break-glass: allowed for admin/owner roles on any worktree, logged and audited. */
  breakGlass?: boolean;
  /** A list: an invisible item is omitted rather than answered with NotFound. */
  list?: boolean;
}

const SPEC = {
  // "see worktree, its sessions, tasks, messages, events" → view
  'get worktree': { needs: 'view', target: 'record', readsRecord: true },
  'find worktrees': { needs: 'view', target: 'record', readsRecord: true, list: true },
  'list owners': { needs: 'view', target: 'record', readsRecord: true },
  'get session': { needs: 'view', target: 'contents' },
  'find sessions': { needs: 'view', target: 'contents', list: true },
  'get task': { needs: 'view', target: 'contents' },
  'find tasks': { needs: 'view', target: 'contents', list: true },
  'get message': { needs: 'view', target: 'contents' },
  'find messages': { needs: 'view', target: 'contents', list: true },
  // "create a session (it runs as the caller)" → session
  'create session': { needs: 'session', target: 'record' },
  // "prompt / stop / fork one's own session" → session
  'prompt own session': { needs: 'session', target: 'contents' },
  'stop own session': { needs: 'session', target: 'contents' },
  'fork own session': { needs: 'session', target: 'contents' },
  // "prompt / stop another user's session (runs as that session's creator)" → prompt
  "prompt other's session": { needs: 'prompt', target: 'contents' },
  "stop other's session": { needs: 'prompt', target: 'contents' },
  // Forking someone else's session: the child is the caller's (session); with sharing on it keeps
  // the parent's creator, so the caller needs prompt.
  "fork other's session, sharing off": { needs: 'session', target: 'contents' },
  "fork other's session, sharing on": { needs: 'prompt', target: 'contents' },
  // "patch worktree fields, archive or delete sessions" → all
  'patch worktree': { needs: 'all', target: 'record' },
  'archive session': { needs: 'all', target: 'contents' },
  'delete session': { needs: 'all', target: 'contents' },
  // "change owners, others_can, others_fs_access, session sharing; delete the worktree" → owner;
  // admins may make THEMSELVES owners or change tiers (break-glass).
  'add self as owner': { needs: 'owner', target: 'record', breakGlass: true },
  'add another owner': { needs: 'owner', target: 'record' },
  'remove an owner': { needs: 'owner', target: 'record' },
  'change tiers': { needs: 'owner', target: 'record', breakGlass: true },
  'delete worktree': { needs: 'owner', target: 'record' },
} as const satisfies Record<string, SpecRow>;

type Action = keyof typeof SPEC;
const ACTIONS = Object.keys(SPEC) as Action[];
type Expected = 'ok' | 'omitted' | 'NotFound' | 'Forbidden';

interface Situation {
  role: Role;
  isOwner: boolean;
  tier: Tier;
  rbac: boolean;
}

/** DESIGN §4, as prose turns into code: the tier a non-owner effectively has. */
function effectiveTier({ role, tier, rbac }: Situation): Tier {
  if (!rbac) return role === 'viewer' ? 'view' : 'all'; // "every authenticated member+ acts as all"
  if (role === 'viewer') return rank(tier) < rank('view') ? tier : 'view'; // "viewer role: capped at view"
  return tier;
}

function expectedOutcome(action: Action, s: Situation): Expected {
  const row: SpecRow = SPEC[action];
  const isAdmin = s.role === 'admin' || s.role === 'owner';
  const tier = effectiveTier(s);
  const seesContents = s.isOwner || rank(tier) >= rank('view');
  const seesTarget = row.target === 'record' ? seesContents || isAdmin : seesContents;
  if (!seesTarget) return row.list ? 'omitted' : 'NotFound'; // "none makes the worktree invisible"
  // "viewer role: effective tier capped at view — ownership included"
  if (s.role === 'viewer' && row.needs !== 'view') return 'Forbidden';
  if (s.isOwner) return 'ok'; // "Owners have every action"
  if (isAdmin && (row.readsRecord || row.breakGlass)) return 'ok';
  if (row.needs === 'owner') return 'Forbidden';
  return rank(tier) >= rank(row.needs) ? 'ok' : 'Forbidden';
}

// ---------------------------------------------------------------------------------------------
// Running the cases.
// ---------------------------------------------------------------------------------------------

/** At least this many cases must run: deleting spec rows or dimensions cannot shrink it silently. */
const MIN_CASES_RBAC_ON = 2000;
const MIN_CASES_RBAC_OFF = 400;
/** Cases each matrix defines (counted as its tests are declared, so the count does not depend on which tests ran first). */
const planned = { on: 0, off: 0 };

// [SECURITY] lines are written by the in-process daemon; keep them for the checks, not the output.
const securityLines: string[] = [];
const consoleWarn = console.warn;
console.warn = (...args: unknown[]) => {
  const line = args.map(String).join(' ');
  if (line.startsWith('[SECURITY]')) securityLines.push(line);
  else consoleWarn(...args);
};
after(() => {
  console.warn = consoleWarn;
  cleanupTempDirs();
});

interface World {
  d: TestDaemon;
  rbac: boolean;
  repoId: string;
  /** Subjects by role; the `owner` subject is the daemon's first owner. */
  subjects: Record<Role, Actor>;
  /** A member who creates every worktree (so it is their owner) and the "other user's" sessions. */
  creator: Actor;
  /** A member who is never a subject: the "another owner" added and removed. */
  bystander: { id: string };
}

async function makeWorld(rbac: boolean): Promise<World> {
  const d = await startTestDaemon({ execution: { worktree_rbac: rbac } });
  const owner = await ownerActor(d);
  const subjects = {
    viewer: await quickActor(d, 'viewer'),
    member: await quickActor(d, 'member'),
    admin: await quickActor(d, 'admin'),
    owner,
  };
  const creator = await quickActor(d, 'member', 'creator');
  const bystander = await d.createUser('member', 'bystander');
  const repo = await registerRepo(owner);
  return { d, rbac, repoId: repo.id, subjects, creator, bystander };
}

interface Group extends Situation {
  w: World;
  subject: Actor;
  wt: PublicWorktree;
  own: PublicSession;
  other: PublicSession;
  otherTask: PublicTask;
  message: PublicMessage;
}

/**
 * One worktree per (role, ownership, tier): made with tier `all` so the subject can start its own
 * session, filled by the creator, then set to the tier under test. Its cases run one after another
 * and undo what they change, so each starts from this state.
 */
async function makeGroup(w: World, role: Role, isOwner: boolean, tier: Tier): Promise<Group> {
  const subject = w.subjects[role];
  const wt = await createWorktree(w.creator, w.repoId, { others_can: 'all', coOwners: isOwner ? [subject.id] : [] });
  // A viewer (owner or not) cannot start sessions; its own session can only predate a demotion.
  const own = role === 'viewer' ? await insertSession(w.d, wt.id, subject.id) : await createSession(subject, wt.id);
  const other = await createSession(w.creator, wt.id);
  const otherTask = await createTask(w.creator, other.id);
  const message = await appendMessage(w.d, otherTask.id);
  if (tier !== 'all') await w.creator.rest.service('worktrees').patch(wt.id, { others_can: tier });
  return { w, role, isOwner, tier, rbac: w.rbac, subject, wt: { ...wt, others_can: tier }, own, other, otherTask, message };
}

const ownersOf = (wtId: string) => `worktrees/${wtId}/owners`;

async function listed<T extends { id: string | number }>(promise: Promise<T[]>, id: string | number): Promise<string> {
  try {
    return (await promise).some((x) => x.id === id) ? 'ok' : 'omitted';
  } catch (error) {
    return (error as { name: string }).name;
  }
}

// State checks read the database directly: cheaper than a request, and independent of the API.
async function auditCount(g: Group, where: { action: string; worktree_id: string; actor: string }): Promise<number> {
  const [{ n }] = await g.w.d.app.get('db')(AUDIT_EVENTS_TABLE).where(where).count({ n: '*' });
  return Number(n);
}

async function ownerIds(g: Group, wtId: string): Promise<string[]> {
  return g.w.d.app.get('db')('worktree_owners').where('worktree_id', wtId).pluck('user_id');
}

/** Runs `call` and, when it was allowed, `check`; `undo` always runs (as the worktree's creator). */
async function attempt<T>(call: () => Promise<T>, check?: (result: T) => Promise<void> | void, undo?: () => Promise<unknown>): Promise<string> {
  let result: string;
  try {
    const value = await call();
    result = 'ok';
    if (check) await check(value);
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    result = (error as { name: string }).name;
  } finally {
    if (undo) await undo();
  }
  return result;
}

/**
 * A break-glass act must leave a [SECURITY] line naming the worktree and an audit event carrying
 * its worktree_id; an owner's own change must not cry wolf.
 */
async function checkBreakGlass(g: Group, wtId: string, auditBefore: number, linesBefore: number, expectBreakGlass: boolean): Promise<void> {
  const after = await auditCount(g, { action: 'worktree.break_glass', worktree_id: wtId, actor: g.subject.id });
  const lines = securityLines.slice(linesBefore).filter((l) => l.includes(wtId) && l.includes(g.subject.email)).length;
  assert.equal(after - auditBefore, expectBreakGlass ? 1 : 0, 'break-glass audit events');
  assert.equal(lines, expectBreakGlass ? 1 : 0, '[SECURITY] lines');
  if (expectBreakGlass) {
    // "an audit event that the worktree's owners can see": read through the API by its creator.
    const seen = (await g.w.creator.rest.service('audit').find({ query: { action: 'worktree.break_glass', worktree_id: wtId, actor: g.subject.id, $limit: 0 } })) as { total: number };
    assert.equal(seen.total, after, "the worktree's owner reads the break-glass events");
  }
}

type Perform = (g: Group, as: ClientApp, expected: Expected) => Promise<string>;

const PERFORM: Record<Action, Perform> = {
  'get worktree': (g, as) => outcome(as.service('worktrees').get(g.wt.id)),
  'find worktrees': (g, as) => listed(findAll<PublicWorktree>(as, 'worktrees'), g.wt.id),
  'list owners': (g, as) =>
    attempt(
      () => as.service(ownersOf(g.wt.id)).find() as Promise<WorktreeOwner[]>,
      (owners) => assert.ok(owners.some((o) => o.user_id === g.w.creator.id)),
    ),
  'get session': (g, as) => outcome(as.service('sessions').get(g.other.id)),
  'find sessions': (g, as) => listed(findAll<PublicSession>(as, 'sessions', { worktree_id: g.wt.id }), g.other.id),
  'get task': (g, as) => outcome(as.service('tasks').get(g.otherTask.id)),
  'find tasks': (g, as) => listed(findAll<PublicTask>(as, 'tasks', { worktree_id: g.wt.id }), g.otherTask.id),
  'get message': (g, as) => outcome(as.service('messages').get(g.message.id)),
  'find messages': (g, as) => listed(findAll<PublicMessage>(as, 'messages', { worktree_id: g.wt.id }), g.message.id),

  'create session': (g, as) =>
    attempt(
      () => as.service('sessions').create({ worktree_id: g.wt.id, agent: 'claude-code' }) as Promise<PublicSession>,
      (s) => assert.equal(s.created_by, g.subject.id, 'a new session is the caller\'s'),
    ),
  'prompt own session': (g, as) =>
    attempt(
      () => as.service('tasks').create({ session_id: g.own.id, prompt: 'hi' }) as Promise<PublicTask>,
      (t) => assert.deepEqual([t.created_by, t.executed_as], [g.subject.id, g.subject.id]),
    ),
  "prompt other's session": (g, as) =>
    attempt(
      () => as.service('tasks').create({ session_id: g.other.id, prompt: 'hi' }) as Promise<PublicTask>,
      // Runs as the session's creator; the task records who prompted.
      (t) => assert.deepEqual([t.created_by, t.executed_as], [g.subject.id, g.w.creator.id]),
    ),
  'stop own session': async (g, as) => {
    const task = await createTask(g.w.creator, g.own.id);
    return attempt(
      () => as.service('tasks').patch(task.id, { status: 'stopped' }) as Promise<PublicTask>,
      (t) => assert.equal(t.status, 'stopped'),
    );
  },
  "stop other's session": async (g, as) => {
    const task = await createTask(g.w.creator, g.other.id);
    return attempt(
      () => as.service('tasks').patch(task.id, { status: 'stopped' }) as Promise<PublicTask>,
      (t) => assert.equal(t.status, 'stopped'),
    );
  },
  'fork own session': (g, as) =>
    attempt(
      () => as.service('sessions').create({ fork_from: g.own.id }) as Promise<PublicSession>,
      (s) => assert.deepEqual([s.created_by, s.forked_from], [g.subject.id, g.own.id]),
    ),
  "fork other's session, sharing off": (g, as) =>
    attempt(
      () => as.service('sessions').create({ fork_from: g.other.id }) as Promise<PublicSession>,
      // Without sharing the child is attributed to (and runs as) the caller.
      (s) => assert.deepEqual([s.created_by, s.forked_from], [g.subject.id, g.other.id]),
    ),
  "fork other's session, sharing on": async (g, as) => {
    await g.w.creator.rest.service('worktrees').patch(g.wt.id, { dangerously_allow_session_sharing: true });
    const auditBefore = await auditCount(g, { action: 'session.shared_fork', worktree_id: g.wt.id, actor: g.subject.id });
    const linesBefore = securityLines.length;
    return attempt(
      () => as.service('sessions').create({ fork_from: g.other.id }) as Promise<PublicSession>,
      async (s) => {
        // The child keeps the parent's creator: logged and audited.
        assert.equal(s.created_by, g.w.creator.id, 'a shared fork keeps the parent\'s creator');
        assert.equal(securityLines.slice(linesBefore).filter((l) => l.includes(s.id)).length, 1, '[SECURITY] line of the shared fork');
        assert.equal((await auditCount(g, { action: 'session.shared_fork', worktree_id: g.wt.id, actor: g.subject.id })) - auditBefore, 1);
      },
      () => g.w.creator.rest.service('worktrees').patch(g.wt.id, { dangerously_allow_session_sharing: false }),
    );
  },

  'patch worktree': (g, as) =>
    attempt(
      () => as.service('worktrees').patch(g.wt.id, { archived: true }) as Promise<PublicWorktree>,
      (wt) => assert.equal(wt.archived, true),
      () => g.w.creator.rest.service('worktrees').patch(g.wt.id, { archived: false }),
    ),
  'archive session': async (g, as) => {
    const s = await createSession(g.w.creator, g.wt.id);
    return attempt(
      () => as.service('sessions').patch(s.id, { archived: true }) as Promise<PublicSession>,
      (r) => assert.equal(r.archived, true),
    );
  },
  'delete session': async (g, as) => {
    const s = await createSession(g.w.creator, g.wt.id);
    return attempt(
      () => as.service('sessions').remove(s.id),
      async () => assert.equal(await outcome(g.w.creator.rest.service('sessions').get(s.id)), 'NotFound'),
    );
  },

  'add self as owner': async (g, as) => {
    const auditBefore = await auditCount(g, { action: 'worktree.break_glass', worktree_id: g.wt.id, actor: g.subject.id });
    const linesBefore = securityLines.length;
    const result = await attempt(
      () => as.service(ownersOf(g.wt.id)).create({ user_id: g.subject.id }),
      async () => assert.ok((await ownerIds(g, g.wt.id)).includes(g.subject.id)),
      async () => {
        if (!g.isOwner && (await ownerIds(g, g.wt.id)).includes(g.subject.id)) await g.w.creator.rest.service(ownersOf(g.wt.id)).remove(g.subject.id);
      },
    );
    await checkBreakGlass(g, g.wt.id, auditBefore, linesBefore, result === 'ok' && !g.isOwner);
    return result;
  },
  'add another owner': (g, as) =>
    attempt(
      () => as.service(ownersOf(g.wt.id)).create({ user_id: g.w.bystander.id }),
      async () => assert.ok((await ownerIds(g, g.wt.id)).includes(g.w.bystander.id)),
      async () => {
        if ((await ownerIds(g, g.wt.id)).includes(g.w.bystander.id)) await g.w.creator.rest.service(ownersOf(g.wt.id)).remove(g.w.bystander.id);
      },
    ),
  'remove an owner': async (g, as) => {
    await g.w.creator.rest.service(ownersOf(g.wt.id)).create({ user_id: g.w.bystander.id });
    return attempt(
      () => as.service(ownersOf(g.wt.id)).remove(g.w.bystander.id),
      async () => assert.ok(!(await ownerIds(g, g.wt.id)).includes(g.w.bystander.id)),
      async () => {
        if ((await ownerIds(g, g.wt.id)).includes(g.w.bystander.id)) await g.w.creator.rest.service(ownersOf(g.wt.id)).remove(g.w.bystander.id);
      },
    );
  },
  'change tiers': async (g, as) => {
    const to = TIERS[(rank(g.tier) + 1) % TIERS.length]!;
    const auditBefore = await auditCount(g, { action: 'worktree.break_glass', worktree_id: g.wt.id, actor: g.subject.id });
    const linesBefore = securityLines.length;
    const result = await attempt(
      () => as.service('worktrees').patch(g.wt.id, { others_can: to }) as Promise<PublicWorktree>,
      (wt) => assert.equal(wt.others_can, to),
      () => g.w.creator.rest.service('worktrees').patch(g.wt.id, { others_can: g.tier }),
    );
    await checkBreakGlass(g, g.wt.id, auditBefore, linesBefore, result === 'ok' && !g.isOwner);
    return result;
  },
  'delete worktree': async (g, as, expected) => {
    // Only a delete expected to succeed gets a worktree of its own; a refused one must leave the
    // group's worktree (and its directory) as it was.
    const target = expected === 'ok' ? await createWorktree(g.w.creator, g.w.repoId, { others_can: g.tier, coOwners: g.isOwner ? [g.subject.id] : [] }) : g.wt;
    const result = await outcome(as.service('worktrees').remove(target.id));
    assert.equal(fs.existsSync(target.path), result !== 'ok', `the worktree directory is ${result === 'ok' ? 'gone' : 'kept'}`);
    return result;
  },
};

/** Runs every action for one group over both transports; returns the mismatches and how many cases ran. */
async function runGroup(w: World, role: Role, isOwner: boolean, tier: Tier, transports: readonly Transport[]): Promise<{ mismatches: string[]; ran: number }> {
  const g = await makeGroup(w, role, isOwner, tier);
  const mismatches: string[] = [];
  let ran = 0;
  // 'delete worktree' last: a wrongly allowed delete of the group's worktree cannot spoil the rest.
  const ordered = [...ACTIONS.filter((a) => a !== 'delete worktree'), 'delete worktree' as const];
  for (const transport of transports) {
    for (const action of ordered) {
      const expected = expectedOutcome(action, g);
      let actual: string;
      try {
        actual = await PERFORM[action](g, client(g.subject, transport), expected);
      } catch (error) {
        const what = error instanceof assert.AssertionError ? 'assertion failed' : 'setup or check failed';
        actual = `${what}: ${(error as Error).message.split('\n')[0]}`;
      }
      ran += 1;
      if (actual !== expected) mismatches.push(`${role}${isOwner ? ' (worktree owner)' : ''}, tier ${tier}, ${transport}: ${action} → ${actual}, expected ${expected}`);
    }
  }
  return { mismatches, ran };
}

function describeMatrix(rbac: boolean, tiers: readonly Tier[]): void {
  describe(`authorization matrix, worktree_rbac ${rbac ? 'on' : 'off'}`, { concurrency: 8 }, () => {
    let w: World;
    before(async () => {
      w = await makeWorld(rbac);
    });
    after(() => w.d.stop());

    for (const role of ROLES) {
      for (const isOwner of [false, true]) {
        for (const tier of tiers) {
          planned[rbac ? 'on' : 'off'] += ACTIONS.length * TRANSPORTS.length;
          it(`${role}${isOwner ? ', worktree owner' : ''}, others_can ${tier}`, async () => {
            const { mismatches, ran } = await runGroup(w, role, isOwner, tier, TRANSPORTS);
            assert.deepEqual(mismatches, []);
            assert.equal(ran, ACTIONS.length * TRANSPORTS.length, 'every action over every transport');
          });
        }
      }
    }
  });
}

describe('the spec table itself', () => {
  it('covers every action the issue lists and agrees with DESIGN §4 on a few fixed points', () => {
    assert.equal(ACTIONS.length, 25);
    const at = (role: Role, isOwner: boolean, tier: Tier, rbac = true): Situation => ({ role, isOwner, tier, rbac });
    assert.equal(expectedOutcome('get session', at('admin', false, 'none')), 'NotFound');
    assert.equal(expectedOutcome('get worktree', at('admin', false, 'none')), 'ok');
    assert.equal(expectedOutcome('get worktree', at('member', false, 'none')), 'NotFound');
    assert.equal(expectedOutcome('find worktrees', at('member', false, 'none')), 'omitted');
    assert.equal(expectedOutcome('create session', at('viewer', false, 'all')), 'Forbidden');
    assert.equal(expectedOutcome("prompt other's session", at('member', false, 'session')), 'Forbidden');
    assert.equal(expectedOutcome("prompt other's session", at('member', false, 'prompt')), 'ok');
    assert.equal(expectedOutcome('change tiers', at('admin', false, 'none')), 'ok');
    assert.equal(expectedOutcome('change tiers', at('member', false, 'all')), 'Forbidden');
    assert.equal(expectedOutcome('delete worktree', at('member', true, 'none')), 'ok');
    assert.equal(expectedOutcome('patch worktree', at('member', false, 'none', false)), 'ok');
    assert.equal(expectedOutcome('delete worktree', at('member', false, 'none', false)), 'Forbidden');
    assert.equal(expectedOutcome('get session', at('viewer', false, 'none', false)), 'ok');
    // A viewer who owns a worktree sees it and acts on nothing (DESIGN §4, issue 14).
    assert.equal(expectedOutcome('get session', at('viewer', true, 'none')), 'ok');
    assert.equal(expectedOutcome('create session', at('viewer', true, 'all')), 'Forbidden');
    assert.equal(expectedOutcome('delete worktree', at('viewer', true, 'none')), 'Forbidden');
    assert.equal(expectedOutcome('add another owner', at('viewer', true, 'all', false)), 'Forbidden');
  });
});

describeMatrix(true, TIERS);
// With worktree_rbac off the tier is ignored: `none` shows it best.
describeMatrix(false, ['none']);

describe('case count', () => {
  // Each group's test proves it ran all of its cases; this one, that the groups add up.
  it(`defines at least ${MIN_CASES_RBAC_ON} cases with worktree_rbac on and ${MIN_CASES_RBAC_OFF} with it off`, () => {
    console.log(`authorization matrix: ${planned.on} cases with worktree_rbac on, ${planned.off} with it off, ${planned.on + planned.off} in all`);
    assert.ok(planned.on >= MIN_CASES_RBAC_ON, `only ${planned.on} cases with worktree_rbac on`);
    assert.ok(planned.off >= MIN_CASES_RBAC_OFF, `only ${planned.off} cases with worktree_rbac off`);
  });
});
