// GET /audit-chain: the hash-chain check of `agor audit verify`, through the API, for admins and
// owners only. The allow side reports a real break; the deny side is every other caller.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Paginated } from '@feathersjs/feathers';
import { startTestDaemon, OWNER, type TestDaemon } from '../helpers/daemon.js';
import { outcome } from '../helpers/worktree-fixture.js';
import type { AuditChainStatus } from '../../daemon/services/audit/audit-chain.shared.js';
import type { PublicAuditEvent } from '../../daemon/services/audit/audit.shared.js';

let d: TestDaemon;
let ownerToken: string;
let adminToken: string;
let memberToken: string;
let viewerToken: string;

before(async () => {
  d = await startTestDaemon();
  ownerToken = await d.login(OWNER.email, OWNER.password);
  const admin = await d.createUser('admin');
  const member = await d.createUser('member');
  const viewer = await d.createUser('viewer');
  [adminToken, memberToken, viewerToken] = await Promise.all([
    d.login(admin.email, admin.password),
    d.login(member.email, member.password),
    d.login(viewer.email, viewer.password),
  ]);
});
after(() => d.stop());

describe('audit-chain', () => {
  it('admins and owners get the verification over REST and Socket.IO; it matches the log', async () => {
    const status = (await d.rest(adminToken).service('audit-chain').find()) as AuditChainStatus;
    assert.equal(status.ok, true, JSON.stringify(status));
    const newest = ((await d.rest(ownerToken).service('audit').find({ query: { $limit: 1 } })) as Paginated<PublicAuditEvent>).data[0]!;
    if (status.ok) {
      assert.ok(status.head.seq >= newest.seq, 'the head is at least the newest event seen before');
      assert.ok(status.count >= newest.seq);
    }
    assert.ok(!Number.isNaN(Date.parse(status.checked_at)));
    const socket = await d.socket(ownerToken);
    assert.equal(((await socket.app.service('audit-chain').find()) as AuditChainStatus).ok, true);
  });

  it('members, viewers and anonymous callers are refused on both transports, and a bad query is a 400', async () => {
    for (const token of [memberToken, viewerToken]) {
      assert.equal(await outcome(d.rest(token).service('audit-chain').find()), 'Forbidden');
      const socket = await d.socket(token);
      assert.equal(await outcome(socket.app.service('audit-chain').find()), 'Forbidden');
    }
    assert.equal(await outcome(d.rest().service('audit-chain').find()), 'NotAuthenticated');
    assert.equal(await outcome((await d.socket()).app.service('audit-chain').find()), 'NotAuthenticated');
    assert.equal(await outcome(d.rest(adminToken).service('audit-chain').find({ query: { repair: 'yes' } })), 'BadRequest');
  });

  it('an edited row makes it answer "broken" at that seq, with the reason', async () => {
    const db = d.app.get('db');
    const row = (await db('audit_events').orderBy('seq').offset(1).first('seq', 'actor_label')) as { seq: number; actor_label: string };
    await db('audit_events').where('seq', row.seq).update({ actor_label: 'someone-else@test.local' });
    try {
      const status = (await d.rest(adminToken).service('audit-chain').find()) as AuditChainStatus;
      assert.equal(status.ok, false);
      if (!status.ok) {
        assert.equal(status.seq, Number(row.seq));
        assert.match(status.reason, /hash mismatch/);
      }
    } finally {
      await db('audit_events').where('seq', row.seq).update({ actor_label: row.actor_label });
    }
    assert.equal(((await d.rest(adminToken).service('audit-chain').find()) as AuditChainStatus).ok, true, 'restored, it verifies again');
  });
});
