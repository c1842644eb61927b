import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../db/database.js';
import { canonicalJson } from './canonical-json.js';
import { redactSecrets } from './redact.js';
import { isAuditAction, type AuditAction, type AuditDecision } from './actions.js';

/**
 * The hash-chained audit log. Each row's hash is SHA-256 over the previous row's hash followed by
 * the canonical JSON of the row's own fields, so editing any field of any row, or removing or
 * inserting a row, breaks the chain from that row on. The last seq and hash are also kept in
 * `audit_head`, updated in the same transaction as each append, so deleting the newest rows (which
 * leaves a chain that is intact but short) is detected too.
 */
export const GENESIS_HASH = '0'.repeat(64);
export const AUDIT_EVENTS_TABLE = 'audit_events';
export const AUDIT_HEAD_TABLE = 'audit_head';
const HEAD_ID = 1;

/** The fields the hash covers, in the row's column names. */
export const HASHED_FIELDS = ['seq', 'at', 'actor', 'actor_label', 'action', 'target_type', 'target_id', 'worktree_id', 'decision', 'details'] as const;
type HashedField = (typeof HASHED_FIELDS)[number];

/** A row of audit_events as stored. `details` is canonical JSON text (hashed as that text). */
export interface AuditRow {
  seq: number;
  at: string;
  actor: string | null;
  actor_label: string;
  action: AuditAction;
  target_type: string | null;
  target_id: string | null;
  worktree_id: string | null;
  decision: AuditDecision | null;
  details: string | null;
  prev_hash: string;
  hash: string;
}

/** What a caller records. `actor` is a user id, or null for the system or an anonymous caller. */
export interface AuditEventInput {
  action: AuditAction;
  actor: string | null;
  actor_label: string;
  target_type?: string | null;
  target_id?: string | number | null;
  worktree_id?: string | null;
  decision?: AuditDecision | null;
  /** Never secrets, passwords or keys; anything that looks like one is redacted anyway. */
  details?: Record<string, unknown> | null;
}

interface HeadRow {
  id: number;
  seq: number;
  hash: string;
}

export function auditHash(prevHash: string, fields: Pick<AuditRow, HashedField>): string {
  const body: Record<string, unknown> = {};
  for (const field of HASHED_FIELDS) body[field] = fields[field];
  return crypto.createHash('sha256').update(prevHash + canonicalJson(body)).digest('hex');
}

// One queue per database (keyed by its shared client config, which transactions share too), so
// appends from this process run one after another; the head-row lock orders other processes.
type Listener = (row: AuditRow) => void;
const queues = new WeakMap<object, Promise<unknown>>();
const listeners = new WeakMap<object, Set<Listener>>();
const warned = new WeakSet<object>();

function keyOf(db: Database): object {
  return (db as unknown as { client: { config: object } }).client.config;
}

/** Calls `listener` with every row appended through this database after it commits. */
export function onAuditAppended(db: Database, listener: Listener): () => void {
  const key = keyOf(db);
  let set = listeners.get(key);
  if (!set) listeners.set(key, (set = new Set()));
  set.add(listener);
  return () => set.delete(listener);
}

function notify(db: Database, row: AuditRow): void {
  for (const listener of listeners.get(keyOf(db)) ?? []) {
    try {
      listener(row);
    } catch (error) {
      console.error('[audit] listener failed:', error);
    }
  }
}

function text(value: unknown, max: number): string | null {
  if (value === null || value === undefined) return null;
  const s = String(value);
  return s.length > max ? s.slice(0, max) : s;
}

async function appendInTransaction(trx: Knex.Transaction, event: AuditEventInput): Promise<AuditRow> {
  // Write to the head first: that takes the database's write lock before anything is read, so
  // no other writer (another process, another connection) can append between our read and insert.
  const locked = await trx<HeadRow>(AUDIT_HEAD_TABLE).where('id', HEAD_ID).update({ id: HEAD_ID });
  const head = locked ? await trx<HeadRow>(AUDIT_HEAD_TABLE).where('id', HEAD_ID).first() : undefined;
  // Fail closed: without its head the log cannot prove it was not truncated.
  if (!head) throw new Error('The audit head record is missing, so the audit log was tampered with; run `agor audit verify`');
  const last = await trx<AuditRow>(AUDIT_EVENTS_TABLE).orderBy('seq', 'desc').first('seq', 'hash');
  if (((last?.seq ?? 0) !== head.seq || (last?.hash ?? GENESIS_HASH) !== head.hash) && !warned.has(keyOf(trx))) {
    warned.add(keyOf(trx));
    console.warn('[SECURITY] the audit log no longer ends where its head says; run `agor audit verify`');
  }
  const fields: Omit<AuditRow, 'prev_hash' | 'hash'> = {
    seq: Number(head.seq) + 1,
    at: new Date().toISOString(),
    actor: text(event.actor, 64),
    actor_label: text(event.actor_label, 254) || 'unknown',
    action: event.action,
    target_type: text(event.target_type, 64),
    target_id: text(event.target_id, 256),
    worktree_id: text(event.worktree_id, 64),
    decision: event.decision ?? null,
    details: event.details == null ? null : canonicalJson(redactSecrets(event.details)),
  };
  const row: AuditRow = { ...fields, prev_hash: head.hash, hash: auditHash(head.hash, fields) };
  await trx(AUDIT_EVENTS_TABLE).insert(row);
  await trx(AUDIT_HEAD_TABLE).where('id', HEAD_ID).update({ seq: row.seq, hash: row.hash });
  return row;
}

