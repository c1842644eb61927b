import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import Sqlite from 'better-sqlite3';
import type { Paginated } from '@feathersjs/feathers';
import { startTestDaemon, OWNER, waitFor, type TestDaemon, type TestUser } from '../helpers/daemon.js';
import type { PublicAuditEvent } from '../../daemon/services/audit/audit.shared.js';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...extra };
}

function runCli(args: string[], env: Record<string, string> = cliEnv()): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function errorName(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return (error as { name: string }).name;
  }
}

// bcrypt (cost 12) dominates this suite's time, so users and logins are shared between tests.
let d: TestDaemon;
let ownerToken: string;
let ownerId: string;
let member: TestUser;
let memberToken: string;
let admin: TestUser;
let adminToken: string;

before(async () => {
  d = await startTestDaemon();
  ownerToken = await d.login(OWNER.email, OWNER.password);
  ownerId = ((await d.rest(ownerToken).service('users').get('me')) as { id: string }).id;
  member = await d.createUser('member');
  memberToken = await d.login(member.email, member.password);
  admin = await d.createUser('admin');
  adminToken = await d.login(admin.email, admin.password);
});
after(() => d.stop());

async function audit(query: Record<string, unknown>): Promise<PublicAuditEvent[]> {
  return ((await d.rest(ownerToken).service('audit').find({ query })) as Paginated<PublicAuditEvent>).data;
}

async function only(query: Record<string, unknown>): Promise<PublicAuditEvent> {
  const events = await audit(query);
  assert.equal(events.length, 1, `exactly one event for ${JSON.stringify(query)}: ${JSON.stringify(events)}`);
  return events[0]!;
}

