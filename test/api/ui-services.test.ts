// The small services the web UI reads: info (daemon facts), worktree-access (the caller's own
// permissions, from decide()) and presence (who is looking; only to those who may view).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, waitFor, type TestDaemon } from '../helpers/daemon.js';
import { cleanupTempDirs, createWorktree, outcome, ownerActor, quickActor, registerRepo, type Actor } from '../helpers/worktree-fixture.js';
import type { WorktreeAccess } from '../../daemon/services/worktree-access/worktree-access.shared.js';
import type { PresenceEntry } from '../../daemon/services/presence/presence.shared.js';
import type { PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';

let d: TestDaemon;
let owner: Actor;
let alice: Actor;
let bob: Actor;
let viewer: Actor;
let admin: Actor;
let repoId: string;

before(async () => {
  d = await startTestDaemon({ execution: { worktree_rbac: true, allow_web_terminal: true }, agents: { echo: { type: 'command', command: ['/bin/cat'] } } });
  owner = await ownerActor(d);
  [alice, bob, viewer, admin] = await Promise.all([quickActor(d, 'member', 'alice'), quickActor(d, 'member', 'bob'), quickActor(d, 'viewer'), quickActor(d, 'admin')]);
  repoId = (await registerRepo(owner)).id;
});
after(async () => {
  await d.stop();
  cleanupTempDirs();
});

const access = (a: Actor, id: string) => a.rest.service('worktree-access').get(id) as Promise<WorktreeAccess>;

describe('info', () => {
  it('tells signed-in callers the agents and switches, and nothing without credentials', async () => {
    const info = (await viewer.rest.service('info').find()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(info).sort(), ['agent_credentials', 'agents', 'unix_user_mode', 'version', 'web_terminal', 'worktree_rbac']);
    assert.deepEqual(info.agents, ['claude-code', 'codex', 'gemini', 'echo']);
    // Names only: what the UI checks against the caller's own secrets before a session is made.
    assert.deepEqual(info.agent_credentials, { 'claude-code': ['ANTHROPIC_API_KEY'], codex: ['OPENAI_API_KEY'], gemini: ['GEMINI_API_KEY'], echo: [] });
    assert.equal(info.web_terminal, true);
    assert.equal(info.worktree_rbac, true);
    assert.equal(await outcome(d.rest().service('info').find()), 'NotAuthenticated');
    assert.equal(await outcome(viewer.rest.service('info').find({ query: { x: 1 } })), 'BadRequest');
  });
});

describe('worktree-access', () => {
  it('answers decide() per action: owner all, tier session, viewer capped, none hidden except the admin record', async () => {
    const wt = await createWorktree(alice, repoId, { others_can: 'session' });
    const mine = await access(alice, wt.id);
    assert.equal(mine.is_owner, true);
    assert.ok(Object.values(mine.can).filter((_, i) => Object.keys(mine.can)[i] !== 'break_glass').every(Boolean), JSON.stringify(mine));

    const other = await access(bob, wt.id);
    assert.equal(other.tier, 'session');
    assert.deepEqual(other.can, {
      view: true, create_session: true, prompt_own: true, prompt_others: false, fork_others: true, manage_sessions: false,
      terminal: false, change_permissions: false, delete: false, break_glass: false,
    });
    const capped = await access(viewer, wt.id);
    assert.equal(capped.tier, 'view');
    assert.equal(capped.can.view, true);
    assert.equal(capped.can.create_session, false);

    await alice.rest.service('worktrees').patch(wt.id, { others_can: 'all' });
    assert.equal((await access(bob, wt.id)).can.terminal, true);
    assert.equal((await access(viewer, wt.id)).can.terminal, false, 'viewers never get a terminal');

    await alice.rest.service('worktrees').patch(wt.id, { others_can: 'none' });
    assert.equal(await outcome(access(bob, wt.id)), 'NotFound');
    const bobList = (await bob.rest.service('worktree-access').find({ query: { worktree_id: wt.id } })) as { total: number; data: unknown[] };
    assert.deepEqual([bobList.total, bobList.data.length], [0, 0]);
    const adminView = await access(admin, wt.id);
    assert.equal(adminView.can.view, false, 'admins see the record, not the contents');
    assert.equal(adminView.can.break_glass, true);
    assert.equal(await outcome(access(bob, 'no-such-worktree')), 'NotFound');
  });
});

describe('losing sight of a worktree', () => {
  it('those who lose view hear only {id, access_revoked}; those who keep it get the record; nobody else hears anything', async () => {
    const wt = await createWorktree(alice, repoId, { others_can: 'view', name: 'secret-name-xyz' });
    // Dave signs in while the worktree is hidden: he never saw it, so he hears nothing of it.
    await alice.rest.service('worktrees').patch(wt.id, { others_can: 'none' });
    const carolOutsider = await quickActor(d, 'member', 'dave');
    await alice.rest.service('worktrees').patch(wt.id, { others_can: 'view' });
    await alice.rest.service('worktrees').patch(wt.id, { others_fs_access: 'none' });
    await alice.rest.service('worktrees').patch(wt.id, { others_can: 'none' });
    const patched = (a: Actor) => a.socket.events.filter((e) => e.event === 'worktrees patched' && (e.args[0] as { id: string }).id === wt.id).map((e) => e.args[0]);
    await waitFor(() => patched(alice).length === 4, 3000, 'patched events');
    await d.barrier([bob, admin, carolOutsider].map((a) => a.socket));
    assert.deepEqual(patched(bob).at(-1), { id: wt.id, worktree_id: wt.id, access_revoked: true });
    assert.equal((patched(admin).at(-1) as PublicWorktree).others_can, 'none', 'admins keep seeing the record');
    assert.equal((patched(alice).at(-1) as PublicWorktree).others_can, 'none');
    // Dave: the records while it was visible to him, then the notice; nothing from before he could see it.
    assert.deepEqual(patched(carolOutsider).map((e) => (e as { access_revoked?: boolean }).access_revoked ?? (e as PublicWorktree).others_can), ['view', 'view', true]);

    // Co-ownership removed on a hidden worktree: the former co-owner hears the same notice.
    await alice.rest.service('worktrees/:worktree_id/owners').create({ user_id: bob.id }, { route: { worktree_id: wt.id } });
    await alice.rest.service('worktrees/:worktree_id/owners').remove(bob.id, { route: { worktree_id: wt.id } });
    await waitFor(() => bob.socket.events.some((e) => e.event === 'worktrees/:worktree_id/owners removed' && (e.args[0] as { access_revoked?: boolean }).access_revoked), 3000, 'owner-removed notice');
    const notice = bob.socket.events.filter((e) => e.event === 'worktrees/:worktree_id/owners removed').at(-1)!.args[0];
    assert.deepEqual(notice, { id: wt.id, worktree_id: wt.id, access_revoked: true });
  });
});

describe('presence', () => {
  it('reaches only sockets that may view the worktree, and drops people who lose access or disconnect', async () => {
    const wt: PublicWorktree = await createWorktree(alice, repoId, { others_can: 'view' });
    const hidden = await createWorktree(alice, repoId, { others_can: 'none' });
    const changed = (a: Actor) => a.socket.events.filter((e) => e.event === 'presence changed').map((e) => e.args[0] as PresenceEntry);
    const marks = new Map([bob, viewer, admin].map((a) => [a, a.socket.events.length]));

    await alice.socket.app.service('presence').create({ worktree_id: wt.id });
    await waitFor(() => changed(bob).some((e) => e.worktree_id === wt.id && e.users.some((u) => u.id === alice.id)), 3000, 'bob hears alice looking');
    const bobEntry = (await bob.socket.app.service('presence').find()) as { data: PresenceEntry[] };
    assert.deepEqual(bobEntry.data.map((e) => [e.worktree_id, e.users.map((u) => u.id)]), [[wt.id, [alice.id]]]);

    // The attack: look at a worktree one may not see.
    assert.equal(await outcome(bob.socket.app.service('presence').create({ worktree_id: hidden.id })), 'NotFound');
    assert.equal(await outcome(bob.rest.service('presence').create({ worktree_id: wt.id })), 'MethodNotAllowed');
    await alice.socket.app.service('presence').create({ worktree_id: hidden.id });
    await d.barrier([bob, viewer, admin].map((a) => a.socket));
    // Nobody but alice may view `hidden`: its presence reaches no one else, admins included.
    for (const a of [bob, viewer, admin]) {
      const heard = a.socket.events.slice(marks.get(a)).filter((e) => e.event === 'presence changed').map((e) => (e.args[0] as PresenceEntry).worktree_id);
      assert.ok(!heard.includes(hidden.id), `${a.email} must not hear about the hidden worktree`);
    }
    assert.deepEqual(((await admin.socket.app.service('presence').find()) as { data: PresenceEntry[] }).data, []);
    // Alice moved away from wt: bob saw her leave.
    await waitFor(() => changed(bob).some((e) => e.worktree_id === wt.id && e.users.length === 0), 3000, 'alice leaving wt');

    // Bob looks at wt, then loses access: he is no longer listed.
    await bob.socket.app.service('presence').create({ worktree_id: wt.id });
    assert.deepEqual(((await alice.socket.app.service('presence').find()) as { data: PresenceEntry[] }).data.find((e) => e.worktree_id === wt.id)?.users.map((u) => u.id), [bob.id]);
    await alice.socket.app.service('presence').create({ worktree_id: wt.id });
    await alice.rest.service('worktrees').patch(wt.id, { others_can: 'none' });
    const list = (await alice.socket.app.service('presence').find()) as { data: PresenceEntry[] };
    assert.deepEqual(list.data.find((e) => e.worktree_id === wt.id)?.users.map((u) => u.id), [alice.id]);
    // ...and alice was told at once, without asking.
    await waitFor(() => changed(alice).filter((e) => e.worktree_id === wt.id).at(-1)?.users.map((u) => u.id).join() === alice.id, 3000, 'bob dropped from the list');

    // A closed socket stops looking.
    await alice.rest.service('worktrees').patch(wt.id, { others_can: 'view' });
    const carol = await quickActor(d, 'member', 'carol');
    await carol.socket.app.service('presence').create({ worktree_id: wt.id });
    const heardCarol = () => changed(alice).filter((e) => e.worktree_id === wt.id).at(-1)?.users.some((u) => u.id === carol.id);
    await waitFor(() => heardCarol() === true, 3000, 'carol present');
    carol.socket.close();
    await waitFor(() => heardCarol() === false, 3000, 'carol gone after disconnect');
  });
});
