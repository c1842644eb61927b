import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import feathersModule from '@feathersjs/feathers';
import { startTestDaemon, OWNER, waitFor, type SocketClient, type TestDaemon } from '../helpers/daemon.js';
import { BODY_LIMIT_BYTES } from '../../daemon/app.js';
import { QUERY_TOKEN_NAMES } from '../../daemon/http/middleware.js';
import type { PublicUser } from '../../daemon/services/users/users.schema.js';

// CommonJS: only some exports are visible as named ESM imports.
const { getServiceOptions, defaultServiceArguments } = feathersModule;

let d: TestDaemon;
let owner: { id: string; token: string };

before(async () => {
  d = await startTestDaemon();
  const row = await d.app.get('db')('users').where('email', OWNER.email).first();
  owner = { id: row.id as string, token: await d.login(OWNER.email, OWNER.password) };
});
after(() => d.stop());

/** Every row of the users table, hashes included, in a stable order: equal strings mean nothing changed. */
async function usersDump(): Promise<string> {
  return JSON.stringify(await d.app.get('db')('users').select('*').orderBy('id'));
}

/** Every registered service path with the methods it was registered with, read from the running app. */
function registeredMethods(): { path: string; methods: string[] }[] {
  return Object.entries(d.app.services).map(([path, service]) => ({ path, methods: [...getServiceOptions(service).methods!] }));
}

const PUBLIC = new Set(['authentication create']);
const REST_VERBS: Record<string, { verb: string; withId: boolean }> = {
  find: { verb: 'GET', withId: false },
  get: { verb: 'GET', withId: true },
  create: { verb: 'POST', withId: false },
  update: { verb: 'PUT', withId: true },
  patch: { verb: 'PATCH', withId: true },
  remove: { verb: 'DELETE', withId: true },
};

/** One call over REST without credentials; custom methods go through POST with X-Service-Method. */
async function restCall(path: string, method: string, id: string): Promise<{ status: number; body: string }> {
  const known = REST_VERBS[method];
  const url = `${d.url}/${path}${known?.withId ? `/${encodeURIComponent(id)}` : ''}`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (!known) headers['x-service-method'] = method;
  const verb = known?.verb ?? 'POST';
  const hasBody = verb === 'POST' || verb === 'PUT' || verb === 'PATCH';
  const res = await fetch(url, { method: verb, headers, body: hasBody ? JSON.stringify({ name: 'x', role: 'owner' }) : undefined });
  return { status: res.status, body: await res.text() };
}

