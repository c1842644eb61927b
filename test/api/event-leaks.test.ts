// Real-time events reach exactly the sockets that may see them (DESIGN §4, §6): 22 sockets of
// users with mixed roles and tiers over 5 worktrees, a burst of operations, then tier changes,
// a disabled user and a role change mid-stream. Expected audiences come from the rules below
// (a transcription of the design), never from the daemon's own decide().
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type SocketClient, type TestDaemon } from '../helpers/daemon.js';
import {
  appendMessage,
  insertApproval,
  cleanupTempDirs,
  createWorktree,
  mapLimit,
  outcome,
  ownerActor,
  quickActor,
  registerRepo,
  type Actor,
} from '../helpers/worktree-fixture.js';
import type { Role } from '../../daemon/auth/roles.js';
import type { PublicSession } from '../../daemon/services/sessions/sessions.shared.js';
import type { PublicTask } from '../../daemon/services/tasks/tasks.shared.js';

const TIERS = ['none', 'view', 'session', 'prompt', 'all'] as const;
type Tier = (typeof TIERS)[number];
const rank = (t: Tier) => TIERS.indexOf(t);

interface Person {
  name: string;
  actor: Actor;
  role: Role;
  sockets: SocketClient[];
  disabled: boolean;
}

/** Which worktree a service's events are about, and whether they are about its record or its contents. */
const SCOPED: Record<string, 'record' | 'contents'> = {
  worktrees: 'record',
  'worktrees/:worktree_id/owners': 'record',
  sessions: 'contents',
  tasks: 'contents',
  messages: 'contents',
  approvals: 'contents',
};

interface Emitted {
  key: string;
  /** User ids that may receive it, computed when it happened. */
  audience: Set<string>;
}

let d: TestDaemon;
let people: Record<string, Person>;
const tiers = new Map<string, Tier>();
const owners = new Map<string, Set<string>>();
/** Worktree ids by label (W1..W5). */
const wt: Record<string, string> = {};
let emitted: Emitted[] = [];
/** Per socket: where the current window of events starts. */
const marks = new Map<SocketClient, number>();
let sentinelCount = 0;

// ---------------------------------------------------------------------------------------------
// The rules (DESIGN §4 + §6): who may see what, as a function of the state when it happened.
// ---------------------------------------------------------------------------------------------

const isAdminRole = (role: Role) => role === 'admin' || role === 'owner';

/** Contents (sessions, tasks, messages) of a worktree: owners, and others whose tier is at least view. */
function maySeeContents(p: Person, worktreeId: string): boolean {
  if (owners.get(worktreeId)!.has(p.actor.id)) return true;
  const tier = tiers.get(worktreeId)!;
  const effective = p.role === 'viewer' && rank(tier) > rank('view') ? 'view' : tier; // viewers are capped at view
  return rank(effective) >= rank('view'); // admin roles get nothing implicit here
}

/** The worktree record (and its owners list): as contents, plus every admin and owner role. */
function maySeeRecord(p: Person, worktreeId: string): boolean {
  return maySeeContents(p, worktreeId) || isAdminRole(p.role);
}

function keyOf(event: string, data: Record<string, unknown>): string {
  const path = event.slice(0, event.lastIndexOf(' '));
  return path === 'worktrees/:worktree_id/owners' ? `${event} ${data.worktree_id}/${data.user_id}` : `${event} ${data.id}`;
}

/** Notes an event the daemon must publish, with its audience as of now. */
function expectEvent(event: string, data: Record<string, unknown>, worktreeId: string): void {
  const path = event.slice(0, event.lastIndexOf(' '));
  const kind = SCOPED[path];
  assert.ok(kind, `a scoped event: ${event}`);
  const audience = new Set(
    Object.values(people)
      .filter((p) => !p.disabled && (kind === 'record' ? maySeeRecord(p, worktreeId) : maySeeContents(p, worktreeId)))
      .map((p) => p.actor.id),
  );
  emitted.push({ key: keyOf(event, data), audience });
}

// ---------------------------------------------------------------------------------------------
// Operations: each performs a real call and notes the event(s) it causes.
// ---------------------------------------------------------------------------------------------

async function session(p: Person, worktree: string): Promise<PublicSession> {
  const s = (await p.actor.rest.service('sessions').create({ worktree_id: wt[worktree], agent: 'claude-code' })) as PublicSession;
  expectEvent('sessions created', s as never, s.worktree_id);
  return s;
}

async function prompt(p: Person, s: PublicSession): Promise<PublicTask> {
  const t = (await p.actor.socket.app.service('tasks').create({ session_id: s.id, prompt: 'go' })) as PublicTask;
  expectEvent('tasks created', t as never, t.worktree_id);
  return t;
}

