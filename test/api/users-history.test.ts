// Users with a history, disabled users and the users directory (DESIGN §4, issue 14): a user who
// created sessions or tasks is disabled, not deleted (409); nothing runs as a disabled user, queued or
// newly prompted; the directory shows everyone's id, name and email, and the rest only to admins and
// to oneself.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Paginated } from '@feathersjs/feathers';
import { startTestDaemon, waitFor, type TestDaemon } from '../helpers/daemon.js';
import { TRANSPORTS, cleanupTempDirs, client, createSession, createTask, createWorktree, outcome, ownerActor, quickActor, registerRepo, type Actor } from '../helpers/worktree-fixture.js';
import type { PublicUser } from '../../daemon/services/users/users.schema.js';
import type { PublicTask } from '../../daemon/services/tasks/tasks.shared.js';

let d: TestDaemon;
let root: Actor;
let repoId: string;

before(async () => {
  d = await startTestDaemon({ execution: { worktree_rbac: true } });
  root = await ownerActor(d);
  repoId = (await registerRepo(root)).id;
});
after(async () => {
  await d.stop();
  cleanupTempDirs();
});

const usersRow = (id: string) => d.app.get('db')('users').where('id', id).first();

describe('removing a user with history', () => {
  it('is refused with 409 and a sentence when it created a session or a task; the row and its history stay', async () => {
    const creator = await quickActor(d, 'member');
    const wt = await createWorktree(creator, repoId, { others_can: 'prompt' });
    await createSession(creator, wt.id);
    const prompter = await quickActor(d, 'member');
    await createTask(prompter, (await createSession(creator, wt.id)).id);
    for (const [who, transport] of [[creator, 'rest'], [prompter, 'socket']] as const) {
      const error = await client(root, transport).service('users').remove(who.id).then(
        () => null,
        (e: { name: string; code: number; message: string }) => e,
      );
      assert.equal(error?.name, 'Conflict', `${transport}: ${JSON.stringify(error)}`);
      assert.equal(error?.code, 409);
      assert.match(error!.message, /disable the account instead/);
      assert.ok(await usersRow(who.id), 'the user is still there');
    }
    // Disabling is the way: it works, and the history still names them.
    await root.rest.service('users').patch(creator.id, { disabled: true });
    assert.equal(Number((await d.app.get('db')('sessions').where('created_by', creator.id).count({ n: '*' }))[0].n), 2);
  });

  it('a user without history is removed', async () => {
    const fresh = await d.createUser('member');
    await root.rest.service('users').remove(fresh.id);
    assert.equal(await usersRow(fresh.id), undefined);
  });
});

describe('disabled users run nothing', () => {
  it('disabling a user cancels their queued tasks (with the reason) and announces it; prompting their session is then refused', async () => {
    const creator = await quickActor(d, 'member');
    const other = await quickActor(d, 'member');
    const wt = await createWorktree(creator, repoId, { others_can: 'prompt' });
    const session = await createSession(creator, wt.id);
    const own = await createTask(creator, session.id);
    const byOther = await createTask(other, session.id); // runs as the creator too
    const otherSession = await createSession(other, wt.id);
    const untouched = await createTask(other, otherSession.id);

    await root.rest.service('users').patch(creator.id, { disabled: true });
    for (const task of [own, byOther]) {
      const row = (await d.app.get('db')('tasks').where('id', task.id).first()) as PublicTask;
      assert.equal(row.status, 'stopped');
      assert.match(row.reason ?? '', /was disabled/);
    }
    assert.equal(((await d.app.get('db')('tasks').where('id', untouched.id).first()) as PublicTask).status, 'queued');
    await waitFor(() => other.socket.events.some((e) => e.event === 'tasks patched' && (e.args[0] as PublicTask).id === byOther.id), 5000, 'the cancellation event');

    for (const transport of TRANSPORTS) {
      const error = await client(other, transport).service('tasks').create({ session_id: session.id, prompt: 'as a disabled user?' }).then(
        () => null,
        (e: { name: string; message: string }) => e,
      );
      assert.equal(error?.name, 'Forbidden', transport);
      assert.match(error!.message, /is disabled/);
    }
    // The matching allow: the other user's own session, and the creator's once enabled again.
    assert.equal(await outcome(createTask(other, otherSession.id)), 'ok');
    await root.rest.service('users').patch(creator.id, { disabled: false });
    assert.equal(await outcome(createTask(other, session.id)), 'ok');
  });
});

describe('the users directory', () => {
  it('members and viewers see id, name and email of others, everything of themselves; admins see everything', async () => {
    const member = await quickActor(d, 'member');
    const viewer = await quickActor(d, 'viewer');
    const admin = await quickActor(d, 'admin');
    for (const who of [member, viewer]) {
      for (const transport of TRANSPORTS) {
        const page = (await client(who, transport).service('users').find({ query: { $limit: 1000 } })) as Paginated<Record<string, unknown>>;
        assert.ok(page.data.length >= 4);
        for (const u of page.data) {
          const expected = u.id === who.id ? ['created_at', 'disabled', 'email', 'id', 'name', 'role', 'unix_username', 'updated_at'] : ['email', 'id', 'name'];
          assert.deepEqual(Object.keys(u).sort(), expected, `${who.role} ${transport} sees ${u.id === who.id ? 'itself' : 'another'}`);
        }
        const other = (await client(who, transport).service('users').get(root.id)) as Record<string, unknown>;
        assert.deepEqual(Object.keys(other).sort(), ['email', 'id', 'name']);
        // Filtering by what is hidden would reveal it.
        assert.equal(await outcome(client(who, transport).service('users').find({ query: { role: 'owner' } })), 'Forbidden');
        assert.equal(await outcome(client(who, transport).service('users').find({ query: { disabled: true } })), 'Forbidden');
      }
    }
    const all = (await admin.rest.service('users').find({ query: { role: 'member', $limit: 1000 } })) as Paginated<PublicUser>;
    assert.ok(all.data.some((u) => u.id === member.id));
    assert.ok(all.data.every((u) => u.role === 'member' && typeof u.disabled === 'boolean'));
  });
});
