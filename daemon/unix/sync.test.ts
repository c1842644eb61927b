// The membership rule and the reconciler, on a real SQLite database, with agor-priv replaced by a
// recorder and /etc/group by a file the recorder keeps up to date.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../db/database.js';
import { validateConfig } from '../config/load.js';
import type { Role } from '../auth/roles.js';
import type { Tier } from '../rbac/tiers.js';
import { PrivilegedClient } from './privileged.js';
import { UnixSync } from './sync.js';
import { worktreeGroupName } from './names.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-sync-test-'));
const groupFile = path.join(dir, 'group');
const passwdFile = path.join(dir, 'passwd');
let db: Database;

/** Records every verb and applies group changes to the fake /etc/group. */
class RecordingPriv extends PrivilegedClient {
  calls: string[] = [];
  constructor() {
    super({ sudoPath: '/nonexistent', privPath: '/nonexistent' });
  }
  private groups(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    for (const line of fs.readFileSync(groupFile, 'utf8').split('\n').filter(Boolean)) {
      const [name, , , members] = line.split(':');
      m.set(name!, (members ?? '').split(',').filter(Boolean));
    }
    return m;
  }
  private save(m: Map<string, string[]>): void {
    let gid = 2000;
    fs.writeFileSync(groupFile, [...m].map(([n, ms]) => `${n}:x:${gid++}:${ms.join(',')}`).join('\n') + '\n');
  }
  override async ensureUser(user: string): Promise<void> {
    this.calls.push(`ensure-user ${user}`);
  }
  override async ensureGroup(group: string): Promise<void> {
    this.calls.push(`ensure-group ${group}`);
    const m = this.groups();
    if (!m.has(group)) m.set(group, []);
    this.save(m);
  }
  override async setGroupMembers(group: string, members: readonly string[]): Promise<void> {
    this.calls.push(`set-group-members ${group} ${members.join(',')}`);
    const m = this.groups();
    m.set(group, [...members]);
    this.save(m);
  }
  override async removeGroup(group: string): Promise<void> {
    this.calls.push(`remove-group ${group}`);
    const m = this.groups();
    m.delete(group);
    this.save(m);
  }
  override async prepareWorktree(dirPath: string, group: string, others: string): Promise<null> {
    this.calls.push(`prepare-worktree ${path.basename(dirPath)} ${group} ${others}`);
    return null;
  }
}

const priv = new RecordingPriv();
let sync: UnixSync;
const ids: Record<string, string> = {};

async function user(name: string, role: Role, unix: string | null, disabled = false): Promise<string> {
  const id = crypto.randomUUID();
  await db('users').insert({ id, email: `${name}@t.local`, name, password: 'x', role, disabled, unix_username: unix, created_at: 'now', updated_at: 'now' });
  ids[name] = id;
  return id;
}

async function worktree(name: string, othersCan: Tier, owners: string[]): Promise<string> {
  const id = crypto.randomUUID();
  await db('worktrees').insert({ id, repo_id: 'r1', name, path: path.join(dir, 'missing', name), branch: name, others_can: othersCan, others_fs_access: 'none', unix_group: worktreeGroupName(id), created_at: new Date().toISOString(), updated_at: 'now' });
  for (const o of owners) await db('worktree_owners').insert({ worktree_id: id, user_id: ids[o], added_at: 'now' });
  ids[name] = id;
  return id;
}

