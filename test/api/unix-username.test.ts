// users.unix_username over the real API (simple mode: validated and stored, the OS untouched), and
// the unix-sync endpoint's access rule. The OS side runs in test/unix (root).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { startTestDaemon, OWNER, type TestDaemon } from '../helpers/daemon.js';
import { outcome } from '../helpers/worktree-fixture.js';
import type { UserRow } from '../../daemon/services/users/users.schema.js';

let d: TestDaemon;
let ownerToken: string;

before(async () => {
  d = await startTestDaemon({ execution: { executor_unix_user: 'agor_runner' } });
  ownerToken = await d.login(OWNER.email, OWNER.password);
});
after(() => d.stop());

const row = (id: string) => d.app.get('db')<UserRow>('users').where('id', id).first();

const BAD_NAMES = [
  'root',
  os.userInfo().username, // the daemon user
  'agor_runner', // the configured executor user
  'agor_users',
  'agor_$(id)',
  'agor_a;b',
  'agor_a b',
  'agor_a|b',
  'agor_`id`',
  'agor_Alice',
  'agor_',
  'agor_wt_0123abcd',
  `agor_${'a'.repeat(25)}`,
  'alice',
  'agor_a\nb',
  '-agor_a',
];

describe('users.unix_username is validated on every write', () => {
  it('patch: each bad name is a 400 naming the field, and the row is unchanged', async () => {
    const target = await d.createUser('member', 'target');
    const owner = d.rest(ownerToken).service('users');
    const before = await row(target.id);
    for (const bad of BAD_NAMES) {
      try {
        await owner.patch(target.id, { unix_username: bad });
        assert.fail(`${JSON.stringify(bad)} was accepted`);
      } catch (error) {
        assert.equal((error as { name: string }).name, 'BadRequest', `${JSON.stringify(bad)}: ${(error as Error).message}`);
        assert.match((error as Error).message, /unix_username/);
      }
    }
    assert.deepEqual(await row(target.id), before, 'nothing changed');
    assert.ok(BAD_NAMES.length >= 10);
  });

  it('create: a bad name is a 400 and no user is made', async () => {
    const owner = d.rest(ownerToken).service('users');
    for (const bad of ['root', 'agor_$(id)', 'agor_a;b']) {
      const email = `bad${Math.random().toString(36).slice(2, 8)}@test.local`;
      assert.equal(await outcome(owner.create({ email, password: 'password-123', unix_username: bad })), 'BadRequest');
      assert.equal(await d.app.get('db')('users').where('email', email).first(), undefined);
    }
  });

  it('a good name is stored (simple mode touches no account), is unique, and can be unlinked', async () => {
    const owner = d.rest(ownerToken).service('users');
    const a = await d.createUser('member', 'linka');
    const b = await d.createUser('member', 'linkb');
    const patched = (await owner.patch(a.id, { unix_username: 'agor_linka' })) as { unix_username: string };
    assert.equal(patched.unix_username, 'agor_linka');
    assert.equal(await outcome(owner.patch(b.id, { unix_username: 'agor_linka' })), 'Conflict');
    const created = (await owner.create({ email: 'withunix@test.local', password: 'password-123', unix_username: 'agor_withunix' })) as { unix_username: string };
    assert.equal(created.unix_username, 'agor_withunix');
    assert.equal(((await owner.patch(a.id, { unix_username: null })) as { unix_username: null }).unix_username, null);
  });

  it('only admins and owners link accounts; nobody links their own', async () => {
    const member = await d.createUser('member', 'self');
    const other = await d.createUser('member', 'other');
    const memberToken = await d.login(member.email, member.password);
    const before = await row(other.id);
    assert.equal(await outcome(d.rest(memberToken).service('users').patch(member.id, { unix_username: 'agor_self' })), 'Forbidden');
    assert.equal(await outcome(d.rest(memberToken).service('users').patch(other.id, { unix_username: 'agor_other' })), 'Forbidden');
    assert.deepEqual(await row(other.id), before);
  });

  it('the link is audited', async () => {
    const target = await d.createUser('member', 'audited');
    await d.rest(ownerToken).service('users').patch(target.id, { unix_username: 'agor_audited' });
    const event = await d.app.get('db')('audit_events').where({ action: 'user.unix_username_changed', target_id: target.id }).first();
    assert.ok(event, 'an audit event records the change');
    assert.match(event.details, /agor_audited/);
  });
});

describe('unix-sync (agor admin sync-unix)', () => {
  it('owners and admins may run it; in simple mode it changes nothing', async () => {
    const report = (await d.rest(ownerToken).service('unix-sync').create({ dry_run: false })) as { mode: string; actions: unknown[]; notes: string[] };
    assert.equal(report.mode, 'simple');
    assert.deepEqual(report.actions, []);
    assert.match(report.notes.join(' '), /left alone/);
  });
  it('members may not; unknown fields are a 400', async () => {
    const member = await d.createUser('member', 'syncer');
    const token = await d.login(member.email, member.password);
    assert.equal(await outcome(d.rest(token).service('unix-sync').create({})), 'Forbidden');
    assert.equal(await outcome(d.rest(ownerToken).service('unix-sync').create({ dry_run: true, force: true })), 'BadRequest');
  });
});