describe('audit events', () => {
  it('agor init records the first owner', async () => {
    const created = await only({ action: 'user.created', target_id: ownerId });
    assert.equal(created.actor, null);
    assert.equal(created.actor_label, 'agor init');
  });

  it('login success and failure, with the attempted email and never the password', async () => {
    const user = member;
    const ok = await only({ action: 'auth.login', actor: user.id });
    assert.equal(ok.actor_label, user.email);
    assert.equal(ok.decision, 'allow');
    assert.equal(ok.target_id, user.id);

    const wrong = 'not-the-password-XYZ';
    assert.equal(await errorName(d.login(user.email, wrong)), 'NotAuthenticated');
    assert.equal(await errorName(d.login('nobody@test.local', wrong)), 'NotAuthenticated');
    const failed = await audit({ action: 'auth.login_failed' });
    const mine = failed.find((e) => e.target_id === user.id)!;
    assert.equal(mine.actor, null);
    assert.equal(mine.decision, 'deny');
    assert.deepEqual({ email: (mine.details as any).email, reason: (mine.details as any).reason }, { email: user.email, reason: 'wrong_password' });
    const unknown = failed.find((e) => (e.details as any).email === 'nobody@test.local')!;
    assert.equal(unknown.target_id, null);
    assert.equal((unknown.details as any).reason, 'unknown_account');
    const raw = JSON.stringify(await d.app.get('db')('audit_events'));
    assert.ok(!raw.includes(wrong) && !raw.includes(user.password), 'no password in the audit table');
  });

  it('API key create and revoke, by the key owner, never recording the key', async () => {
    const [user, token] = [member, memberToken];
    const key = (await d.rest(token).service('api-keys').create({ name: 'ci' })) as { id: string; key: string; prefix: string };
    await d.rest(token).service('api-keys').remove(key.id);
    await d.rest(token).service('api-keys').remove(key.id); // already revoked: no second event
    const created = await only({ action: 'apikey.created', target_id: key.id });
    const revoked = await only({ action: 'apikey.revoked', target_id: key.id });
    for (const e of [created, revoked]) {
      assert.equal(e.actor, user.id);
      assert.equal(e.actor_label, user.email);
      assert.equal((e.details as any).prefix, key.prefix);
    }
    const raw = JSON.stringify(await d.app.get('db')('audit_events'));
    assert.ok(!raw.includes(key.key), 'the key itself is never recorded');
  });

  it('user created, role changed, disabled, enabled and removed, each with its actor', async () => {
    const created = (await d.rest(ownerToken).service('users').create({ email: 'audited@test.local', password: 'abcdefgh12' })) as TestUser;
    await d.rest(ownerToken).service('users').patch(created.id, { role: 'viewer' });
    await d.rest(adminToken).service('users').patch(created.id, { disabled: true });
    assert.equal(await errorName(d.login('audited@test.local', 'abcdefgh12')), 'NotAuthenticated');
    const refused = await only({ action: 'auth.login_failed', target_id: created.id });
    assert.equal((refused.details as any).reason, 'disabled');
    await d.rest(adminToken).service('users').patch(created.id, { disabled: false });
    await d.rest(adminToken).service('users').patch(created.id, { name: 'no audited change' });
    await d.rest(adminToken).service('users').remove(created.id);
    const trail = (await audit({ target_id: created.id, action: 'user.*' })).reverse();
    assert.deepEqual(
      trail.map((e) => [e.action, e.actor]),
      [
        ['user.created', ownerId],
        ['user.role_changed', ownerId],
        ['user.disabled', admin.id],
        ['user.enabled', admin.id],
        ['user.removed', admin.id],
      ],
    );
    assert.deepEqual(trail[1]!.details, { email: 'audited@test.local', from: 'member', to: 'viewer' });
  });

  it("a member's read of the audit log is Forbidden, and that denial is itself recorded", async () => {
    const token = memberToken;
    assert.equal(await errorName(d.rest(token).service('audit').find({})), 'Forbidden');
    assert.equal(await errorName(d.rest(token).service('audit').get(1)), 'Forbidden');
    const denials = await audit({ action: 'authz.denied', actor: member.id });
    assert.deepEqual(
      denials.map((e) => [(e.details as any).path, (e.details as any).method, e.decision, e.actor_label]).reverse(),
      [
        ['audit', 'find', 'deny', member.email],
        ['audit', 'get', 'deny', member.email],
      ],
    );
    // Any other Forbidden too, e.g. a member trying to change roles.
    assert.equal(await errorName(d.rest(token).service('users').patch(ownerId, { role: 'viewer' })), 'Forbidden');
    const denied = (await audit({ action: 'authz.denied', actor: member.id }))[0]!;
    assert.equal(denied.target_type, 'users');
    assert.equal(denied.target_id, ownerId);
    assert.equal((denied.details as any).method, 'patch');
  });

  it('a read-only API key writing is a recorded denial', async () => {
    const token = adminToken;
    const { id, key } = (await d.rest(token).service('api-keys').create({ name: 'ro', scope: 'read' })) as { id: string; key: string };
    assert.equal(await errorName(d.rest(key).service('api-keys').create({ name: 'escalate' })), 'Forbidden');
    const denied = (await audit({ action: 'authz.denied', actor: admin.id }))[0]!;
    assert.equal((denied.details as any).api_key_id, id);
    // A read-scoped key may read the log (the admin's role allows it).
    assert.equal(await errorName(d.rest(key).service('audit').find({})), 'ok');
  });

  it('admins read with filters, newest first; bad filters are a 400; nothing can be written from outside', async () => {
    const service = d.rest(adminToken).service('audit');
    const page = (await service.find({ query: { $limit: 5 } })) as Paginated<PublicAuditEvent>;
    assert.equal(page.data.length, 5);
    assert.ok(page.total > 5);
    const seqs = page.data.map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a));
    assert.deepEqual(((await service.get(seqs[0]!)) as PublicAuditEvent).seq, seqs[0]);
    // actor + action
    const logins = (await service.find({ query: { actor: admin.id, action: 'auth.login' } })) as Paginated<PublicAuditEvent>;
    assert.deepEqual(
      logins.data.map((e) => e.actor),
      [admin.id],
    );
    // time range: since is inclusive, until exclusive
    const at = logins.data[0]!.at;
    assert.equal(((await service.find({ query: { actor: admin.id, action: 'auth.login', since: at } })) as Paginated<unknown>).total, 1);
    assert.equal(((await service.find({ query: { actor: admin.id, action: 'auth.login', until: at } })) as Paginated<unknown>).total, 0);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal(((await service.find({ query: { since: future } })) as Paginated<unknown>).total, 0);
    assert.equal(((await service.find({ query: { since: '2000-01-01', until: future } })) as Paginated<unknown>).total, page.total);
    // after_seq (used by `agor audit tail -f`)
    const newer = (await service.find({ query: { after_seq: seqs[1] } })) as Paginated<PublicAuditEvent>;
    assert.ok(newer.data.every((e) => e.seq > seqs[1]!));
    for (const bad of [{ $limit: 1001 }, { since: 'yesterday' }, { action: 'made.up' }, { nope: 1 }, { $skip: -1 }]) {
      assert.equal(await errorName(service.find({ query: bad })), 'BadRequest', JSON.stringify(bad));
    }
    // No write methods exist, over REST or internally.
    for (const method of ['POST', 'PATCH', 'PUT', 'DELETE']) {
      const res = await fetch(`${d.url}/audit${method === 'POST' ? '' : '/1'}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ownerToken}` },
        body: JSON.stringify({ action: 'auth.login', actor_label: 'forged' }),
      });
      assert.equal(res.status, 405, method);
    }
    const internal = d.app.service('audit') as unknown as Record<string, unknown>;
    for (const method of ['create', 'update', 'patch', 'remove']) assert.equal(typeof internal[method], 'undefined');
  });

  it('new rows reach admins on their sockets, and nobody else', async () => {
    const memberSocket = await d.socket(memberToken);
    const adminSocket = await d.socket(adminToken);
    const { id } = (await d.rest(memberToken).service('api-keys').create({ name: 'socket-test' })) as { id: string };
    const isKey = (x: { event: string; args: unknown[] }) =>
      x.event === 'audit created' && (x.args[0] as PublicAuditEvent).action === 'apikey.created' && (x.args[0] as PublicAuditEvent).target_id === id;
    await waitFor(() => adminSocket.events.some(isKey), 3000, 'audit event on the admin socket');
    await d.barrier([memberSocket]);
    assert.ok(!memberSocket.events.some((x) => x.event.startsWith('audit')), 'a member hears no audit events');
  });

  it('`agor audit tail` reads through the API; -f follows new events', async () => {
    const { key } = (await d.rest(ownerToken).service('api-keys').create({ name: 'cli' })) as { key: string };
    const env = cliEnv({ AGOR_API_KEY: key });
    const config = `${d.home}/config.yaml`;
    const tail = await runCli(['--config', config, '--url', d.url, 'audit', 'tail', '-n', '3', '--json'], env);
    assert.equal(tail.code, 0, tail.stderr);
    const lines = tail.stdout.trim().split('\n').map((l) => JSON.parse(l) as PublicAuditEvent);
    assert.equal(lines.length, 3);
    assert.ok(lines[0]!.seq < lines[1]!.seq && lines[1]!.seq < lines[2]!.seq, 'oldest first');
    const text = await runCli(['--config', config, '--url', d.url, 'audit', 'tail', '-n', '2', '--action', 'apikey.*'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /apikey\.created/);

    const child = spawn(process.execPath, [CLI, '--config', config, '--url', d.url, 'audit', 'tail', '-n', '1', '-f', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    try {
      // The first line is the initial tail: from then on the child is following.
      await waitFor(() => out.includes('\n'), 15_000, 'tail -f to start');
      const { id } = (await d.rest(adminToken).service('api-keys').create({ name: 'followed' })) as { id: string };
      await waitFor(() => out.includes(id), 8000, 'tail -f to print the new event');
      const followed = JSON.parse(out.trim().split('\n').at(-1)!) as PublicAuditEvent;
      assert.deepEqual([followed.action, followed.actor], ['apikey.created', admin.id]);
    } finally {
      child.kill('SIGINT');
    }
  });
});

describe('agor audit verify', () => {
  it('prints OK while the daemon runs; after tampering with the stopped daemon\'s database it names the seq and exits 1', async () => {
    const daemon = await startTestDaemon();
    const config = `${daemon.home}/config.yaml`;
    try {
      const token = await daemon.login(OWNER.email, OWNER.password);
      const user = await daemon.createUser('member');
      await daemon.rest(token).service('users').patch(user.id, { role: 'viewer' });
      await daemon.rest(token).service('users').patch(user.id, { disabled: true });

      const running = await runCli(['--config', config, 'audit', 'verify']);
      assert.equal(running.code, 0, running.stderr);
      assert.match(running.stdout, /^OK: 4 events$/m);

      await daemon.close();
      const file = daemon.runtime.databaseFile;
      const raw = new Sqlite(file);
      const target = raw.prepare("SELECT seq, actor_label FROM audit_events WHERE action = 'user.role_changed'").get() as { seq: number; actor_label: string };
      raw.prepare('UPDATE audit_events SET actor_label = ? WHERE seq = ?').run('someone-else@test.local', target.seq);
      raw.close();
      const edited = await runCli(['--config', config, 'audit', 'verify']);
      assert.equal(edited.code, 1, edited.stderr);
      assert.match(edited.stdout, new RegExp(`^BROKEN at seq ${target.seq}: hash mismatch`, 'm'));

      const again = new Sqlite(file);
      again.prepare('UPDATE audit_events SET actor_label = ? WHERE seq = ?').run(target.actor_label, target.seq);
      again.prepare('DELETE FROM audit_events WHERE seq = 2').run();
      again.close();
      const deleted = await runCli(['--config', config, 'audit', 'verify', '--json']);
      assert.equal(deleted.code, 1);
      assert.deepEqual(
        { ok: JSON.parse(deleted.stdout).ok, seq: JSON.parse(deleted.stdout).seq },
        { ok: false, seq: 2 },
      );
    } finally {
      await daemon.close();
      fs.rmSync(daemon.home, { recursive: true, force: true });
    }
  });
});