/** One raw Socket.IO emit of `method` on `path`, with the argument layout Feathers expects. */
function socketCall(sock: SocketClient, path: string, method: string, id: string): Promise<{ name?: string; code?: number } | null> {
  const layout = (defaultServiceArguments as Record<string, string[]>)[method] ?? ['data', 'params'];
  const args = layout.map((arg) => (arg === 'id' ? id : arg === 'data' ? { name: 'x', role: 'owner' } : {}));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${method} ${path}: no answer`)), 5000);
    sock.socket.emit(method, path, ...args, (error: { name?: string; code?: number } | null) => {
      clearTimeout(timer);
      resolve(error);
    });
  });
}

describe('transport: every service needs credentials', () => {
  it('each registered method, over REST and Socket.IO, answers 401 / NotAuthenticated without credentials', async () => {
    const services = registeredMethods();
    const paths = services.map((s) => s.path);
    // Guards against an enumeration that silently finds nothing.
    for (const expected of ['users', 'api-keys', 'authentication']) assert.ok(paths.includes(expected), `${expected} is registered`);
    const before = await usersDump();
    const sock = await d.socket();
    let cases = 0;
    for (const { path, methods } of services) {
      assert.ok(methods.length > 0, `${path} exposes methods`);
      for (const method of methods) {
        if (PUBLIC.has(`${path} ${method}`)) continue;
        const rest = await restCall(path, method, owner.id);
        assert.equal(rest.status, 401, `REST ${method} ${path}: ${rest.body}`);
        assert.equal((JSON.parse(rest.body) as { name: string }).name, 'NotAuthenticated', `REST ${method} ${path}`);
        const error = await socketCall(sock, path, method, owner.id);
        assert.equal(error?.name, 'NotAuthenticated', `Socket.IO ${method} ${path}: ${JSON.stringify(error)}`);
        assert.equal(error?.code, 401);
        cases += 2;
      }
    }
    // Methods that take an id are also reachable on REST without one (multi patch/remove).
    for (const { path, methods } of services) {
      for (const method of methods.filter((m) => REST_VERBS[m]?.withId && m !== 'get')) {
        const res = await fetch(`${d.url}/${path}`, { method: REST_VERBS[method]!.verb, headers: { 'content-type': 'application/json' }, body: '{}' });
        assert.equal(res.status, 401, `REST ${method} ${path} without an id`);
        cases += 1;
      }
    }
    console.log(`transport: ${cases} unauthenticated calls over ${services.length} services, all refused`);
    assert.ok(cases > 0);
    assert.equal(await usersDump(), before);
    sock.close();
  });

  it('the users service over Socket.IO: every method refused without login; a token in the handshake query refuses the connection', async () => {
    const sock = await d.socket();
    const users = sock.app.service('users');
    const calls: [string, () => Promise<unknown>][] = [
      ['find', () => users.find({})],
      ['get', () => users.get(owner.id)],
      ['get me', () => users.get('me')],
      ['create', () => users.create({ email: 'socket-anon@test.local', password: 'password-123', role: 'owner' })],
      ['patch', () => users.patch(owner.id, { name: 'anon' })],
      ['remove', () => users.remove(owner.id)],
    ];
    const before = await usersDump();
    for (const [what, call] of calls) {
      await assert.rejects(call(), (error: { name: string }) => error.name === 'NotAuthenticated', what);
    }
    assert.equal(await usersDump(), before);
    sock.close();
    for (const name of QUERY_TOKEN_NAMES) {
      await assert.rejects(d.socket(undefined, { query: { [name]: owner.token } }), /query string/, `handshake query "${name}"`);
    }
    // The same token in the Authorization header is accepted: the refusal is about where it travels.
    const viaHeader = await d.socket(undefined, { extraHeaders: { Authorization: `Bearer ${owner.token}` } });
    assert.equal(((await viaHeader.app.service('users').get(owner.id)) as PublicUser).id, owner.id);
    viaHeader.close();
  });

  it('logging out (authentication remove) works with credentials and is 401 without', async () => {
    assert.equal((await fetch(`${d.url}/authentication`, { method: 'DELETE' })).status, 401);
    const res = await fetch(`${d.url}/authentication`, { method: 'DELETE', headers: { authorization: `Bearer ${owner.token}` } });
    assert.equal(res.status, 200);
    const sock = await d.socket(owner.token);
    await sock.app.logout();
    await assert.rejects(sock.app.service('users').get(owner.id), (error: { name: string }) => error.name === 'NotAuthenticated');
    // A logged-out socket has left its channels: it hears nothing more about its user.
    const listener = await d.socket(owner.token);
    await d.rest(owner.token).service('users').patch(owner.id, { name: 'After Logout' });
    await waitFor(() => listener.events.some((e) => e.event === 'users patched'), 3000, 'the patched event on a live socket');
    assert.equal(sock.events.filter((e) => e.event.startsWith('users ')).length, 0);
    listener.close();
    sock.close();
  });
});

describe('transport: health', () => {
  it('GET /health needs no credentials and returns exactly {status, version}', async () => {
    const res = await fetch(`${d.url}/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok', version: d.app.get('version') });
  });
});

