import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Params } from '@feathersjs/feathers';
import { startTestDaemon, OWNER, waitFor, type TestDaemon, type TestUser } from '../helpers/daemon.js';
import type { Role } from '../../daemon/auth/roles.js';
import type { PublicUser, UserRow } from '../../daemon/services/users/users.schema.js';

let d: TestDaemon;
let owner: { id: string; token: string };

before(async () => {
  d = await startTestDaemon();
  owner = { id: await idOf(d, OWNER.email), token: await d.login(OWNER.email, OWNER.password) };
});
after(() => d.stop());

async function status(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return (error as { name: string }).name;
  }
}

/** The stored row, hash included, read straight from the database. */
async function row(daemon: TestDaemon, id: string): Promise<UserRow | undefined> {
  return daemon.app.get('db')<UserRow>('users').where('id', id).first();
}

async function idOf(daemon: TestDaemon, email: string): Promise<string> {
  return (await daemon.app.get('db')<UserRow>('users').where('email', email).first())!.id;
}

async function userCount(daemon: TestDaemon): Promise<number> {
  const [{ count }] = await daemon.app.get('db')('users').count({ count: '*' });
  return Number(count);
}

/** A user created as an admin would, already logged in. */
async function loggedIn(role: Role, daemon: TestDaemon = d): Promise<TestUser & { token: string }> {
  const user = await daemon.createUser(role);
  return { ...user, token: await daemon.login(user.email, user.password) };
}

/** Runs `call`, expects it refused with `expected`, and the target's row to be exactly as before. */
async function assertRefusedUnchanged(daemon: TestDaemon, targetId: string, call: () => Promise<unknown>, expected = 'Forbidden') {
  const before = await row(daemon, targetId);
  assert.ok(before, 'the target exists before the call');
  assert.equal(await status(call()), expected);
  assert.deepEqual(await row(daemon, targetId), before);
}

/** Runs a create that must be refused, and checks no user appeared. */
async function assertCreateRefused(daemon: TestDaemon, token: string, data: Record<string, unknown>, expected = 'Forbidden') {
  const count = await userCount(daemon);
  assert.equal(await status(daemon.rest(token).service('users').create(data)), expected);
  assert.equal(await userCount(daemon), count);
  assert.equal(await daemon.app.get('db')('users').where('email', data.email as string).first(), undefined);
}

let emailCounter = 0;
const freshEmail = (label: string) => `${label}-${++emailCounter}@new.test.local`;

