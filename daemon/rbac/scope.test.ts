// Issue 15: the list scope (SQL, scope.ts) and the single-record rule (decide()) come from the same
// table, and this proves they agree: on a real SQLite database, a generated population of users
// (every role, enabled and disabled) × worktrees (every tier × no owner / one owner / two owners ×
// session sharing on/off), with worktree_rbac on and off. Disabled users are in the population on
// purpose: neither rule looks at `disabled` (authentication refuses them before any rule runs), so
// both must answer the same for them too.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../db/database.js';
import { decide, type Policy, type Subject } from './decide.js';
import { factsOf, loadWorktreeAccess, visibleCount, whereOwnedClosed, whereWorktreeOpen, whereWorktreeVisible } from './scope.js';
import { ROLES } from './roles.js';
import { TIERS } from './tiers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-scope-'));
let db: Database;
const users: (Subject & { disabled: boolean })[] = [];
const worktreeIds: string[] = [];
const COLUMNS = { worktreeId: 'w.id', othersCan: 'w.others_can' };

before(async () => {
  db = await openDatabase(path.join(dir, 'agor.db'));
  await db('repos').insert({ id: 'r1', name: 'r', path: path.join(dir, 'no-repo'), source: 'x', created_at: 'now' });
  for (const role of ROLES) {
    for (const disabled of [false, true]) {
      const id = `${role}-${disabled ? 'disabled' : 'enabled'}`;
      await db('users').insert({ id, email: `${id}@t.local`, name: id, password: 'x', role, disabled, created_at: 'now', updated_at: 'now' });
      users.push({ id, role, disabled });
    }
  }
  // Owner sets: nobody, each user alone, and pairs (each user with the next), so every user owns
  // some worktrees of every tier and is a co-owner of others.
  const ownerSets: string[][] = [[], ...users.map((u) => [u.id]), ...users.map((u, i) => [u.id, users[(i + 1) % users.length]!.id])];
  let n = 0;
  for (const others_can of TIERS) {
    for (const owners of ownerSets) {
      for (const sharing of [false, true]) {
        const id = `w${n++}`;
        await db('worktrees').insert({ id, repo_id: 'r1', name: id, path: path.join(dir, id), branch: id, others_can, others_fs_access: 'none', dangerously_allow_session_sharing: sharing, created_at: 'now', updated_at: 'now' });
        for (const user_id of owners) await db('worktree_owners').insert({ worktree_id: id, user_id, added_at: 'now' });
        worktreeIds.push(id);
      }
    }
  }
});

after(async () => {
  await db?.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The ids decide() lets `subject` do `action` on, one record at a time. */
async function decidedIds(subject: Subject, action: 'worktree.view' | 'worktree.see_record', policy: Policy): Promise<string[]> {
  const allowed: string[] = [];
  for (const id of worktreeIds) {
    const row = await loadWorktreeAccess(db, id, subject);
    if (decide(subject, action, { worktree: factsOf(row!) }, policy).allow) allowed.push(id);
  }
  return allowed.sort();
}

const ids = async (q: Promise<{ id: string }[]>) => (await q).map((r) => r.id).sort();

describe('the SQL list scope agrees with decide() (real SQLite)', () => {
  for (const rbac of [true, false]) {
    it(`every user × every worktree, worktree_rbac ${rbac ? 'on' : 'off'}`, async () => {
      const policy = { rbac };
      assert.equal(worktreeIds.length, TIERS.length * (1 + 2 * users.length) * 2);
      let someSeeSome = false;
      for (const subject of users) {
        const expected = await decidedIds(subject, 'worktree.view', policy);
        const where = `${subject.id}, rbac ${rbac}`;
        someSeeSome ||= expected.length > 0 && expected.length < worktreeIds.length;

        // The one-condition scope used by sessions, tasks, boards and channels.
        const scoped = await ids(whereWorktreeVisible(db('worktrees as w').select('w.id'), subject, policy, COLUMNS));
        assert.deepEqual(scoped, expected, `whereWorktreeVisible, ${where}`);

        // The two disjoint halves used by worktrees.find's page, and the two-part count.
        if (rbac) {
          const open = await ids(whereWorktreeOpen(db('worktrees as w').select('w.id'), 'w.others_can'));
          const ownedClosed = await ids(whereOwnedClosed(db('worktrees as w').select('w.id'), subject, COLUMNS));
          assert.deepEqual(open.filter((id) => ownedClosed.includes(id)), [], `halves are disjoint, ${where}`);
          assert.deepEqual([...open, ...ownedClosed].sort(), expected, `open + owned-closed, ${where}`);
        }
        const counted = (await db.select(visibleCount(db, () => db('worktrees as w'), subject, policy, COLUMNS, 'n')).first()) as { n: number };
        assert.equal(Number(counted.n), expected.length, `visibleCount, ${where}`);

        // Records: whoever may see every record (decide's site rule) lists them unscoped, as
        // worktrees.find and worktree-access do; everyone else gets exactly the view scope.
        const records = await decidedIds(subject, 'worktree.see_record', policy);
        const unscoped = decide(subject, 'worktree.see_every_record').allow;
        assert.deepEqual(records, unscoped ? [...worktreeIds].sort() : expected, `worktree records, ${where}`);
      }
      // Not vacuous: with rbac on, some users see some worktrees and not others; off, all see all.
      assert.equal(someSeeSome, rbac, 'the population has users who see some worktrees and not others');
    });
  }
});
