import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Application as ClientApp, Paginated } from '@feathersjs/feathers';
import { startTestDaemon, OWNER, received, waitFor, type SocketClient, type TestDaemon } from '../helpers/daemon.js';
import { boxFromHex, dbFiles, newMasterHex, testValue, valuesFoundIn } from '../helpers/secrets.js';
import { credentialsForTask } from '../../daemon/crypto/credentials-for-task.js';
import { kidOf } from '../../daemon/crypto/secret-box.js';
import type { Role } from '../../daemon/auth/roles.js';
import type { PublicUserSecret } from '../../daemon/services/user-secrets/user-secrets.shared.js';

const MASTER = newMasterHex();
const box = boxFromHex(MASTER);
const PUBLIC_KEYS = ['fingerprint', 'id', 'kind', 'name', 'set', 'updated_at'];

/** Every value this suite stores: none may ever appear in a response, event, log line or the database files. */
const VALUES: string[] = [];
function value(label: string): string {
  const v = testValue(label);
  VALUES.push(v);
  return v;
}

let d: TestDaemon;
let ownerToken: string;

before(async () => {
  d = await startTestDaemon({}, { env: { AGOR_MASTER_SECRET: MASTER } });
  ownerToken = await d.login(OWNER.email, OWNER.password);
});
after(async () => {
  assert.ok(received.length > 50, 'the harness recorded what clients received');
  const leaks = VALUES.filter((v) => received.some((payload) => payload.includes(v)) || d.logs.some((line) => line.includes(v)));
  await d.stop();
  assert.deepEqual(leaks, [], 'a secret value reached a client or a log line');
});

interface Caller {
  id: string;
  token: string;
  client: ClientApp;
  secrets: ReturnType<ClientApp['service']>;
}

async function caller(role: Role): Promise<Caller> {
  const user = await d.createUser(role);
  const token = await d.login(user.email, user.password);
  const client = d.rest(token);
  return { id: user.id, token, client, secrets: client.service('user-secrets') };
}

async function ownerCaller(): Promise<Caller> {
  const client = d.rest(ownerToken);
  const me = (await client.service('users').get('me')) as { id: string };
  return { id: me.id, token: ownerToken, client, secrets: client.service('user-secrets') };
}

async function failure(promise: Promise<unknown>): Promise<{ name: string; code: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; code: number; message: string };
    return { name: e.name, code: e.code, message: e.message };
  }
  assert.fail('expected the call to fail');
}

function assertPublic(secret: unknown): asserts secret is PublicUserSecret {
  assert.deepEqual(Object.keys(secret as object).sort(), PUBLIC_KEYS);
  assert.equal((secret as PublicUserSecret).set, true);
}

const decrypt = (userId: string, names: string[]) => credentialsForTask(d.app.get('db'), box, { userId, names });
const rowsOf = (userId: string) => d.app.get('db')('user_secrets').where('user_id', userId);