describe('users: escalation is refused and changes nothing', () => {
  it('a member cannot raise its own role', async () => {
    const member = await loggedIn('member');
    for (const role of ['admin', 'owner'] as const) {
      await assertRefusedUnchanged(d, member.id, () => d.rest(member.token).service('users').patch(member.id, { role }));
      await assertRefusedUnchanged(d, member.id, () => d.rest(member.token).service('users').patch('me', { role }));
    }
  });

  it('a member cannot patch or remove another user', async () => {
    const member = await loggedIn('member');
    const other = await d.createUser('viewer');
    const users = d.rest(member.token).service('users');
    await assertRefusedUnchanged(d, other.id, () => users.patch(other.id, { name: 'hijacked' }));
    await assertRefusedUnchanged(d, other.id, () => users.patch(other.id, { role: 'member' }));
    await assertRefusedUnchanged(d, other.id, () => users.patch(other.id, { password: 'new-password-123' }));
    await assertRefusedUnchanged(d, other.id, () => users.remove(other.id));
  });

  it('an admin cannot create an owner or an admin', async () => {
    const admin = await loggedIn('admin');
    await assertCreateRefused(d, admin.token, { email: freshEmail('owner'), password: 'password-123', role: 'owner' });
    await assertCreateRefused(d, admin.token, { email: freshEmail('admin'), password: 'password-123', role: 'admin' });
  });

  it('an admin cannot promote a member to admin or owner', async () => {
    const admin = await loggedIn('admin');
    const member = await d.createUser('member');
    for (const role of ['admin', 'owner'] as const) {
      await assertRefusedUnchanged(d, member.id, () => d.rest(admin.token).service('users').patch(member.id, { role }));
    }
  });

  it('an admin cannot demote, disable, remove or reset the password of an owner or another admin', async () => {
    const admin = await loggedIn('admin');
    const otherAdmin = await d.createUser('admin');
    const users = d.rest(admin.token).service('users');
    for (const target of [owner.id, otherAdmin.id]) {
      await assertRefusedUnchanged(d, target, () => users.patch(target, { role: 'member' }));
      await assertRefusedUnchanged(d, target, () => users.patch(target, { disabled: true }));
      await assertRefusedUnchanged(d, target, () => users.patch(target, { password: 'taken-over-123' }));
      await assertRefusedUnchanged(d, target, () => users.patch(target, { email: freshEmail('takeover') }));
      await assertRefusedUnchanged(d, target, () => users.remove(target));
    }
  });

  it('nobody changes their own role, disables or removes themselves (owner included)', async () => {
    // A second owner, so that for owners it is this rule (not the last-owner rule) that refuses.
    const actors = [{ id: owner.id, token: owner.token, role: 'owner' as Role }];
    for (const role of ['viewer', 'member', 'admin', 'owner'] as const) actors.push({ ...(await loggedIn(role)), role });
    for (const actor of actors) {
      const users = d.rest(actor.token).service('users');
      for (const id of [actor.id, 'me']) {
        for (const role of ['viewer', 'member', 'admin', 'owner'] as const) {
          if (role === actor.role) continue;
          await assertRefusedUnchanged(d, actor.id, () => users.patch(id, { role }));
        }
        // Even restating the same role is a role change request, and refused.
        await assertRefusedUnchanged(d, actor.id, () => users.patch(id, { role: actor.role }));
        await assertRefusedUnchanged(d, actor.id, () => users.patch(id, { disabled: true }));
        await assertRefusedUnchanged(d, actor.id, () => users.remove(id));
      }
    }
  });

  it('viewers and members cannot create users of any role', async () => {
    for (const role of ['viewer', 'member'] as const) {
      const actor = await loggedIn(role);
      for (const newRole of ['viewer', 'member', 'admin', 'owner'] as const) {
        await assertCreateRefused(d, actor.token, { email: freshEmail(`by-${role}`), password: 'password-123', role: newRole });
      }
      await assertCreateRefused(d, actor.token, { email: freshEmail(`by-${role}-default`), password: 'password-123' });
    }
  });
});

describe('users: the last enabled owner', () => {
  // Its own daemon, so the owners counted here are exactly the ones these tests make.
  let t: TestDaemon;
  let first: { id: string; token: string };

  before(async () => {
    t = await startTestDaemon();
    first = { id: await idOf(t, OWNER.email), token: await t.login(OWNER.email, OWNER.password) };
  });
  after(() => t.stop());

  it('a disabled second owner does not count: the only enabled owner cannot be demoted, disabled or removed by anyone', async () => {
    const second = await loggedIn('owner', t);
    const admin = await loggedIn('admin', t);
    await t.rest(first.token).service('users').patch(second.id, { disabled: true });
    assert.equal(Boolean((await row(t, second.id))!.disabled), true);

    // The disabled owner's credentials are dead; an admin is not allowed; the first owner cannot act on itself.
    const changes = [{ role: 'admin' }, { role: 'member' }, { disabled: true }];
    for (const data of changes) {
      await assertRefusedUnchanged(t, first.id, () => t.rest(second.token).service('users').patch(first.id, data), 'NotAuthenticated');
      await assertRefusedUnchanged(t, first.id, () => t.rest(admin.token).service('users').patch(first.id, data));
      await assertRefusedUnchanged(t, first.id, () => t.rest(first.token).service('users').patch(first.id, data));
    }
    await assertRefusedUnchanged(t, first.id, () => t.rest(second.token).service('users').remove(first.id), 'NotAuthenticated');
    await assertRefusedUnchanged(t, first.id, () => t.rest(admin.token).service('users').remove(first.id));
    // The storage invariant holds even for an internal caller that skips every authorization hook.
    for (const data of changes) await assertRefusedUnchanged(t, first.id, () => t.app.service('users').patch(first.id, data as never));
    await assertRefusedUnchanged(t, first.id, () => t.app.service('users').remove(first.id));

    // Re-enabled, the second owner counts again and may demote the first; then the first is protected the same way.
    await t.app.get('db')('users').where('id', second.id).update({ disabled: false, sessions_revoked_at: null });
    await t.rest(first.token).service('users').patch(second.id, { role: 'member' });
    assert.equal((await row(t, second.id))!.role, 'member');
  });

  it('an owner whose demotion raced ahead cannot then demote the other, last enabled owner', async () => {
    // Two owners; B's credentials were checked while B was still an owner (a request in flight),
    // then A demoted B. B's request must not leave the daemon without an enabled owner.
    const b = await loggedIn('owner', t);
    const staleB = (await t.rest(b.token).service('users').get('me')) as PublicUser;
    await t.rest(first.token).service('users').patch(b.id, { role: 'admin' });
    const inFlight = { provider: 'rest', authenticated: true, user: staleB } as Params;
    for (const data of [{ role: 'admin' }, { disabled: true }] as const) {
      await assertRefusedUnchanged(t, first.id, () => t.app.service('users').patch(first.id, data, inFlight));
    }
    await assertRefusedUnchanged(t, first.id, () => t.app.service('users').remove(first.id, inFlight));
  });

  it('two owners demoting each other at once leave exactly one enabled owner', async () => {
    const b = await loggedIn('owner', t);
    const results = await Promise.allSettled([
      t.rest(first.token).service('users').patch(b.id, { role: 'member' }),
      t.rest(b.token).service('users').patch(first.id, { role: 'member' }),
    ]);
    const refused = results.filter((r) => r.status === 'rejected');
    assert.equal(refused.length, 1, 'exactly one of the two demotions is refused');
    assert.equal(((refused[0] as PromiseRejectedResult).reason as Error).name, 'Forbidden');
    const owners = await t.app.get('db')('users').where({ role: 'owner', disabled: false });
    assert.equal(owners.length, 1);
    // Restore the first owner for any later test.
    if (owners[0].id !== first.id) await t.app.get('db')('users').where('id', first.id).update({ role: 'owner' });
  });
});

