// Issue 13 through the daemon's API in strict mode (root only, like the rest of the unix suite):
// - break 6: linking an `agor_*` account agor-priv did not create, or one in `shadow`, is a 400 with
//   agor-priv's sentence and changes nothing;
// - break 9: an agent's tree 405 directories deep no longer blocks its owner's tightening of
//   others_fs_access (applied, reported, audited), and a tightening the filesystem cannot follow
//   stays recorded instead of being undone;
// - break 5: when bob takes away alice's tier, her running task in his worktree ends, audited, and
//   no process of hers keeps the worktree's group.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { unixSuite } from './fixture.js';
import { Rig, until, type Person } from './rig.js';
import { groupsOf, processesOf, processesWith } from '../helpers/proc.js';

const AGENTS = { sleeper: { type: 'command', command: [process.execPath, '-e', `const t='slp-'+Math.random().toString(36).slice(2);process.title=t;console.log(t);setInterval(()=>{},1000)`] } };

/** The HTTP status and message of a failing call (rig.call throws "METHOD route: <status> <message>"). */
async function failure(promise: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const m = /: (\d{3}) ([\s\S]*)$/.exec((error as Error).message);
    if (m) return { status: Number(m[1]), message: m[2]! };
    throw error;
  }
  assert.fail('the call succeeded');
}

const othersBits = (p: string) => fs.lstatSync(p).mode & 0o7;