before(async () => {
  fs.writeFileSync(groupFile, 'root:x:0:\n');
  fs.writeFileSync(passwdFile, 'root:x:0:0::/root:/bin/bash\nagor_alice:x:1001:1001::/home/agor_alice:/bin/bash\n');
  db = await openDatabase(path.join(dir, 'agor.db'));
  await db('repos').insert({ id: 'r1', name: 'r', path: path.join(dir, 'no-repo'), source: 'x', created_at: 'now' });
  await user('alice', 'member', 'agor_alice');
  await user('bob', 'member', 'agor_bob');
  await user('vera', 'viewer', 'agor_vera');
  await user('dan', 'member', 'agor_dan', true);
  await user('nina', 'member', null);
  await user('adam', 'admin', 'agor_adam');
  await worktree('open', 'session', ['alice']);
  await worktree('viewonly', 'view', ['alice']);
  await worktree('private', 'none', ['alice', 'vera']);
  const config = validateConfig({ execution: { worktree_rbac: true, unix_user_mode: 'strict' } }, 't');
  sync = new UnixSync({ db, config, dataDir: dir, priv, daemonUser: 'agor', groupFile, passwdFile });
});
after(async () => {
  await db.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

const group = (wt: string) => worktreeGroupName(ids[wt]!);

describe('strict membership: decide() session.create, a Unix account, enabled', () => {
  it('computes the exact member set per worktree', async () => {
    const desired = await sync.desiredMembers(await sync.worktrees());
    // open (session): every enabled account holder but the viewer; admins get no implicit access
    // beyond the tier, which here allows them like anyone else.
    assert.deepEqual(desired.get(ids.open!), ['agor_adam', 'agor_alice', 'agor_bob']);
    // view: only the owner may run sessions.
    assert.deepEqual(desired.get(ids.viewonly!), ['agor_alice']);
    // none: owners only; an owner whose role is viewer is capped at view, so runs nothing there.
    assert.deepEqual(desired.get(ids.private!), ['agor_alice']);
  });

  it('syncMembers calls set-group-members only where /etc/group differs, and is idempotent', async () => {
    priv.calls.length = 0;
    const first = await sync.syncMembers();
    assert.equal(first.length, 3);
    assert.ok(priv.calls.includes(`set-group-members ${group('open')} agor_adam,agor_alice,agor_bob`));
    priv.calls.length = 0;
    assert.deepEqual(await sync.syncMembers(), []);
    assert.equal(priv.calls.length, 0, priv.calls.join("; "));
  });

  it('a tier drop, a removed owner, a disabled user: the next sync removes exactly them', async () => {
    await db('worktrees').where('id', ids.open).update({ others_can: 'view' });
    await db('worktree_owners').where({ worktree_id: ids.private, user_id: ids.vera }).delete();
    await db('users').where('id', ids.adam).update({ disabled: true });
    priv.calls.length = 0;
    await sync.syncMembers();
    // vera (a viewer) was never a member of private's group, so losing its ownership changes nothing.
    assert.deepEqual(priv.calls.sort(), [`set-group-members ${group('open')} agor_alice`]);
  });

  it('insulated: no account is a member of any worktree group', async () => {
    const config = validateConfig({ execution: { worktree_rbac: true, unix_user_mode: 'insulated' } }, 't');
    const insulated = new UnixSync({ db, config, dataDir: dir, priv, daemonUser: 'agor', groupFile, passwdFile });
    const desired = await insulated.desiredMembers(await insulated.worktrees());
    assert.ok([...desired.values()].every((m) => m.length === 0));
  });
});

describe('reconcile (agor admin sync-unix)', () => {
  it('a dry run plans and changes nothing; a run applies; stale groups only go with prune', async () => {
    fs.appendFileSync(groupFile, 'agor_wt_deadbeef0000:x:3000:agor_bob\n');
    await db('worktrees').where('id', ids.viewonly).update({ unix_group: null });
    const snapshot = fs.readFileSync(groupFile, 'utf8');
    priv.calls.length = 0;
    const dry = await sync.reconcile({ dryRun: true, prune: false });
    assert.equal(priv.calls.length, 0, priv.calls.join("; "));
    assert.equal(fs.readFileSync(groupFile, 'utf8'), snapshot);
    assert.ok(dry.actions.some((a) => a.action === 'ensure-user' && a.target === 'agor_bob' && a.status === 'planned'));
    assert.ok(dry.actions.some((a) => a.action === 'store-group' && a.target === ids.viewonly));
    assert.ok(dry.notes.some((n) => /agor_wt_deadbeef0000 .*--prune/.test(n)));
    assert.ok(dry.notes.some((n) => /directory .* is missing/.test(n)));

    const run = await sync.reconcile({ dryRun: false, prune: true });
    assert.equal(run.failed, 0, JSON.stringify(run.actions));
    assert.ok(priv.calls.includes('remove-group agor_wt_deadbeef0000'));
    assert.equal((await db('worktrees').where('id', ids.viewonly).first()).unix_group, group('viewonly'));
    priv.calls.length = 0;
    const again = await sync.reconcile({ dryRun: true, prune: true });
    assert.deepEqual(
      again.actions.filter((a) => a.action !== 'ensure-user'),
      [],
      'nothing left to do but accounts this fake cannot create',
    );
  });

  it('simple mode: reports and touches nothing', async () => {
    const config = validateConfig({ execution: { unix_user_mode: 'simple' } }, 't');
    const simple = new UnixSync({ db, config, dataDir: dir, priv, daemonUser: 'agor', groupFile, passwdFile });
    priv.calls.length = 0;
    const report = await simple.reconcile({ dryRun: false, prune: true });
    assert.deepEqual(report.actions, []);
    assert.equal(priv.calls.length, 0, priv.calls.join("; "));
    assert.deepEqual(await simple.syncMembers(), []);
  });
});