describe('users: allowed paths', () => {
  it('an admin creates members and viewers; the rows have the requested role', async () => {
    const admin = await loggedIn('admin');
    for (const role of ['member', 'viewer'] as const) {
      const email = freshEmail(role);
      const created = (await d.rest(admin.token).service('users').create({ email, password: 'password-123', role })) as PublicUser;
      assert.equal(created.role, role);
      assert.equal((created as unknown as Record<string, unknown>).password, undefined);
      const stored = await row(d, created.id);
      assert.equal(stored!.email, email);
      assert.equal(stored!.role, role);
    }
  });

  it('an owner creates admins and owners', async () => {
    for (const role of ['admin', 'owner'] as const) {
      const created = (await d.rest(owner.token).service('users').create({ email: freshEmail(role), password: 'password-123', role })) as PublicUser;
      assert.equal((await row(d, created.id))!.role, role);
    }
  });

  it('an admin disables a member (its login then fails) and promotes a viewer to member', async () => {
    const admin = await loggedIn('admin');
    const member = await d.createUser('member');
    await d.rest(admin.token).service('users').patch(member.id, { disabled: true });
    assert.equal(Boolean((await row(d, member.id))!.disabled), true);
    assert.equal(await status(d.login(member.email, member.password)), 'NotAuthenticated');
    const viewer = await d.createUser('viewer');
    await d.rest(admin.token).service('users').patch(viewer.id, { role: 'member' });
    assert.equal((await row(d, viewer.id))!.role, 'member');
  });

  it('a user changes its own name, by id and through "me"', async () => {
    const member = await loggedIn('member');
    await d.rest(member.token).service('users').patch(member.id, { name: 'First Name' });
    assert.equal((await row(d, member.id))!.name, 'First Name');
    const viaMe = (await d.rest(member.token).service('users').patch('me', { name: 'Second Name' })) as PublicUser;
    assert.equal(viaMe.id, member.id);
    assert.equal((await row(d, member.id))!.name, 'Second Name');
  });

  it('a user changes its own password only with the correct old_password', async () => {
    const member = await loggedIn('member');
    const users = d.rest(member.token).service('users');
    const next = 'brand-new-password-1';
    await assertRefusedUnchanged(d, member.id, () => users.patch('me', { password: next }));
    await assertRefusedUnchanged(d, member.id, () => users.patch('me', { password: next, old_password: 'not-my-password' }));
    await assertRefusedUnchanged(d, member.id, () => users.patch(member.id, { password: next, old_password: '' }));
    const hashBefore = (await row(d, member.id))!.password;
    await users.patch('me', { password: next, old_password: member.password });
    assert.notEqual((await row(d, member.id))!.password, hashBefore);
    assert.equal(typeof (await d.login(member.email, next)), 'string');
    assert.equal(await status(d.login(member.email, member.password)), 'NotAuthenticated');
  });
});