describe('transport: request bodies', () => {
  const post = (path: string, body: string, token: string | undefined = owner.token, method = 'POST') =>
    fetch(`${d.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });

  /** A users create body whose JSON is exactly `bytes` long (the name field pads it). */
  function bodyOfSize(bytes: number): string {
    const shell = JSON.stringify({ email: 'big@test.local', password: 'password-123', name: '' });
    const body = shell.replace('"name":""', `"name":"${'x'.repeat(bytes - shell.length)}"`);
    assert.equal(Buffer.byteLength(body), bytes);
    return body;
  }

  it('a body over 10 MB is 413; one exactly at the limit is parsed (then refused on its merits); nothing changes', async () => {
    const before = await usersDump();
    const tooLarge = await post('/users', bodyOfSize(BODY_LIMIT_BYTES + 1));
    assert.equal(tooLarge.status, 413);
    assert.equal(((await tooLarge.json()) as { name: string }).name, 'PayloadTooLarge');
    // Refused by size before anything else looks at it, credentials or not.
    assert.equal((await post('/users', bodyOfSize(BODY_LIMIT_BYTES + 1), undefined)).status, 413);
    const atLimit = await post('/users', bodyOfSize(BODY_LIMIT_BYTES));
    assert.equal(atLimit.status, 400, 'parsed, then refused because the name is too long');
    assert.match(((await atLimit.json()) as { message: string }).message, /"name"/);
    assert.equal(await usersDump(), before);
  });

  it('a body that is not JSON is 415 (never read as empty); a missing body is not a default that acts', async () => {
    const auditCount = async () => Number((await d.app.get('db')('audit_events').count({ n: '*' }))[0].n);
    const before = [await usersDump(), await auditCount()];
    const send = (path: string, body: string | undefined, type?: string) =>
      fetch(`${d.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${owner.token}`, ...(type && { 'content-type': type }) }, body });
    for (const [type, body] of [
      ['text/plain', '{"dry_run":true}'],
      ['text/plain;charset=utf-8', '{"dry_run":false}'],
      ['application/x-www-form-urlencoded', 'dry_run=false'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="dry_run"\r\n\r\nfalse\r\n--x--\r\n'],
      [undefined, '{"dry_run":false}'],
    ] as const) {
      for (const path of ['/unix-sync', '/users']) {
        const res = await send(path, body, type);
        const error = (await res.json()) as { name: string; message: string };
        assert.equal(res.status, 415, `${path} as ${type}`);
        assert.equal(error.name, 'UnsupportedMediaType');
        assert.match(error.message, /must be JSON/);
      }
    }
    // JSON without the one field that says whether to act: refused, nothing reconciled.
    for (const body of [undefined, '{}']) {
      const res = await send('/unix-sync', body, body && 'application/json');
      assert.equal(res.status, 400, String(body));
      assert.match(((await res.json()) as { message: string }).message, body ? /"dry_run" is required/ : /needs a JSON object/);
    }
    assert.deepEqual([await usersDump(), await auditCount()], before);
    // The matching allow: JSON with a charset, or a +json type, is read.
    const ok = await send('/boards', JSON.stringify({ name: 'json with charset' }), 'application/json; charset=utf-8');
    assert.equal(ok.status, 201);
  });

  it('malformed JSON is 400 and changes nothing', async () => {
    const before = await usersDump();
    for (const body of ['{"email": "x@test.local", "password":', '{not json}', '[1, 2', '\u0000']) {
      const res = await post('/users', body);
      assert.equal(res.status, 400, body);
      assert.equal(((await res.json()) as { name: string }).name, 'BadRequest');
    }
    assert.equal(await usersDump(), before);
  });

  it('invalid field values are 400 naming the field, and change nothing', async () => {
    const target = await d.createUser('member');
    const valid = { email: 'valid@test.local', password: 'password-123' };
    const cases: [string, string, Record<string, unknown>, string][] = [
      ['POST', '/users', { ...valid, email: 'not-an-email' }, 'email'],
      ['POST', '/users', { ...valid, password: 'short' }, 'password'],
      ['POST', '/users', { ...valid, role: 'superuser' }, 'role'],
      ['POST', '/users', { ...valid, is_admin: true }, 'is_admin'],
      ['POST', '/users', { ...valid, name: 'n'.repeat(201) }, 'name'],
      ['PATCH', `/users/${target.id}`, { email: 'still not an email' }, 'email'],
      ['PATCH', `/users/${target.id}`, { password: 'short' }, 'password'],
      ['PATCH', `/users/${target.id}`, { role: 'root' }, 'role'],
      ['PATCH', `/users/${target.id}`, { disabled: 'yes' }, 'disabled'],
      ['PATCH', `/users/${target.id}`, { name: 'ok', unix_username: 'root' }, 'unix_username'],
      ['POST', '/api-keys', { name: 'k', scope: 'admin' }, 'scope'],
      ['POST', '/api-keys', { name: 'k', user_id: target.id }, 'user_id'],
    ];
    for (const [method, path, data, field] of cases) {
      const before = await usersDump();
      const keysBefore = JSON.stringify(await d.app.get('db')('api_keys').select('*').orderBy('id'));
      const res = await post(path, JSON.stringify(data), owner.token, method);
      const body = (await res.json()) as { name: string; message: string };
      assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(data)}`);
      assert.ok(body.message.includes(`"${field}"`), `the message names "${field}": ${body.message}`);
      assert.equal(await usersDump(), before);
      assert.equal(JSON.stringify(await d.app.get('db')('api_keys').select('*').orderBy('id')), keysBefore);
    }
    const badQuery = await fetch(`${d.url}/users?role=root`, { headers: { authorization: `Bearer ${owner.token}` } });
    assert.equal(badQuery.status, 400);
    assert.match(((await badQuery.json()) as { message: string }).message, /"role"/);
  });
});

describe('transport: Socket.IO payloads', () => {
  it('a payload over 10 MB disconnects that socket; the daemon keeps serving others', async () => {
    const before = await usersDump();
    const bystander = await d.socket(owner.token);
    const sender = await d.socket(owner.token);
    let reason = '';
    sender.socket.on('disconnect', (why: string) => (reason = why));
    sender.socket.emit('create', 'users', { email: 'huge@test.local', password: 'password-123', name: 'x'.repeat(BODY_LIMIT_BYTES + 1) }, {}, () => {});
    await waitFor(() => reason !== '', 5000, 'the oversized socket to be disconnected');
    assert.equal(sender.socket.connected, false);
    assert.equal(await usersDump(), before);
    assert.equal(((await bystander.app.service('users').get(owner.id)) as PublicUser).id, owner.id);
    assert.equal((await fetch(`${d.url}/health`)).status, 200);
    bystander.close();
  });
});
