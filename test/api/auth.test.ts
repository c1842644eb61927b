import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { startTestDaemon, OWNER, waitFor, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;

before(async () => {
  d = await startTestDaemon({ auth: { login_max_failures: 3, login_lockout_seconds: 6 } });
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

describe('authentication', () => {
  it('local login returns a token without the password hash', async () => {
    const result = (await d.rest().service('authentication').create({ strategy: 'local', ...OWNER })) as Record<string, any>;
    assert.equal(typeof result.accessToken, 'string');
    assert.equal(result.user.email, OWNER.email);
    assert.equal(result.user.password, undefined);
  });

  it('wrong password and unknown email answer identically', async () => {
    const bodies = [];
    for (const body of [
      { email: OWNER.email, password: 'wrong-password' },
      { email: 'nobody@test.local', password: 'wrong-password' },
    ]) {
      const res = await fetch(`${d.url}/authentication`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ strategy: 'local', ...body }),
      });
      bodies.push({ status: res.status, body: await res.text() });
    }
    assert.equal(bodies[0]!.status, 401);
    assert.deepEqual(bodies[0], bodies[1]);
  });

  it('the login limit trips with 429 and Retry-After, and resets after the window', async (t) => {
    const user = await d.createUser('member');
    const attempt = () =>
      fetch(`${d.url}/authentication`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.9.9.9' },
        body: JSON.stringify({ strategy: 'local', email: user.email, password: 'not-it-at-all' }),
      });
    for (let i = 0; i < 3; i++) assert.equal((await attempt()).status, 401);
    const limited = await attempt();
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    // Even the right password is refused while the account is locked.
    assert.equal(await status(d.login(user.email, user.password)), 'TooManyRequests');
    // The window (login_lockout_seconds: 6) passes on the daemon's clock, not the test's.
    const later = Date.now() + 6100;
    t.mock.method(Date, 'now', () => later);
    assert.equal(typeof (await d.login(user.email, user.password)), 'string');
  });

  it('a JWT signed with another secret, an expired JWT, garbage and a query-string token are refused', async () => {
    const owner = await d.login(OWNER.email, OWNER.password);
    const payload = jwt.decode(owner) as Record<string, unknown>;
    const forged = jwt.sign({ sub: payload.sub }, 'another-secret-another-secret-another', { audience: 'agor', issuer: 'agor' });
    const secret = (await import('node:fs')).readFileSync(d.runtime.paths.jwtKey, 'utf8').trim();
    const expired = jwt.sign({ sub: payload.sub, exp: Math.floor(Date.now() / 1000) - 10 }, secret, { audience: 'agor', issuer: 'agor' });
    for (const token of [forged, expired, 'garbage.token.here']) {
      assert.equal(await status(d.rest(token).service('users').find({})), 'NotAuthenticated');
    }
    assert.equal(await status(d.rest(owner).service('users').find({})), 'ok');
    const res = await fetch(`${d.url}/users?access_token=${owner}`);
    assert.equal(res.status, 401);
    assert.match(await res.text(), /query string/);
  });

  it('a token in the Socket.IO handshake query is refused', async () => {
    const owner = await d.login(OWNER.email, OWNER.password);
    await assert.rejects(d.socket(undefined, { query: { access_token: owner } }), /query string/);
  });

  it('API keys: accepted as Bearer on REST and sockets; revoked and expired keys refused at once', async () => {
    const user = await d.createUser('member');
    const token = await d.login(user.email, user.password);
    const created = (await d.rest(token).service('api-keys').create({ name: 'ci' })) as { id: string; key: string };
    assert.match(created.key, /^agor_sk_/);
    assert.equal(((await d.rest(created.key).service('users').get(user.id)) as { id: string }).id, user.id);
    // Over a socket, through the handshake header and through an explicit login.
    const viaHeader = await d.socket(undefined, { extraHeaders: { Authorization: `Bearer ${created.key}` } });
    await waitFor(() => true);
    assert.equal(((await viaHeader.app.service('users').get(user.id)) as { id: string }).id, user.id);
    const viaLogin = await d.socket();
    await viaLogin.app.authenticate({ strategy: 'apikey', apiKey: created.key } as never);
    assert.equal(await status(viaLogin.app.service('users').get(user.id)), 'ok');
    // The listing never shows the key or its hash.
    const listed = JSON.stringify(await d.rest(token).service('api-keys').find({}));
    assert.ok(!listed.includes(created.key) && !listed.includes('key_hash'));
    await d.rest(token).service('api-keys').remove(created.id);
    assert.equal(await status(d.rest(created.key).service('users').get(user.id)), 'NotAuthenticated');
    // The socket that signed in with it is closed by the daemon (it would otherwise keep hearing events).
    await waitFor(() => !viaLogin.socket.connected, 3000, 'the revoked key\'s socket to be closed');
    const db = d.app.get('db');
    const second = (await d.rest(token).service('api-keys').create({ name: 'short' })) as { id: string; key: string };
    await db('api_keys').where('id', second.id).update({ expires_at: new Date(Date.now() - 1000).toISOString() });
    assert.equal(await status(d.rest(second.key).service('users').get(user.id)), 'NotAuthenticated');
  });

  it('a read-scoped key can read but not write', async () => {
    const user = await d.createUser('admin');
    const token = await d.login(user.email, user.password);
    const { key } = (await d.rest(token).service('api-keys').create({ name: 'ro', scope: 'read' })) as { key: string };
    assert.equal(await status(d.rest(key).service('users').find({})), 'ok');
    assert.equal(await status(d.rest(key).service('users').create({ email: 'x@test.local', password: 'abcdefgh1' })), 'Forbidden');
    assert.equal(await status(d.rest(key).service('api-keys').create({ name: 'escalate' })), 'Forbidden');
  });

  it('disabling a user disconnects its sockets and stops its tokens and keys at once, even after re-enabling', async () => {
    const admin = await d.createUser('admin');
    const adminToken = await d.login(admin.email, admin.password);
    const user = await d.createUser('member');
    const token = await d.login(user.email, user.password);
    const { key } = (await d.rest(token).service('api-keys').create({ name: 'k' })) as { key: string };
    const sock = await d.socket(token);
    let disconnected = false;
    sock.socket.on('disconnect', () => (disconnected = true));
    await d.rest(adminToken).service('users').patch(user.id, { disabled: true });
    await waitFor(() => disconnected, 3000, 'socket disconnect');
    assert.equal(await status(d.rest(token).service('users').get(user.id)), 'NotAuthenticated');
    assert.equal(await status(d.rest(key).service('users').get(user.id)), 'NotAuthenticated');
    assert.equal(await status(d.login(user.email, user.password)), 'NotAuthenticated');
    await d.rest(adminToken).service('users').patch(user.id, { disabled: false });
    // Credentials issued before the disable stay dead; a fresh login works.
    assert.equal(await status(d.rest(token).service('users').get(user.id)), 'NotAuthenticated');
    assert.equal(await status(d.rest(key).service('users').get(user.id)), 'NotAuthenticated');
    await new Promise((r) => setTimeout(r, 1000)); // JWT iat has one-second resolution
    assert.equal(typeof (await d.login(user.email, user.password)), 'string');
  });
});