async function stop(p: Person, t: PublicTask): Promise<void> {
  const stopped = (await p.actor.rest.service('tasks').patch(t.id, { status: 'stopped' })) as PublicTask;
  expectEvent('tasks patched', stopped as never, stopped.worktree_id);
}

/** Agent output, written by the runner (internally, not by a client). */
async function output(t: PublicTask): Promise<void> {
  const m = await appendMessage(d, t.id);
  expectEvent('messages created', m as never, m.worktree_id);
}

/** A tool approval of `t` (as the runner records one), answered by `p`: the answer is published. */
async function answerApproval(p: Person, t: PublicTask): Promise<void> {
  const id = await insertApproval(d, t.id);
  const answered = (await p.actor.socket.app.service('approvals').patch(id, { decision: 'deny', message: 'not now' })) as Record<string, unknown>;
  expectEvent('approvals patched', answered, t.worktree_id);
}

async function patchWorktree(p: Person, worktree: string, data: Record<string, unknown>): Promise<void> {
  const id = wt[worktree]!;
  const sawContents = Object.values(people).filter((q) => !q.disabled && maySeeContents(q, id));
  const result = (await p.actor.rest.service('worktrees').patch(id, data)) as Record<string, unknown>;
  if (data.others_can) tiers.set(id, data.others_can as Tier); // channels follow before the event goes out
  expectEvent('worktrees patched', result, id);
  // Who lost sight of it (and sees no records as an admin) gets only a notice: {id, worktree_id, access_revoked}.
  const lost = sawContents.filter((q) => !maySeeContents(q, id) && !isAdminRole(q.role)).map((q) => q.actor.id);
  if (lost.length > 0) emitted.push({ key: `revoked worktrees patched ${id}`, audience: new Set(lost) });
}

async function addOwner(p: Person, worktree: string, newOwner: Person): Promise<void> {
  const id = wt[worktree]!;
  const result = (await p.actor.rest.service(`worktrees/${id}/owners`).create({ user_id: newOwner.actor.id })) as Record<string, unknown>;
  owners.get(id)!.add(newOwner.actor.id);
  expectEvent('worktrees/:worktree_id/owners created', result, id);
}

// ---------------------------------------------------------------------------------------------
// Windows: operations between two sentinels, then an exact comparison per socket.
// ---------------------------------------------------------------------------------------------

const liveSockets = () => Object.values(people).flatMap((p) => (p.disabled ? [] : p.sockets));
const allSockets = () => Object.values(people).flatMap((p) => p.sockets);
const personOf = (sock: SocketClient) => Object.values(people).find((p) => p.sockets.includes(sock))!;

/**
 * Ends a window: a board created now is published to every signed-in socket after everything
 * before it (one connection keeps its order; the publishers are synchronous); once each live
 * socket has it, anything the window's operations published has arrived, and the window is cut there.
 */