describe('users: unauthenticated callers', () => {
  it('over REST: no create, read, patch or remove, and nothing changes', async () => {
    const target = await d.createUser('member');
    const before = await row(d, target.id);
    const count = await userCount(d);
    const json = { 'content-type': 'application/json' };
    const attempts: [string, string, RequestInit][] = [
      ['POST', '/users', { headers: json, body: JSON.stringify({ email: freshEmail('anon'), password: 'password-123', role: 'owner' }) }],
      ['GET', '/users', {}],
      ['GET', `/users?email=${encodeURIComponent(target.email)}`, {}],
      ['GET', `/users/${target.id}`, {}],
      ['GET', '/users/me', {}],
      ['PATCH', `/users/${target.id}`, { headers: json, body: JSON.stringify({ role: 'owner', name: 'anon' }) }],
      ['DELETE', `/users/${target.id}`, {}],
    ];
    for (const [method, path, init] of attempts) {
      const res = await fetch(d.url + path, { method, ...init });
      const body = await res.text();
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.ok(!body.includes(target.email) && !body.includes(OWNER.email), `${method} ${path} leaks no user field`);
    }
    assert.equal(await userCount(d), count);
    assert.deepEqual(await row(d, target.id), before);
  });

  it('over an unauthenticated Socket.IO connection: the same', async () => {
    const target = await d.createUser('member');
    const before = await row(d, target.id);
    const count = await userCount(d);
    const sock = await d.socket();
    const users = sock.app.service('users');
    const calls = [
      () => users.create({ email: freshEmail('anon-socket'), password: 'password-123', role: 'owner' }),
      () => users.find({}),
      () => users.find({ query: { email: target.email } }),
      () => users.get(target.id),
      () => users.patch(target.id, { role: 'owner' }),
      () => users.remove(target.id),
    ];
    for (const call of calls) assert.equal(await status(call()), 'NotAuthenticated');
    assert.ok(!JSON.stringify(sock.events).includes(target.email));
    assert.equal(await userCount(d), count);
    assert.deepEqual(await row(d, target.id), before);
    sock.close();
  });
});

describe('users: conflicts and events', () => {
  it('a duplicate email (in any case) is 409 Conflict and creates nothing', async () => {
    const existing = await d.createUser('member');
    for (const email of [existing.email, existing.email.toUpperCase()]) {
      const count = await userCount(d);
      const res = await fetch(`${d.url}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}` },
        body: JSON.stringify({ email, password: 'password-123' }),
      });
      assert.equal(res.status, 409);
      assert.equal(((await res.json()) as { name: string }).name, 'Conflict');
      assert.equal(await userCount(d), count);
    }
    // Changing another user's email to a taken one is a conflict too.
    const other = await d.createUser('member');
    await assertRefusedUnchanged(d, other.id, () => d.rest(owner.token).service('users').patch(other.id, { email: existing.email }), 'Conflict');
  });

  it('created and patched events reach admins and the user concerned, never another member', async () => {
    const admin = await loggedIn('admin');
    const member = await loggedIn('member');
    const bystander = await loggedIn('member');
    const [adminSock, ownerSock, memberSock, bystanderSock] = await Promise.all([
      d.socket(admin.token),
      d.socket(owner.token),
      d.socket(member.token),
      d.socket(bystander.token),
    ]);
    const saw = (sock: { events: { event: string; args: unknown[] }[] }, event: string, id: string) =>
      sock.events.some((e) => e.event === `users ${event}` && (e.args[0] as PublicUser).id === id);

    const created = (await d.rest(owner.token).service('users').create({ email: freshEmail('evented'), password: 'password-123' })) as PublicUser;
    await waitFor(() => saw(adminSock, 'created', created.id) && saw(ownerSock, 'created', created.id), 3000, 'created event for admins');

    await d.rest(admin.token).service('users').patch(member.id, { name: 'Renamed By Admin' });
    await waitFor(() => saw(memberSock, 'patched', member.id) && saw(adminSock, 'patched', member.id), 3000, 'patched event');

    await d.barrier([memberSock, bystanderSock]);
    assert.equal(saw(memberSock, 'created', created.id), false, 'a member does not hear about other users being created');
    assert.deepEqual(
      bystanderSock.events.filter((e) => e.event.startsWith('users ')),
      [],
      'a bystander member hears nothing about other users',
    );
    for (const s of [adminSock, ownerSock, memberSock, bystanderSock]) s.close();
  });
});