describe('user-secrets: own secrets', () => {
  it('a member sets, lists, gets, replaces and removes its own secrets; no response carries a value', async () => {
    const a = await caller('member');
    const key = value('anthropic');
    const created = await a.secrets.create({ name: 'ANTHROPIC_API_KEY', value: key });
    assertPublic(created);
    assert.equal(created.kind, 'agent_key', 'known agent key names default to agent_key');
    assert.match(created.fingerprint!, /^[0-9a-f]{16}$/);
    const dbUrl = value('db-url');
    const env = await a.secrets.create({ name: 'DATABASE_URL', value: dbUrl, kind: 'env' });
    assertPublic(env);

    const dup = await failure(a.secrets.create({ name: 'ANTHROPIC_API_KEY', value: value('dup') }));
    assert.equal(dup.code, 409);
    assert.match(dup.message, /already have a secret named ANTHROPIC_API_KEY/);

    const page = (await a.secrets.find({})) as Paginated<PublicUserSecret>;
    assert.equal(page.total, 2);
    assert.deepEqual(page.data.map((s) => s.name), ['ANTHROPIC_API_KEY', 'DATABASE_URL']);
    page.data.forEach(assertPublic);
    assert.deepEqual(await a.secrets.get(created.id), created);
    assert.deepEqual(await a.secrets.get('ANTHROPIC_API_KEY'), created);

    const replacement = value('anthropic-2');
    const patched = await a.secrets.patch('ANTHROPIC_API_KEY', { value: replacement });
    assertPublic(patched);
    assert.notEqual(patched.fingerprint, created.fingerprint);
    assert.ok(patched.updated_at >= created.updated_at);
    assert.deepEqual(await decrypt(a.id, ['ANTHROPIC_API_KEY', 'DATABASE_URL']), {
      ANTHROPIC_API_KEY: replacement,
      DATABASE_URL: dbUrl,
    });
    // Same value, same (keyed, owner-bound) fingerprint: "did it change?" without revealing it.
    assert.equal(((await a.secrets.patch(created.id, { value: replacement })) as PublicUserSecret).fingerprint, patched.fingerprint);
    assert.equal(((await a.secrets.patch(created.id, { kind: 'env' })) as PublicUserSecret).kind, 'env');
    assert.equal((await failure(a.secrets.patch(created.id, { name: 'RENAMED' }))).code, 400);
    assert.equal((await failure(a.secrets.patch(created.id, {}))).code, 400);

    assertPublic(await a.secrets.remove(env.id));
    assert.equal((await failure(a.secrets.get(env.id))).name, 'NotFound');
    assert.deepEqual(await decrypt(a.id, ['DATABASE_URL']), {});
  });

  it('values are checked: empty, NUL and more than 64 KiB are refused; exactly 64 KiB is accepted', async () => {
    const a = await caller('member');
    const big = value('big');
    const exact = big + 'x'.repeat(64 * 1024 - big.length);
    for (const bad of ['', `${value('nul')}\u0000tail`, exact + 'y']) {
      const error = await failure(a.secrets.create({ name: 'SOME_VALUE', value: bad }));
      assert.equal(error.code, 400);
    }
    assert.equal((await rowsOf(a.id)).length, 0);
    assertPublic(await a.secrets.create({ name: 'SOME_VALUE', value: exact }));
    assert.deepEqual(await decrypt(a.id, ['SOME_VALUE']), { SOME_VALUE: exact });
  });

  it('needs a login, and a read-only API key can list but not set', async () => {
    assert.equal((await failure(d.rest().service('user-secrets').find({}))).name, 'NotAuthenticated');
    const a = await caller('member');
    const { key } = (await a.client.service('api-keys').create({ name: 'ro', scope: 'read' })) as { key: string };
    const ro = d.rest(key).service('user-secrets');
    assert.equal(((await ro.find({})) as Paginated<PublicUserSecret>).total, 0);
    assert.equal((await failure(ro.create({ name: 'X_TOKEN', value: value('ro') }))).name, 'Forbidden');
  });
});

describe('user-secrets: refused names', () => {
  const REFUSED = [
    'LD_PRELOAD', 'LD_LIBRARY_PATH', 'DYLD_INSERT_LIBRARIES', 'NODE_OPTIONS', 'NODE_PATH', 'BASH_ENV', 'ENV',
    'PYTHONPATH', 'PYTHONSTARTUP', 'PERL5OPT', 'RUBYOPT', 'GIT_SSH_COMMAND', 'GIT_CONFIG_GLOBAL', 'PATH', 'HOME',
    'SHELL', 'IFS', 'PROMPT_COMMAND', 'TMPDIR', 'SUDO_UID', 'AGOR_MASTER_SECRET', 'JAVA_TOOL_OPTIONS',
  ];
  let a: Caller;
  before(async () => (a = await caller('member')));

  for (const name of REFUSED) {
    it(`${name}: 400 naming the variable and why; nothing stored`, async () => {
      const error = await failure(a.secrets.create({ name, value: value(`refused-${name}`) }));
      assert.equal(error.code, 400);
      assert.ok(error.message.includes(`${name} is refused: `), error.message);
      assert.equal((await rowsOf(a.id)).length, 0);
    });
  }

  it('malformed names are refused too, without echoing them', async () => {
    for (const name of ['lower', '1ABC', 'A-B', 'X'.repeat(129), 'sk-pasted-value']) {
      const error = await failure(a.secrets.create({ name, value: value('malformed') }));
      assert.equal(error.code, 400);
      assert.match(error.message, /must be an environment variable name/);
    }
    assert.equal((await rowsOf(a.id)).length, 0);
  });
});

