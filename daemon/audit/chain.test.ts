import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../db/database.js';
import { appendAudit, auditHash, GENESIS_HASH, HASHED_FIELDS, onAuditAppended, verifyAuditChain, type AuditEventInput, type AuditRow } from './chain.js';
import { REDACTED } from './redact.js';

let dir: string;
let db: Database;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-audit-'));
  db = await openDatabase(path.join(dir, 'agor.db'));
});
after(async () => {
  await db.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await db('audit_events').delete();
  await db('audit_head').delete();
  await db('audit_head').insert({ id: 1, seq: 0, hash: GENESIS_HASH });
});

const event = (i: number): AuditEventInput => ({
  actor: `user-${i}`,
  actor_label: `u${i}@test.local`,
  action: i % 2 ? 'user.role_changed' : 'authz.denied',
  target_type: 'user',
  target_id: `target-${i}`,
  worktree_id: i % 3 ? null : `wt-${i}`,
  decision: i % 2 ? null : 'deny',
  details: { from: 'member', to: 'admin', n: i, nested: { b: 1, a: [i] } },
});

async function seed(n: number): Promise<AuditRow[]> {
  for (let i = 1; i <= n; i++) await appendAudit(db, event(i));
  return db<AuditRow>('audit_events').orderBy('seq');
}

/** Changes one character (or the number) of a value so that it differs. */
function flip(value: string | number | null, at: number): string | number {
  if (value === null) return 'x';
  if (typeof value === 'number') return value + 1000;
  const code = value.charCodeAt(at);
  return value.slice(0, at) + String.fromCharCode(code === 0x30 ? 0x31 : code ^ 1) + value.slice(at + 1);
}