unixSuite('unix suite: accounts agor-priv accepts, tightening that never fails open, revocation of running tasks (strict)', (fx) => {
  const rig = new Rig(fx, 'strict', { tag: 'acct', stopGraceSeconds: 2, config: { agents: AGENTS } });
  let bob: Person;
  let alice: Person;

  before(async () => {
    await rig.start();
    bob = await rig.person('bob', true);
    alice = await rig.person('alice', true);
  });
  after(() => rig.stop());

  it("linking an account agor-priv did not create, or one in shadow, is a 400 with agor-priv's sentence; nothing changes", async () => {
    const foreign = fx.person('aforeign');
    const made = fx.run(['/usr/sbin/useradd', '-M', '-U', '-K', 'UID_MIN=1000', '--comment', 'an administrator', foreign]);
    assert.equal(made.status, 0, made.stderr);
    const created = await failure(rig.owner.call('POST', 'users', { email: 'foreign@acct.unix.test', password: 'foreign-password-1', role: 'member', unix_username: foreign }));
    assert.equal(created.status, 400, created.message);
    assert.match(created.message, /unix_username.*was not created by agor-priv/);
    assert.equal((await rig.owner.call('GET', 'users?email=foreign@acct.unix.test')).total, 0, 'no user was made');

    // An account agor-priv made for carol, unlinked, then put in shadow (it would read /etc/shadow).
    const carol = await rig.person('carol', true);
    await rig.owner.call('PATCH', `users/${carol.id}`, { unix_username: null });
    const added = fx.run(['/usr/sbin/usermod', '-a', '-G', 'shadow', carol.unix!]);
    assert.equal(added.status, 0, added.stderr);
    const relinked = await failure(rig.owner.call('PATCH', `users/${carol.id}`, { unix_username: carol.unix }));
    assert.equal(relinked.status, 400, relinked.message);
    assert.match(relinked.message, /member of group shadow/);
    assert.equal((await rig.owner.call('GET', `users/${carol.id}`)).unix_username, null, 'the link was not stored');
    // The matching allow: out of shadow again, the same link is accepted.
    fx.run(['/usr/bin/gpasswd', '-d', carol.unix!, 'shadow']);
    assert.equal((await rig.owner.call('PATCH', `users/${carol.id}`, { unix_username: carol.unix })).unix_username, carol.unix);
  });

  it('an agent tree 405 directories deep does not block the tightening of others_fs_access: applied, reported, audited', async () => {
    const wt = await bob.call('POST', 'worktrees', { repo_id: rig.repoId, name: 'deep', others_can: 'none', others_fs_access: 'read' });
    fx.groupsSeen.add(wt.unix_group);
    const levels = (n: number) => `${wt.path}${'/d'.repeat(n)}`;
    // Bob's agent plants the tree (as bob, a member of the worktree's group).
    const planted = fx.run(['/bin/mkdir', '-p', levels(405)], { asUser: bob.unix! });
    assert.equal(planted.status, 0, planted.stderr);
    assert.equal(othersBits(levels(405)), 0o5, 'the default ACL gave others read on the planted tree');

    const patched = await bob.call('PATCH', `worktrees/${wt.id}`, { others_fs_access: 'none' });
    assert.equal(patched.others_fs_access, 'none');
    assert.equal((await bob.call('GET', `worktrees/${wt.id}`)).others_fs_access, 'none');
    assert.deepEqual([othersBits(wt.path), othersBits(levels(1)), othersBits(levels(399)), othersBits(levels(400))], [0, 0, 0, 0]);
    const audit = await rig.owner.call('GET', `audit?action=unix.tree_left_alone&worktree_id=${wt.id}`);
    assert.equal(audit.total, 1);
    assert.match(JSON.stringify(audit.data[0].details), /nested deeper than 400 directories/);
  });

  it('a tightening the filesystem cannot follow stays recorded, and sync-unix finishes it', async () => {
    const wt = await bob.call('POST', 'worktrees', { repo_id: rig.repoId, name: 'stuck', others_can: 'none', others_fs_access: 'read' });
    fx.groupsSeen.add(wt.unix_group);
    const daemonUid = fx.uid(fx.daemonUser);
    // agor-priv refuses a worktree directory that is not its identities' (here: root's).
    fs.chownSync(wt.path, 0, fs.lstatSync(wt.path).gid);
    try {
      const failed = await failure(bob.call('PATCH', `worktrees/${wt.id}`, { others_fs_access: 'none' }));
      assert.ok(failed.status >= 500, failed.message);
      assert.match(failed.message, /others_fs_access stays "none"/);
      assert.equal((await bob.call('GET', `worktrees/${wt.id}`)).others_fs_access, 'none', 'the database never claims the looser value again');
      assert.equal(othersBits(wt.path), 0o5, 'the filesystem could not follow');
    } finally {
      fs.chownSync(wt.path, daemonUid, fs.lstatSync(wt.path).gid);
    }
    const report = await rig.owner.call('POST', 'unix-sync', { dry_run: false });
    assert.equal(report.failed, 0, JSON.stringify(report.actions.filter((a: any) => a.status === 'failed')));
    assert.equal(othersBits(wt.path), 0);
    // The matching non-tightening: a loosening that fails is undone as before.
    fs.chownSync(wt.path, 0, fs.lstatSync(wt.path).gid);
    try {
      const failed = await failure(bob.call('PATCH', `worktrees/${wt.id}`, { others_fs_access: 'write' }));
      assert.match(failed.message, /undone/);
      assert.equal((await bob.call('GET', `worktrees/${wt.id}`)).others_fs_access, 'none');
    } finally {
      fs.chownSync(wt.path, daemonUid, fs.lstatSync(wt.path).gid);
    }
  });

  it("bob sets others_can none: alice's running task in his worktree ends, audited, and none of her processes keeps its group", async () => {
    const wt = await bob.call('POST', 'worktrees', { repo_id: rig.repoId, name: 'shared', others_can: 'session', others_fs_access: 'none' });
    fx.groupsSeen.add(wt.unix_group);
    const gid = fx.gid(wt.unix_group);
    const session = await alice.call('POST', 'sessions', { worktree_id: wt.id, agent: 'sleeper' });
    const task = await alice.call('POST', 'tasks', { session_id: session.id, prompt: 'sleep' });
    const token = await until(async () => {
      const first = (await alice.call('GET', `messages?task_id=${task.id}&$limit=1`)).data[0];
      return first ? String(first.content.text).trim() : undefined;
    }, 'the sleeper to start');
    // Its pid inside the sandbox means nothing here: it is found by the token it named itself with.
    const pid = await until(async () => processesWith(token)[0], `the host pid of ${token}`);
    assert.ok(groupsOf(pid).includes(gid), 'while allowed, her agent runs with the worktree group');
    const aliceUid = fx.uid(alice.unix!);

    await bob.call('PATCH', `worktrees/${wt.id}`, { others_can: 'none' });
    const done = await until(async () => {
      const t = await bob.call('GET', `tasks/${task.id}`);
      return t.status !== 'running' ? t : undefined;
    }, 'the task to end');
    assert.equal(done.status, 'stopped');
    assert.match(done.reason, /^access revoked: /);
    await until(async () => (processesOf(new Set([aliceUid])).some((p) => groupsOf(p).includes(gid)) ? undefined : true), "alice's processes holding the group to be gone");
    const audit = await rig.owner.call('GET', `audit?action=task.stopped_access_revoked&worktree_id=${wt.id}`);
    assert.equal(audit.total, 1);
  });
});