/**
 * Appends one event and returns the stored row. Appends are serialised, so concurrent callers
 * never fork the chain. Given a transaction, the event commits (or rolls back) with it; do not
 * call this with the root database from inside another transaction's callback (SQLite has one
 * connection, which that transaction holds).
 */
export function appendAudit(db: Database, event: AuditEventInput): Promise<AuditRow> {
  if (!isAuditAction(event.action)) return Promise.reject(new TypeError(`Unknown audit action "${event.action}"`));
  if (event.decision != null && event.decision !== 'allow' && event.decision !== 'deny') {
    return Promise.reject(new TypeError(`Invalid audit decision "${event.decision}"`));
  }
  const trx = db as Knex.Transaction;
  if (trx.isTransaction) {
    return appendInTransaction(trx, event).then((row) => {
      trx.executionPromise.then(() => notify(db, row), () => undefined);
      return row;
    });
  }
  const key = keyOf(db);
  const run = (queues.get(key) ?? Promise.resolve()).then(() => db.transaction((t) => appendInTransaction(t, event)));
  queues.set(key, run.catch(() => undefined));
  return run.then((row) => {
    notify(db, row);
    return row;
  });
}

export type AuditVerification =
  | { ok: true; count: number; head: { seq: number; hash: string } }
  | { ok: false; seq: number; reason: string; count: number };

const BATCH = 1000;

/**
 * Re-computes the whole chain from one consistent snapshot and names the FIRST broken seq:
 * a hash that does not match its row (the row was edited), a gap or a prev_hash that does not
 * link (a row was deleted, inserted or replaced), or a chain that does not end at the head
 * (the newest rows were deleted, or rows were added behind the writer's back).
 */
export async function verifyAuditChain(db: Database): Promise<AuditVerification> {
  return db.transaction(async (trx) => {
    const head = await trx<HeadRow>(AUDIT_HEAD_TABLE).where('id', HEAD_ID).first();
    let prevHash = GENESIS_HASH;
    let lastSeq = 0;
    let count = 0;
    const broken = (seq: number, reason: string) => ({ ok: false as const, seq, reason, count });
    for (;;) {
      const query = trx<AuditRow>(AUDIT_EVENTS_TABLE).orderBy('seq').limit(BATCH);
      const batch = count === 0 ? await query : await query.where('seq', '>', lastSeq);
      for (const row of batch) {
        const seq = Number(row.seq);
        const expected = lastSeq + 1;
        if (seq > expected) {
          return broken(expected, `row missing: the chain jumps from seq ${lastSeq} to ${seq} (a row was deleted or renumbered)`);
        }
        if (seq < expected) return broken(seq, `unexpected row: seqs must start at 1 and rise by one (a row was inserted)`);
        if (auditHash(row.prev_hash, row) !== row.hash) return broken(seq, 'hash mismatch: the row was edited after it was written');
        if (row.prev_hash !== prevHash) {
          return broken(seq, `prev_hash does not match the hash of seq ${lastSeq}: a row before it was deleted, inserted or replaced`);
        }
        prevHash = row.hash;
        lastSeq = seq;
        count += 1;
      }
      if (batch.length < BATCH) break;
    }
    if (!head) return broken(lastSeq + 1, 'the audit head record is missing, so truncation of the log cannot be ruled out');
    const headSeq = Number(head.seq);
    if (headSeq > lastSeq) {
      return broken(lastSeq + 1, `row missing: the log ends at seq ${lastSeq} but its head records seq ${headSeq} (the newest rows were deleted)`);
    }
    if (headSeq < lastSeq) {
      return broken(headSeq + 1, `unexpected row: the head records seq ${headSeq} as the last one (a row was added outside the audit writer)`);
    }
    if (head.hash !== prevHash) return broken(lastSeq, 'the last row does not match the hash recorded in the head (it was replaced)');
    return { ok: true as const, count, head: { seq: headSeq, hash: head.hash } };
  });
}