describe('audit chain', () => {
  it('starts at seq 1 from 64 zeros and links every row to the previous hash', async () => {
    const rows = await seed(3);
    assert.deepEqual(
      rows.map((r) => r.seq),
      [1, 2, 3],
    );
    assert.equal(rows[0]!.prev_hash, GENESIS_HASH);
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.prev_hash, rows[i - 1]!.hash);
    for (const row of rows) {
      assert.match(row.hash, /^[0-9a-f]{64}$/);
      assert.equal(auditHash(row.prev_hash, row), row.hash);
    }
    assert.deepEqual(await verifyAuditChain(db), { ok: true, count: 3, head: { seq: 3, hash: rows[2]!.hash } });
  });

  it('an empty log verifies', async () => {
    assert.deepEqual(await verifyAuditChain(db), { ok: true, count: 0, head: { seq: 0, hash: GENESIS_HASH } });
  });

  it('stores details as canonical JSON and never a secret', async () => {
    const row = await appendAudit(db, {
      actor: null,
      actor_label: 'system',
      action: 'apikey.created',
      details: { z: 1, password: 'hunter2hunter2', a: { key: 'agor_sk_' + 'x'.repeat(43), name: 'ci' }, note: 'agor_sk_' + 'y'.repeat(43) },
    });
    assert.equal(row.details, `{"a":{"key":"${REDACTED}","name":"ci"},"note":"${REDACTED}","password":"${REDACTED}","z":1}`);
    assert.ok(!JSON.stringify(await db('audit_events')).includes('hunter2'));
  });

  it('refuses an unknown action', async () => {
    await assert.rejects(appendAudit(db, { actor: null, actor_label: 'x', action: 'made.up' as never }), /Unknown audit action/);
    assert.equal((await verifyAuditChain(db)).ok, true);
  });

  it('50 concurrent appends give one valid chain with 50 distinct seqs', async () => {
    const seen: number[] = [];
    const unsubscribe = onAuditAppended(db, (row) => seen.push(row.seq));
    const rows = await Promise.all(Array.from({ length: 50 }, (_, i) => appendAudit(db, event(i + 1))));
    unsubscribe();
    const seqs = rows.map((r) => r.seq).sort((a, b) => a - b);
    assert.deepEqual(seqs, Array.from({ length: 50 }, (_, i) => i + 1));
    assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i + 1));
    assert.deepEqual(await verifyAuditChain(db), { ok: true, count: 50, head: { seq: 50, hash: rows.find((r) => r.seq === 50)!.hash } });
  });

  it('an append inside a caller transaction commits or rolls back with it', async () => {
    await seed(2);
    await assert.rejects(
      db.transaction(async (trx) => {
        await appendAudit(trx, event(3));
        throw new Error('rollback');
      }),
      /rollback/,
    );
    const row = await db.transaction((trx) => appendAudit(trx, event(3)));
    assert.equal(row.seq, 3);
    assert.deepEqual(await verifyAuditChain(db), { ok: true, count: 3, head: { seq: 3, hash: row.hash } });
  });

  it('editing any byte of any field of any row is detected at that row', async () => {
    const rows = await seed(4);
    let cases = 0;
    for (const row of rows) {
      for (const field of [...HASHED_FIELDS, 'prev_hash', 'hash'] as const) {
        const value = row[field] as string | number | null;
        const positions = typeof value === 'string' ? value.length : 1;
        for (let at = 0; at < positions; at++) {
          await db('audit_events').where('seq', row.seq).update({ [field]: flip(value, at) });
          const result = await verifyAuditChain(db);
          assert.equal(result.ok, false, `${field}[${at}] of seq ${row.seq}`);
          assert.equal((result as { seq: number }).seq, row.seq, `${field}[${at}] of seq ${row.seq}: ${JSON.stringify(result)}`);
          await db('audit_events')
            .where('seq', field === 'seq' ? (flip(value, at) as number) : row.seq)
            .update({ [field]: value });
          cases += 1;
        }
      }
    }
    assert.ok(cases > 1000, `${cases} edits`);
    assert.equal((await verifyAuditChain(db)).ok, true);
  });

  it('a deleted middle row is detected at its seq', async () => {
    await seed(5);
    await db('audit_events').where('seq', 3).delete();
    const result = await verifyAuditChain(db);
    assert.equal(result.ok, false);
    assert.equal((result as { seq: number }).seq, 3);
    assert.match((result as { reason: string }).reason, /missing/);
  });

  it('a deleted first row is detected', async () => {
    await seed(3);
    await db('audit_events').where('seq', 1).delete();
    assert.deepEqual(await verifyAuditChain(db), { ok: false, seq: 1, reason: (await verifyAuditChain(db) as { reason: string }).reason, count: 0 });
  });

  it('deleting the last row(s) is detected through the head', async () => {
    await seed(5);
    await db('audit_events').where('seq', 5).delete();
    let result = await verifyAuditChain(db);
    assert.equal(result.ok, false);
    assert.equal((result as { seq: number }).seq, 5);
    assert.match((result as { reason: string }).reason, /newest rows were deleted/);
    await db('audit_events').where('seq', '>=', 3).delete();
    result = await verifyAuditChain(db);
    assert.equal((result as { seq: number }).seq, 3);
  });

  it('wiping the whole log is detected; so is removing the head', async () => {
    await seed(3);
    await db('audit_events').delete();
    assert.equal(((await verifyAuditChain(db)) as { seq: number }).seq, 1);
    await db('audit_head').delete();
    const result = await verifyAuditChain(db);
    assert.equal(result.ok, false);
    assert.match((result as { reason: string }).reason, /head record is missing/);
    // Appending refuses (fails closed) rather than starting a fresh, unprovable chain.
    await assert.rejects(appendAudit(db, event(1)), /head record is missing/);
  });

  it('a row appended outside the writer, or a replaced last row, is detected', async () => {
    const rows = await seed(3);
    const last = rows[2]!;
    const forged = { ...last, seq: 4, prev_hash: last.hash, at: new Date().toISOString() };
    forged.hash = auditHash(forged.prev_hash, forged);
    await db('audit_events').insert(forged);
    assert.equal(((await verifyAuditChain(db)) as { seq: number }).seq, 4);
    await db('audit_events').where('seq', 4).delete();
    // Rewrite row 3 consistently (valid hash and link); only the head knows.
    const replaced = { ...last, actor_label: 'someone-else' };
    replaced.hash = auditHash(replaced.prev_hash, replaced);
    await db('audit_events').where('seq', 3).update(replaced);
    const result = await verifyAuditChain(db);
    assert.equal((result as { seq: number }).seq, 3);
    assert.match((result as { reason: string }).reason, /head/);
  });

  it('a later append after tampering keeps the evidence (continues from the head)', async () => {
    await seed(4);
    await db('audit_events').where('seq', 4).delete();
    const row = await appendAudit(db, event(9));
    assert.equal(row.seq, 5);
    assert.equal(((await verifyAuditChain(db)) as { seq: number }).seq, 4);
  });
});