describe('user-secrets: nobody reads, changes or deletes another user\'s secrets', () => {
  it('members, admins and owners all get NotFound, exactly as for a missing secret', async () => {
    const victim = await caller('member');
    const victimValue = value('victim');
    const secret = (await victim.secrets.create({ name: 'VICTIM_TOKEN', value: victimValue })) as PublicUserSecret;
    const others = [await caller('member'), await caller('admin'), await ownerCaller()];
    for (const other of others) {
      const missing = randomUUID();
      for (const key of [secret.id, 'VICTIM_TOKEN']) {
        const attempts: Array<(id: string) => Promise<unknown>> = [
          (id) => other.secrets.get(id),
          (id) => other.secrets.patch(id, { value: value('overwrite') }),
          (id) => other.secrets.remove(id),
        ];
        for (const attempt of attempts) {
          const [e1, e2] = [await failure(attempt(key)), await failure(attempt(missing))];
          assert.equal(e1.name, 'NotFound');
          assert.deepEqual({ ...e1, message: e1.message.replace(key, '<key>') }, { ...e2, message: e2.message.replace(missing, '<key>') });
        }
      }
      const listed = (await other.secrets.find({})) as Paginated<PublicUserSecret>;
      assert.ok(!listed.data.some((s) => s.id === secret.id));
      // No way to aim at someone else: unknown fields and filters are refused, not ignored.
      assert.equal((await failure(other.secrets.find({ query: { user_id: victim.id } }))).code, 400);
      assert.equal((await failure(other.secrets.create({ name: 'PLANTED', value: value('planted'), user_id: victim.id }))).code, 400);
      // The same name in another account is another secret.
      await other.secrets.create({ name: 'VICTIM_TOKEN', value: value('own') });
    }
    // Over a socket too.
    const adminSocket = await d.socket(others[1]!.token);
    assert.equal((await failure(adminSocket.app.service('user-secrets').get(secret.id))).name, 'NotFound');
    adminSocket.close();
    assert.deepEqual(await victim.secrets.get(secret.id), secret);
    assert.deepEqual(await decrypt(victim.id, ['VICTIM_TOKEN']), { VICTIM_TOKEN: victimValue });
  });

  it("events reach only the owner's own connections, and carry no value", async () => {
    const a = await caller('member');
    const b = await caller('member');
    const admin = await caller('admin');
    const [mine, theirs, admins, owners] = await Promise.all([d.socket(a.token), d.socket(b.token), d.socket(admin.token), d.socket(ownerToken)]);
    const secretEvents = (s: SocketClient) => s.events.filter((e) => e.event.startsWith('user-secrets'));
    const created = (await a.secrets.create({ name: 'EVENT_TOKEN', value: value('event') })) as PublicUserSecret;
    await a.secrets.patch(created.id, { value: value('event-2') });
    await a.secrets.remove(created.id);
    await waitFor(() => secretEvents(mine).length === 3, 3000, 'the owner\'s three events');
    assert.deepEqual(secretEvents(mine).map((e) => e.event), ['user-secrets created', 'user-secrets patched', 'user-secrets removed']);
    for (const e of secretEvents(mine)) assertPublic(e.args[0]);
    await d.barrier([theirs, admins, owners]);
    for (const other of [theirs, admins, owners]) assert.deepEqual(secretEvents(other), []);
    for (const s of [mine, theirs, admins, owners]) s.close();
  });
});

describe('user-secrets: at rest', () => {
  it('the database file and its WAL contain none of the values, only v1 ciphertext under the master key', async () => {
    const a = await caller('member');
    await a.secrets.create({ name: 'AT_REST_TOKEN', value: value('at-rest') });
    const rows = await d.app.get('db')('user_secrets').select('value');
    assert.ok(rows.length > 5);
    for (const { value: stored } of rows) assert.equal(kidOf(stored), box.kid);
    assert.deepEqual(valuesFoundIn(dbFiles(d.runtime.databaseFile), VALUES), []);
  });

  it("removing a user removes its secrets", async () => {
    const gone = await caller('member');
    await gone.secrets.create({ name: 'GONE_TOKEN', value: value('gone') });
    await gone.secrets.create({ name: 'GONE_ENV', value: value('gone-env') });
    assert.equal((await rowsOf(gone.id)).length, 2);
    await d.rest(ownerToken).service('users').remove(gone.id);
    assert.equal((await rowsOf(gone.id)).length, 0);
  });
});

describe('audit of secrets', () => {
  it('setting and removing a secret leave audit events naming it, never its value', async () => {
    const me = await caller('member');
    const secret = value('audited');
    const created = (await me.secrets.create({ name: 'AUDITED_VAR', value: secret })) as PublicUserSecret;
    await me.secrets.remove(created.id);
    const rows = await d.app.get('db')('audit_events').where({ target_id: created.id }).orderBy('seq');
    assert.deepEqual(rows.map((r: { action: string }) => r.action), ['secret.set', 'secret.removed']);
    assert.ok(rows.every((r: { actor: string; details: string }) => r.actor === me.id && r.details.includes('AUDITED_VAR') && !r.details.includes(secret)));
  });
});
