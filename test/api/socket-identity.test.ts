// A socket hears exactly what its current credential allows (DESIGN §4, issue 14): revoking the API
// key it signed in with, a password change (other than on the changing connection) and a
// re-authentication as another user all take it out of the previous identity's channels at once.
// Each check ends on a barrier: an event that a socket which must keep listening receives after the
// event that the ended socket must not.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, waitFor, type SocketClient, type TestDaemon } from '../helpers/daemon.js';
import { cleanupTempDirs, createSession, createWorktree, outcome, ownerActor, quickActor, registerRepo, type Actor } from '../helpers/worktree-fixture.js';
import type { PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';
import type { PublicSession } from '../../daemon/services/sessions/sessions.shared.js';

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

/** A raw emit with its answer: the Feathers client would keep the token in storage shared by this process. */
function emit(sock: SocketClient, ...args: unknown[]): Promise<{ error: { name?: string; message?: string } | null; result: unknown }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${JSON.stringify(args).slice(0, 100)}`)), 5000);
    sock.socket.emit(...(args as [string]), (error: { name?: string } | null, result: unknown) => {
      clearTimeout(timer);
      resolve({ error, result });
    });
  });
}

async function signIn(sock: SocketClient, authentication: Record<string, unknown>): Promise<void> {
  const { error } = await emit(sock, 'create', 'authentication', authentication, {});
  assert.equal(error, null, `signed in: ${JSON.stringify(error)}`);
}

const heard = (sock: SocketClient, event: string, id: string) => sock.events.some((e) => e.event === event && (e.args[0] as { id?: string }).id === id);

/** A new session in `wt`; resolves once every socket of `barrier` has heard of it. */
async function sessionHeardBy(actor: Actor, wt: PublicWorktree, barrier: SocketClient[]): Promise<PublicSession> {
  const s = await createSession(actor, wt.id);
  await waitFor(() => barrier.every((sock) => heard(sock, 'sessions created', s.id)), 5000, 'the barrier sockets to hear the session');
  return s;
}

async function disconnected(sock: SocketClient): Promise<void> {
  await waitFor(() => !sock.socket.connected, 5000, 'the socket to be disconnected by the daemon');
}

/** A member with a private worktree (others_can none) and a socket signed in with its JWT (the barrier). */
async function memberWithPrivateWorktree(): Promise<{ actor: Actor; wt: PublicWorktree }> {
  const actor = await quickActor(d, 'member');
  return { actor, wt: await createWorktree(actor, repoId, { others_can: 'none' }) };
}

describe('socket identity follows the credential', () => {
  it('revoking an API key ends the sockets that signed in with it at once; another key\'s socket keeps listening', async () => {
    const { actor, wt } = await memberWithPrivateWorktree();
    const keyOf = async (name: string) => ((await actor.rest.service('api-keys').create({ name, scope: 'full' })) as { id: string; key: string });
    const [revoked, kept] = [await keyOf('to revoke'), await keyOf('to keep')];
    const viaRevoked = await d.socket();
    const viaKept = await d.socket();
    await signIn(viaRevoked, { strategy: 'apikey', apiKey: revoked.key });
    await signIn(viaKept, { strategy: 'apikey', apiKey: kept.key });
    await sessionHeardBy(actor, wt, [viaRevoked, viaKept, actor.socket]); // both keys' sockets hear the private worktree

    await actor.rest.service('api-keys').remove(revoked.id);
    await disconnected(viaRevoked);
    const after = await sessionHeardBy(actor, wt, [viaKept, actor.socket]);
    assert.equal(heard(viaRevoked, 'sessions created', after.id), false, 'the revoked key\'s socket heard an event after the revocation');
    assert.equal(viaKept.socket.connected, true);
    assert.equal(await outcome(d.rest(revoked.key).service('users').get('me')), 'NotAuthenticated');
    assert.equal(((await d.rest(kept.key).service('users').get('me')) as { id: string }).id, actor.id);
  });

  it('re-authenticating as another user leaves every channel of the first one, also after a later change to the first user', async () => {
    const { actor: first, wt } = await memberWithPrivateWorktree();
    const second = await quickActor(d, 'member');
    const sock = await d.socket(first.token);
    await sessionHeardBy(first, wt, [sock, first.socket]);

    await signIn(sock, { strategy: 'jwt', accessToken: second.token });
    const me = await emit(sock, 'get', 'users', 'me', {});
    assert.equal((me.result as { id: string }).id, second.id, 'calls now run as the second user');
    const s1 = await sessionHeardBy(first, wt, [first.socket]);
    // A change to the first user re-evaluated its connections; before the fix that re-joined this socket.
    await root.rest.service('users').patch(first.id, { name: 'renamed first' });
    await waitFor(() => first.socket.events.some((e) => e.event === 'users patched'), 5000, 'the first user\'s own socket to hear its change');
    const s2 = await sessionHeardBy(first, wt, [first.socket]);
    // The second user's own channel reaches it (the allow), after everything above.
    await root.rest.service('users').patch(second.id, { name: 'renamed second' });
    await waitFor(() => sock.events.some((e) => e.event === 'users patched' && (e.args[0] as { id: string }).id === second.id), 5000, 'the second user\'s change');
    for (const s of [s1, s2]) assert.equal(heard(sock, 'sessions created', s.id), false, 'the socket heard the first user\'s private worktree after re-authenticating');
    assert.equal(sock.events.some((e) => e.event === 'users patched' && (e.args[0] as { id: string }).id === first.id), false, 'the first user\'s own events');
  });

  it('a password change ends the user\'s other login sockets and tokens; the changing socket goes on with a new token, API-key sockets stay', async () => {
    const user = await d.createUser('member');
    const token = await d.login(user.email, user.password);
    const actor: Actor = { id: user.id, email: user.email, role: 'member', token, rest: d.rest(token), socket: await d.socket(token) };
    const wt = await createWorktree(actor, repoId, { others_can: 'none' });
    const key = (await actor.rest.service('api-keys').create({ name: 'cli', scope: 'full' })) as { key: string };
    const changer = await d.socket(token);
    const other = actor.socket;
    const viaKey = await d.socket();
    await signIn(viaKey, { strategy: 'apikey', apiKey: key.key });
    await sessionHeardBy(actor, wt, [changer, other, viaKey]);

    const { error, result } = await emit(changer, 'patch', 'users', 'me', { old_password: user.password, password: 'a-brand-new-password' }, {});
    assert.equal(error, null, JSON.stringify(error));
    const fresh = (result as { accessToken?: string }).accessToken;
    assert.ok(typeof fresh === 'string' && fresh !== token, 'the changing client receives a new token');
    await disconnected(other);
    // The old token is refused everywhere; the new one works; the changing socket still acts and listens.
    assert.equal(await outcome(d.rest(token).service('users').get('me')), 'NotAuthenticated');
    assert.equal(((await d.rest(fresh).service('users').get('me')) as { id: string }).id, user.id);
    assert.equal(((await emit(changer, 'get', 'users', 'me', {})).result as { id: string }).id, user.id);
    const s = await sessionHeardBy({ ...actor, rest: d.rest(fresh) }, wt, [changer, viaKey]);
    assert.equal(heard(other, 'sessions created', s.id), false);
    assert.equal(viaKey.socket.connected, true, 'an API key is a credential of its own');
    // No event carried the token.
    for (const sock of [changer, other, viaKey]) assert.ok(!JSON.stringify(sock.events).includes(fresh), 'a token in an event');
    // A new socket cannot sign in with the old token.
    const late = await d.socket();
    assert.equal((await emit(late, 'create', 'authentication', { strategy: 'jwt', accessToken: token }, {})).error?.name, 'NotAuthenticated');
    late.close();
  });

  it('an admin resetting a user\'s password ends all of that user\'s login sockets; the admin gets no token for them', async () => {
    const user = await d.createUser('member');
    const token = await d.login(user.email, user.password);
    const sock = await d.socket(token);
    const result = (await root.rest.service('users').patch(user.id, { password: 'reset-by-an-admin' })) as { accessToken?: string };
    assert.equal(result.accessToken, undefined);
    await disconnected(sock);
    assert.equal(await outcome(d.rest(token).service('users').get('me')), 'NotAuthenticated');
    assert.ok(await d.login(user.email, 'reset-by-an-admin'));
  });
});