async function settle(): Promise<{ sentinel: string; cut: Map<SocketClient, number> }> {
  sentinelCount += 1;
  const board = (await people.root!.actor.rest.service('boards').create({ name: `sentinel ${sentinelCount}` })) as { id: string };
  const has = (s: SocketClient) => s.events.some((e) => e.event === 'boards created' && (e.args[0] as { id: string }).id === board.id);
  const deadline = Date.now() + 10_000;
  while (!liveSockets().every(has)) {
    if (Date.now() > deadline) throw new Error(`sentinel ${sentinelCount} did not reach every live socket`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { sentinel: board.id, cut: new Map(allSockets().map((s) => [s, s.events.length])) };
}

/** Runs operations whose events are not checked (e.g. the role change itself), then moves the marks. */
async function unchecked(run: () => Promise<void>): Promise<void> {
  await run();
  const { cut } = await settle();
  for (const [s, n] of cut) marks.set(s, n);
}

/** Runs operations, then asserts every socket received exactly the events it may see in this window. */
async function window(label: string, run: () => Promise<void>): Promise<{ received: number; sockets: number }> {
  emitted = [];
  await run();
  const { sentinel, cut } = await settle();
  const problems: string[] = [];
  let received = 0;
  for (const sock of allSockets()) {
    const p = personOf(sock);
    const events = sock.events.slice(marks.get(sock), cut.get(sock));
    marks.set(sock, cut.get(sock)!);
    const actual: string[] = [];
    for (const { event, args } of events) {
      const data = args[0] as Record<string, unknown>;
      const path = event.slice(0, event.lastIndexOf(' '));
      if (data.access_revoked === true) {
        // The notice to someone who just lost sight of a worktree: its id and nothing else.
        if (Object.keys(data).sort().join() !== 'access_revoked,id,worktree_id') problems.push(`${p.name}: notice carries more than the id: ${JSON.stringify(data)}`);
        actual.push(`revoked ${event} ${data.worktree_id}`);
      } else if (SCOPED[path]) actual.push(keyOf(event, data));
      else if (event === 'boards created' && data.id === sentinel) continue;
      else if (event === 'audit created' && isAdminRole(p.role)) continue; // the audit log is the admins'
      else problems.push(`${p.name}: unexpected ${event} ${JSON.stringify(data).slice(0, 120)}`);
    }
    const expected = emitted.filter((e) => e.audience.has(p.actor.id)).map((e) => e.key);
    received += actual.length;
    const missing = expected.filter((k) => !actual.includes(k));
    const extra = actual.filter((k) => !expected.includes(k));
    const duplicates = actual.filter((k, i) => actual.indexOf(k) !== i);
    for (const k of missing) problems.push(`${p.name}: missing ${k}`);
    for (const k of extra) problems.push(`${p.name}: LEAKED ${k}`);
    for (const k of duplicates) problems.push(`${p.name}: twice ${k}`);
  }
  assert.deepEqual(problems, [], label);
  return { received, sockets: allSockets().length };
}

// ---------------------------------------------------------------------------------------------
// Setup: users (tokens minted by the daemon: bcrypt logins would dominate the suite), sockets, worktrees.
// ---------------------------------------------------------------------------------------------

async function person(name: string, role: Role): Promise<Person> {
  const actor = await quickActor(d, role, name);
  return { name, role, disabled: false, sockets: [actor.socket, await d.socket(actor.token)], actor };
}

before(async () => {
  d = await startTestDaemon({ execution: { worktree_rbac: true } });
  const rootActor = await ownerActor(d);
  const roles: [string, Role][] = [
    ['ownerA', 'member'],
    ['ownerB', 'member'],
    ['viewer1', 'viewer'],
    ['viewer2', 'viewer'],
    ['member1', 'member'],
    ['member2', 'member'],
    ['member3', 'member'],
    ['admin1', 'admin'],
    ['disabled', 'member'],
    ['promoted', 'member'],
  ];
  people = {};
  for (const [name, role] of roles) people[name] = await person(name, role);
  people.root = { name: 'root (owner role)', role: 'owner', disabled: false, actor: rootActor, sockets: [rootActor.socket, await d.socket(rootActor.token)] };
  const repo = await registerRepo(rootActor);
  const make = async (label: string, creator: Person, others_can: Tier, coOwners: Person[] = []) => {
    const w = await createWorktree(creator.actor, repo.id, { others_can, coOwners: coOwners.map((p) => p.actor.id) });
    wt[label] = w.id;
    tiers.set(w.id, others_can);
    owners.set(w.id, new Set([creator.actor.id, ...coOwners.map((p) => p.actor.id)]));
  };
  await make('W1', people.ownerA!, 'none');
  await make('W2', people.ownerA!, 'view');
  await make('W3', people.ownerB!, 'session');
  await make('W4', people.ownerB!, 'all');
  await make('W5', people.ownerB!, 'none', [people.member1!]);
  await unchecked(async () => undefined);
});
after(async () => {
  await d.stop();
  cleanupTempDirs();
});

describe('event leaks', () => {
  it('at least 20 sockets of users with mixed roles and tiers, over at least 4 worktrees', () => {
    assert.ok(allSockets().length >= 20, `${allSockets().length} sockets`);
    assert.ok(Object.keys(wt).length >= 4);
    assert.ok(allSockets().every((s) => s.socket.connected));
  });

  it('a burst across the worktrees: each socket receives exactly the events it may see', async () => {
    const { ownerA, ownerB, member1, member2, member3, viewer2 } = people;
    const ownerOf: Record<string, Person> = { W1: ownerA!, W2: ownerA!, W3: ownerB!, W4: ownerB!, W5: ownerB! };
    const stats = await window('burst', async () => {
      // Phase A: sessions, prompts, output, stops and record patches, all at once.
      const sessions = new Map<string, PublicSession>();
      await mapLimit(Object.keys(wt), 8, async (label) => {
        const s = await session(ownerOf[label]!, label);
        sessions.set(label, s);
        const t = await prompt(ownerOf[label]!, s);
        await output(t);
        await output(t);
        await answerApproval(ownerOf[label]!, t);
      });
      await Promise.all([
        (async () => {
          const s = await session(member1!, 'W3'); // session tier: others may start their own
          await output(await prompt(member1!, s));
        })(),
        (async () => {
          await session(member2!, 'W4');
          const t = await prompt(member3!, sessions.get('W4')!); // all tier: prompting another's session
          await stop(member1!, t);
        })(),
        patchWorktree(ownerA!, 'W2', { archived: true }),
        patchWorktree(ownerB!, 'W5', { archived: true }),
        session(member1!, 'W5'), // a co-owner of a private worktree
      ]);
      // Phase B: owners added; each new owner hears its worktree from its own addition on.
      await Promise.all([addOwner(ownerA!, 'W1', member2!), addOwner(ownerA!, 'W2', member3!), addOwner(ownerB!, 'W5', viewer2!)]);
      // Phase C: more of everything.
      await mapLimit(Object.keys(wt), 8, async (label) => output(await prompt(ownerOf[label]!, await session(ownerOf[label]!, label))));
      await session(member2!, 'W1');
    });
    console.log(`event leaks: burst of ${emitted.length} events, ${stats.received} deliveries checked over ${stats.sockets} sockets`);
    assert.ok(emitted.length >= 40);
    // The admins saw records (worktrees, owners) of private worktrees, never their contents.
    const adminKeys = people.admin1!.sockets[0]!.events.map((e) => e.event);
    assert.ok(adminKeys.includes('worktrees/:worktree_id/owners created'));
  });

  it('a tier change mid-stream: view → none loses the events from the next operation on; none → view gains them', async () => {
    const { ownerA, member2 } = people;
    await window('view → none', async () => {
      await patchWorktree(ownerA!, 'W2', { others_can: 'none' });
      await output(await prompt(ownerA!, await session(ownerA!, 'W2')));
    });
    await window('none → view', async () => {
      await patchWorktree(ownerA!, 'W1', { others_can: 'view' });
      await output(await prompt(member2!, await session(member2!, 'W1')));
    });
    // And back, within one window: the viewers' sockets follow each change.
    await window('back and forth', async () => {
      await session(ownerA!, 'W1');
      await patchWorktree(ownerA!, 'W1', { others_can: 'none' });
      await session(ownerA!, 'W1');
      await patchWorktree(ownerA!, 'W2', { others_can: 'session' });
      await session(ownerA!, 'W2');
    });
  });

  it('disabling a user disconnects its sockets at once; it hears nothing more', async () => {
    const { disabled, ownerB, root } = people;
    const before = disabled!.sockets.map((s) => s.events.length);
    await unchecked(async () => {
      await root!.actor.rest.service('users').patch(disabled!.actor.id, { disabled: true });
      disabled!.disabled = true;
      const deadline = Date.now() + 5000;
      while (disabled!.sockets.some((s) => s.socket.connected)) {
        if (Date.now() > deadline) throw new Error('the disabled user\'s sockets are still connected');
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    const atDisconnect = disabled!.sockets.map((s) => s.events.length);
    await window('after disabling', async () => {
      await output(await prompt(ownerB!, await session(ownerB!, 'W4')));
      await patchWorktree(ownerB!, 'W3', { archived: true });
    });
    assert.deepEqual(disabled!.sockets.map((s) => s.events.length), atDisconnect);
    assert.ok(atDisconnect.every((n, i) => n >= before[i]!));
    // Its token no longer opens a socket session. (A raw emit: a failed login through the Feathers
    // client would clear the token storage its clients share in this process.)
    const fresh = await d.socket();
    const answer = await new Promise<{ name?: string } | null>((resolve) =>
      fresh.socket.emit('create', 'authentication', { strategy: 'jwt', accessToken: disabled!.actor.token }, {}, (error: { name?: string } | null) => resolve(error)),
    );
    assert.equal(answer?.name, 'NotAuthenticated');
    assert.equal(await outcome(d.rest(disabled!.actor.token).service('users').get('me')), 'NotAuthenticated');
    fresh.close();
  });

  it('a role change re-evaluates admin channel membership: promoted, it hears records (not contents); demoted, it stops', async () => {
    const { promoted, ownerA, root } = people;
    await unchecked(async () => {
      // Its own starting point, whatever ran before it: W1 private, W2 at `session`.
      await patchWorktree(ownerA!, 'W1', { others_can: 'none' });
      await patchWorktree(ownerA!, 'W2', { others_can: 'session' });
      await root!.actor.rest.service('users').patch(promoted!.actor.id, { role: 'admin' });
      promoted!.role = 'admin';
    });
    const mark = promoted!.sockets.map((s) => s.events.length);
    await window('promoted to admin', async () => {
      // W1 is `none`: its records reach the new admin, its sessions do not.
      await patchWorktree(ownerA!, 'W1', { others_fs_access: 'none' });
      await session(ownerA!, 'W1');
    });
    const heard = promoted!.sockets.map((s) => s.events.slice(mark[promoted!.sockets.indexOf(s)]).map((e) => e.event));
    assert.ok(heard.every((events) => events.includes('worktrees patched') && events.includes('audit created')), 'an admin hears records and the audit log');
    await unchecked(async () => {
      await root!.actor.rest.service('users').patch(promoted!.actor.id, { role: 'member' });
      promoted!.role = 'member';
    });
    await window('demoted to member', async () => {
      await patchWorktree(ownerA!, 'W1', { others_fs_access: 'read' });
      await session(ownerA!, 'W1');
    });
  });
});
