// The unix suite: insulated and strict mode end to end, with real sudo, real agor-priv, real Unix
// accounts and real file modes (root only; with CI=true a machine that cannot run it is a failure).
// A daemon runs AS the daemon user (runuser) with a private AGOR_HOME; processes start through the
// daemon's one spawn path, and each test reads what they could and could not do.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { stringify } from 'yaml';
import { DaemonHarness, isAlive, processTree, ROOT, unixSuite, type UnixFixture } from './fixture.js';
import { cmdline, hostCredentials, processesWith } from '../helpers/proc.js';
import { until } from './rig.js';
import { readGroups } from '../../daemon/unix/os-state.js';
import { worktreeGroupName } from '../../daemon/unix/names.js';

const OWNER = { email: 'owner@unix.test', password: 'owner-password-1' };
// Directories an executing identity creates are its own, group rwx for the worktree group; the daemon
// user is "others" there, so it can neither read nor remove them. prepare-worktree must also grant
// the daemon user (u:<daemon>:rwX and the default d:u:<daemon>:rwx) — an agor-priv change.

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorName: string,
    message: string,
  ) {
    super(message);
  }
}

/** A minimal REST client of the daemon (what the CLI and the board do, over HTTP). */
class Api {
  constructor(
    readonly url: string,
    readonly token?: string,
  ) {}

  async call<T = any>(method: string, route: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}/${route}`, {
      method,
      headers: { 'content-type': 'application/json', ...(this.token && { authorization: `Bearer ${this.token}` }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = (await res.json().catch(() => ({}))) as any;
    if (!res.ok) throw new ApiError(res.status, data.name ?? String(res.status), data.message ?? res.statusText);
    return data as T;
  }

  static async login(url: string, email: string, password: string): Promise<Api> {
    const r = await new Api(url).call('POST', 'authentication', { strategy: 'local', email, password });
    return new Api(url, r.accessToken);
  }
}

async function status(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return error instanceof ApiError ? `${error.status} ${error.errorName}: ${error.message}` : String(error);
  }
}

interface Person {
  id: string;
  email: string;
  api: Api;
  unix: string | null;
}

interface Shell {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** One mode's daemon, with its users and a cloned repository. */
class ModeRig {
  h!: DaemonHarness;
  owner!: Api;
  repoId = '';
  agorHome: string;

  constructor(
    readonly fx: UnixFixture,
    readonly mode: 'insulated' | 'strict',
  ) {
    this.agorHome = `${fx.daemonHome}/agor-${mode}`;
  }

  async start(): Promise<void> {
    const fx = this.fx;
    this.h = await fx.startDaemon(this.agorHome, this.mode, 3, OWNER);
    this.owner = await Api.login(this.h.url, OWNER.email, OWNER.password);
    const repo = await this.owner.call('POST', 'repos', { url: `file://${fx.sourceRepo}`, name: `proj-${this.mode}` });
    this.repoId = repo.id;
  }

  async person(name: string, { unix = true, role = 'member' }: { unix?: boolean; role?: string } = {}): Promise<Person> {
    const email = `${name}@unix.test`;
    const password = `${name}-password-1`;
    const unixName = unix ? this.fx.person(name) : null;
    const user = await this.owner.call('POST', 'users', { email, password, role, ...(unixName && { unix_username: unixName }) });
    return { id: user.id, email, api: await Api.login(this.h.url, email, password), unix: unixName };
  }

  async worktree(by: Person, name: string, opts: { others_can?: string; others_fs_access?: string } = {}): Promise<{ id: string; path: string; unix_group: string }> {
    const wt = await by.api.call('POST', 'worktrees', { repo_id: this.repoId, name, others_can: 'none', others_fs_access: 'none', ...opts });
    if (wt.unix_group) this.fx.groupsSeen.add(wt.unix_group);
    return wt;
  }

  /** The login shell as `who` in `worktree`, through the daemon's spawn path, `script` on stdin. */
  async sh(who: Person, worktreeId: string, script: string, { gitEnv = false } = {}): Promise<Shell> {
    const reply = await this.h.request('run', { user_id: who.id, worktree_id: worktreeId, input: script, timeout_ms: 30_000, git_env: gitEnv });
    if (!reply.ok) throw new Error(`run refused: ${reply.error}`);
    return reply as unknown as Shell;
  }
}

function idOf(out: string): { uid: number; gid: number; groups: number[] } {
  const [uid, gid, groups] = out.trim().split('\n').slice(-3);
  return { uid: Number(uid), gid: Number(gid), groups: groups!.trim().split(/\s+/).map(Number).sort((a, b) => a - b) };
}

const ID = 'id -u; id -g; id -G\n';
/** What a sandbox answers for what it does not show (or the OS refuses). */
const HIDDEN = /No such file or directory|Permission denied/;

function members(group: string): string[] {
  return [...(readGroups().get(group)?.members ?? [])].sort();
}

unixSuite('unix isolation, end to end (real sudo, agor-priv, accounts and modes)', (fx) => {
  describe('insulated', () => {
    const rig = new ModeRig(fx, 'insulated');
    let alice: Person;
    let bob: Person;
    let A: { id: string; path: string; unix_group: string };
    let B: { id: string; path: string; unix_group: string };

    before(async () => {
      await rig.start();
      alice = await rig.person('alice', { unix: false });
      bob = await rig.person('bob', { unix: false });
      A = await rig.worktree(alice, 'a-private');
      B = await rig.worktree(bob, 'b-private');
    });
    after(() => rig.h?.stop());

    it('each worktree gets the group derived from its id, and a directory prepared for it', () => {
      assert.equal(A.unix_group, worktreeGroupName(A.id));
      assert.match(A.unix_group, /^agor_wt_[0-9a-f]{12}$/);
      assert.deepEqual(members(A.unix_group), [], 'insulated: no account is a member (the group is the process group)');
      const st = fs.statSync(A.path);
      assert.equal(st.gid, fx.gid(A.unix_group));
      assert.ok(st.mode & 0o2000, 'setgid directory');
      assert.equal(st.mode & 0o007, 0, 'others_fs_access none: no access for others');
    });

    it('a process runs as the executor user with the worktree group as its only group', async () => {
      const r = await rig.sh(alice, A.id, ID);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(idOf(r.stdout), { uid: fx.uid(fx.executorUser), gid: fx.gid(A.unix_group), groups: [fx.gid(A.unix_group)] });
    });

    it("cannot read another worktree, the daemon's AGOR_HOME or its home: its sandbox does not show them", async () => {
      const r = await rig.sh(
        alice,
        A.id,
        [`cat ${B.path}/README.md`, `ls ${B.path}`, `cat ${rig.agorHome}/agor.db`, `cat ${rig.agorHome}/jwt.key`, `ls ${rig.agorHome}`, `ls -A ${fx.daemonHome}`, `ls -A ${path.dirname(A.path)}`, 'echo done'].join('\n') + '\n',
      );
      assert.equal(r.stdout, `${path.basename(A.path)}\ndone\n`, 'nothing read, nothing listed but the way to its own worktree');
      assert.equal(r.stderr.split('\n').filter((l) => HIDDEN.test(l)).length, 5, r.stderr);
    });

    it("others_fs_access sets the modes on disk (for the box's other users); another worktree's sandbox never shows it", async () => {
      await bob.api.call('PATCH', `worktrees/${B.id}`, { others_fs_access: 'write' });
      assert.equal(fs.statSync(B.path).mode & 0o007, 0o007);
      const r = await rig.sh(alice, A.id, `test -e ${B.path} || echo invisible; echo x > ${B.path}/from-a.txt; echo rc=$?\n`);
      assert.match(r.stdout, /invisible\nrc=1/);
      assert.ok(!fs.existsSync(`${B.path}/from-a.txt`));
      await bob.api.call('PATCH', `worktrees/${B.id}`, { others_fs_access: 'none' });
      assert.equal(fs.statSync(B.path).mode & 0o007, 0);
    });

    it('git status, add and commit work inside its own worktree', async () => {
      const r = await rig.sh(
        alice,
        A.id,
        'set -e\ngit status --porcelain\necho change >> README.md\nmkdir -p sub && echo new > sub/new.txt\ngit add README.md sub/new.txt\ngit -c user.name=A -c user.email=a@x.invalid commit -qm "from the executor"\ngit log --format=%s -1\n',
        { gitEnv: true },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /from the executor/);
    });

    it('stop(): SIGTERM travels through sudo and agor-priv and ends the process', async () => {
      const started = await rig.h.request('start', { user_id: alice.id, worktree_id: A.id, input: 'echo ready\nexec sleep 600\n' });
      assert.ok(started.ok, started.error);
      const tree = processTree(started.pid as number);
      const stopped = await rig.h.request('stop', { handle: startedHandle(started), grace_ms: 5000 });
      assert.ok(stopped.ok, stopped.error);
      assert.ok((stopped.ms as number) < 3000, `stopped in ${stopped.ms} ms, by SIGTERM, not after the grace period`);
      await waitGone(tree);
    });

    it('stop(): a process ignoring SIGTERM is ended by it all the same (its sandbox dies), with what it started', async () => {
      const marker = `61${process.pid}`;
      const started = await rig.h.request('start', { user_id: alice.id, worktree_id: A.id, input: `trap '' TERM\nsetsid -f sleep ${marker}\necho ready\nexec sleep 600\n` });
      assert.ok(started.ok, started.error);
      const tree = processTree(started.pid as number);
      await until(async () => (processesWith(`sleep ${marker}`).length === 1) || undefined, 'the setsid -f job');
      const stopped = await rig.h.request('stop', { handle: startedHandle(started), grace_ms: 5000 });
      assert.ok(stopped.ok, stopped.error);
      assert.ok((stopped.ms as number) < 3000, `stopped after ${stopped.ms} ms, not after the grace period`);
      await waitGone(tree);
      await until(async () => (processesWith(`sleep ${marker}`).length === 0) || undefined, 'the setsid -f job to be gone');
    });

    it('break 4: each worktree has its own HOME; what A writes to ~/.gitconfig or ~/.profile is never run in B', async () => {
      const marker = `${fx.base}/home-payload-ran`;
      const plant = [
        'set -e',
        `git config --global core.fsmonitor 'touch ${A.path}/fsmonitor-ran; false'`,
        `git config --global alias.planted '!touch ${marker}'`,
        `echo 'echo PROFILE-PAYLOAD-FROM-A' >> ~/.profile`,
        'echo home=$HOME',
      ].join('\n') + '\n';
      const a = await rig.sh(alice, A.id, plant, { gitEnv: true });
      assert.equal(a.code, 0, a.stderr);
      const again = await rig.sh(alice, A.id, 'git config --global --get alias.planted\n', { gitEnv: true });
      assert.match(again.stdout, /PROFILE-PAYLOAD-FROM-A/, "A's own next login shell reads its ~/.profile (kept between runs)");
      assert.match(again.stdout, /touch/, "and its ~/.gitconfig");
      const b = await rig.sh(bob, B.id, 'git config --global --get alias.planted; echo rc=$?; ls -A ~; git status --porcelain >/dev/null; echo home=$HOME\n', { gitEnv: true });
      assert.doesNotMatch(b.stdout, /PROFILE-PAYLOAD-FROM-A|touch/, b.stdout);
      assert.match(b.stdout, /rc=1/);
      assert.equal(/home=(.*)/.exec(b.stdout)?.[1], /home=(.*)/.exec(a.stdout)?.[1], 'the same HOME path, a different directory behind it');
      assert.ok(!fs.existsSync(marker) && !fs.existsSync(`${B.path}/fsmonitor-ran`));
    });

    it('break 8: one uid, yet A cannot see or signal B\'s processes nor read its /tmp; setsid -f does not outlive the shell', async () => {
      const marker = `62${process.pid}`;
      const started = await rig.h.request('start', { user_id: bob.id, worktree_id: B.id, input: `umask 077; echo bob-secret > /tmp/secret; sleep ${marker} & echo ready\nexec sleep 600\n` });
      assert.ok(started.ok, started.error);
      await until(async () => (processesWith(`sleep ${marker}`).length === 1) || undefined, "B's job");
      const victim = processesWith(`sleep ${marker}`)[0]!;
      assert.equal(fs.statSync(`/proc/${victim}`).uid, fx.uid(fx.executorUser), 'the same uid as A will have');
      const r = await rig.sh(alice, A.id, [`kill -9 ${victim}; echo kill=$?`, `pgrep -f ${marker}; echo pgrep=$?`, 'cat /tmp/secret; echo cat=$?', 'ls /proc | grep -c "^[0-9]"'].join('\n') + '\n');
      assert.match(r.stdout, /kill=1/);
      assert.match(r.stdout, /pgrep=1/);
      assert.match(r.stdout, /cat=1/);
      assert.doesNotMatch(r.stdout, /bob-secret/);
      assert.ok(isAlive(victim), "B's process survived");
      await rig.h.request('stop', { handle: startedHandle(started), grace_ms: 1000 });
      // setsid -f: a keeper in a session of its own, left behind by a shell that exits at once.
      const keeper = `63${process.pid}`;
      const k = await rig.sh(alice, A.id, `setsid -f sleep ${keeper}\nexit 0\n`);
      assert.equal(k.code, 0, k.stderr);
      await until(async () => (processesWith(`sleep ${keeper}`).length === 0) || undefined, 'the setsid -f keeper to be gone with its sandbox');
    });

    it('deleting a worktree removes its directory, its group and its entry on the repository', async () => {
      const C = await rig.worktree(alice, 'c-temp');
      const r = await rig.sh(alice, C.id, 'echo x >> README.md\n');
      assert.equal(r.code, 0, r.stderr);
      assert.ok(readGroups().has(C.unix_group));
      await alice.api.call('DELETE', `worktrees/${C.id}?force=true`);
      assert.ok(!readGroups().has(C.unix_group), 'the group is gone');
      assert.ok(!fs.existsSync(C.path), 'the directory is gone');
      const acl = spawnSync('getfacl', ['-p', `${fx.worktreesRoot}/repos/proj-insulated/.git`], { encoding: 'utf8' }).stdout;
      assert.doesNotMatch(acl, new RegExp(C.unix_group));
    });

    it('deleting a worktree that holds directories made by the executing identity', async () => {
      const C = await rig.worktree(alice, 'c-made');
      await rig.sh(alice, C.id, 'mkdir made-by-executor && echo x > made-by-executor/f\n');
      await alice.api.call('DELETE', `worktrees/${C.id}?force=true`);
      assert.ok(!readGroups().has(C.unix_group), 'the group is gone');
      assert.ok(!fs.existsSync(C.path), 'the directory is gone');
    });

    it('kill -9 of the daemon leaves no process of it running', async () => {
      const started = await rig.h.request('start', { user_id: alice.id, worktree_id: A.id, input: 'echo ready\n' });
      assert.ok(started.ok, started.error);
      const tree = processTree(rig.h.pid).filter((p) => p !== rig.h.pid);
      assert.ok(tree.length >= 3, `sudo, bwrap and the shell run below the daemon (${tree.join(',')})`);
      process.kill(rig.h.pid, 'SIGKILL');
      await waitGone(tree);
    });
  });

  describe('strict', () => {
    const rig = new ModeRig(fx, 'strict');
    let alice: Person;
    let bob: Person;
    let carol: Person;
    let S: { id: string; path: string; unix_group: string };
    let P: { id: string; path: string; unix_group: string };
    let Bw: { id: string; path: string; unix_group: string };

    before(async () => {
      await rig.start();
      alice = await rig.person('alice');
      bob = await rig.person('bob');
      carol = await rig.person('carol', { unix: false });
      S = await rig.worktree(alice, 's-shared', { others_can: 'session', others_fs_access: 'none' });
      P = await rig.worktree(alice, 'p-private');
      Bw = await rig.worktree(bob, 'b-own');
    });
    after(() => rig.h?.stop());

    it('creating a user with unix_username creates its account through agor-priv', () => {
      assert.ok(fx.uid(alice.unix!) >= 1000);
      assert.ok(fx.uid(bob.unix!) >= 1000);
    });

    it('the group holds exactly the users who may run sessions there and have an account', () => {
      assert.deepEqual(members(S.unix_group), [alice.unix!, bob.unix!].sort(), 'owner alice, bob by tier session; carol has no account');
      assert.deepEqual(members(P.unix_group), [alice.unix!], 'others_can none: the owner only');
      assert.deepEqual(members(Bw.unix_group), [bob.unix!]);
    });

    it("a process runs as its creator's own account, with its primary group and the worktree's group only", async () => {
      const id = await hostIdsOf(rig, bob, S.id);
      assert.equal(id.uid, fx.uid(bob.unix!));
      assert.equal(id.gid, fx.gid(bob.unix!));
      assert.deepEqual(id.groups, [fx.gid(S.unix_group)], 'its only supplementary group: not agor_users, not his own worktree Bw');
    });

    it("break 5 (OS side): a running shell in one worktree never carries another worktree's group", async () => {
      // Alice may run sessions in Bw too (bob shares it), so her account is in both groups...
      await bob.api.call('PATCH', `worktrees/${Bw.id}`, { others_can: 'session' });
      try {
        assert.ok(members(Bw.unix_group).includes(alice.unix!));
        fs.writeFileSync(`${fx.base}/probe-bw-gid`, 'readable by the Bw group only\n');
        fs.chownSync(`${fx.base}/probe-bw-gid`, 0, fx.gid(Bw.unix_group));
        fs.chmodSync(`${fx.base}/probe-bw-gid`, 0o040);
        // ...but her shell in P carries P's group only: it cannot use Bw's gid, even before any revocation.
        const { groups } = await hostIdsOf(rig, alice, P.id);
        assert.deepEqual(groups, [fx.gid(P.unix_group)], 'the only supplementary group');
        assert.ok(!groups.includes(fx.gid(Bw.unix_group)), `groups ${groups}`);
        // The file itself is hidden in the sandbox anyway; the gid is what a bind or a leak would need.
        const r = await rig.sh(alice, P.id, `cat ${fx.base}/probe-bw-gid; echo rc=$?\n`);
        assert.match(r.stdout, /rc=1/);
        assert.doesNotMatch(r.stdout, /readable by the Bw group only/);
      } finally {
        await bob.api.call('PATCH', `worktrees/${Bw.id}`, { others_can: 'none' });
        fs.rmSync(`${fx.base}/probe-bw-gid`, { force: true });
      }
    });

    it('break 2: a nested repository planted in a shared worktree never runs its filter as the next identity running git', async () => {
      const ran = `${S.path}/filter-ran`;
      const plant = [
        'set -e',
        'unset GIT_DIR GIT_COMMON_DIR GIT_WORK_TREE',
        'rm -rf nested && git init -q nested && cd nested',
        `git config filter.evil.clean 'touch ${ran}-as-$(id -un); cat'`,
        `git config filter.evil.smudge cat`,
        "echo '* filter=evil' > .gitattributes",
        'echo one > f && git add . && git -c user.name=a -c user.email=a@x.invalid commit -qm nested',
        'echo two > f',
        'chmod -R g+rwX .',
      ].join('\n') + '\n';
      const planted = await rig.sh(alice, S.id, plant);
      assert.equal(planted.code, 0, planted.stderr);
      // The gitlink in the shared worktree's index: git now treats nested/ as a submodule.
      const added = await rig.sh(alice, S.id, 'git add nested 2>&1; git ls-files -s nested\n', { gitEnv: true });
      assert.match(added.stdout, /^160000 /m, added.stdout + added.stderr);
      for (const f of fs.readdirSync(S.path).filter((n) => n.startsWith('filter-ran'))) fs.rmSync(`${S.path}/${f}`);
      const r = await rig.sh(bob, S.id, 'git status; git diff --stat; echo rc=$?\n', { gitEnv: true });
      assert.match(r.stdout, /rc=0/, r.stderr);
      assert.deepEqual(fs.readdirSync(S.path).filter((n) => n.startsWith('filter-ran')), [], "bob's git never ran alice's filter");
      const cleanup = await rig.sh(alice, S.id, 'git rm -q --cached nested; rm -rf nested\n', { gitEnv: true });
      assert.equal(cleanup.code, 0, cleanup.stderr);
    });

    it("files made by one identity are usable by another legitimate identity's next session", async () => {
      let r = await rig.sh(alice, S.id, 'set -e\necho one > shared.txt\nmkdir -p dir\necho a > dir/a.txt\n');
      assert.equal(r.code, 0, r.stderr);
      r = await rig.sh(bob, S.id, 'set -e\necho two >> shared.txt\necho b > dir/b.txt\nrm dir/a.txt\ncat shared.txt\n');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'one\ntwo\n');
    });

    it('git commit works as each identity in the shared worktree', async () => {
      for (const who of [alice, bob]) {
        const r = await rig.sh(who, S.id, `set -e\necho ${who.email} >> README.md\ngit add -A\ngit -c user.name=x -c user.email=${who.email} commit -qm "by ${who.email}"\ngit log --format=%s -1\n`, { gitEnv: true });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`by ${who.email}`));
      }
    });

    // A worktree is its own repository now: its .git (config included) is shared by the identities
    // of that one worktree, and by no other worktree's. One identity's planted fsmonitor or hooks are
    // not run by another identity's git there: every identity's git is pinned (daemon/priv/sandbox.ts).
    it("git config planted by one identity in a shared worktree is not run by another's git", async () => {
      const marker = `${fx.base}/planted-ran`;
      const plant = [
        'set -e',
        `git config core.fsmonitor 'touch ${marker}; false'`,
        `mkdir -p .git/evil-hooks && printf '#!/bin/sh\\ntouch ${marker}\\n' > .git/evil-hooks/pre-commit && chmod +x .git/evil-hooks/pre-commit`,
        'git config core.hooksPath "$PWD/.git/evil-hooks"',
      ].join('\n') + '\n';
      const planted = await rig.sh(bob, S.id, plant, { gitEnv: true });
      assert.equal(planted.code, 0, planted.stderr);
      try {
        const r = await rig.sh(alice, S.id, `set -e\necho planted >> README.md\ngit status --porcelain >/dev/null\ngit add README.md\ngit -c user.name=a -c user.email=a@x.invalid commit -qm after-plant\ngit log --format=%s -1\n`, { gitEnv: true });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /after-plant/);
        assert.ok(!fs.existsSync(marker), 'none of the planted commands ran');
      } finally {
        // Put the config back for the tests that follow (the daemon never reads it).
        const fixed = await rig.sh(alice, S.id, 'git config --unset core.fsmonitor; git config --unset core.hooksPath; rm -rf .git/evil-hooks\n', { gitEnv: true });
        assert.equal(fixed.code, 0, fixed.stderr);
      }
    });

    it("cannot read a private worktree, another person's home or the daemon's AGOR_HOME", async () => {
      const aliceHome = `/home/${alice.unix}`;
      const r = await rig.sh(bob, S.id, [`cat ${P.path}/README.md`, `ls ${aliceHome}`, `cat ${rig.agorHome}/agor.db`, `cat ${rig.agorHome}/jwt.key`, 'echo done'].join('\n') + '\n');
      assert.equal(r.stdout, 'done\n');
      assert.equal(r.stderr.split('\n').filter((l) => HIDDEN.test(l)).length, 4, r.stderr);
    });

    it('a creator without a Unix account is refused and nothing runs', async () => {
      const marker = `${fx.base}/carol-ran`;
      const reply = await rig.h.request('run', { user_id: carol.id, worktree_id: S.id, input: `touch ${marker}\n` });
      assert.equal(reply.ok, false);
      assert.equal(reply.refused, true);
      assert.match(String(reply.error), /no(ne| Unix account)|has none/i);
      assert.ok(!fs.existsSync(marker), 'nothing ran');
    });

    it('a tier drop removes the membership, and the next process lacks the group', async () => {
      await alice.api.call('PATCH', `worktrees/${S.id}`, { others_can: 'view' });
      assert.deepEqual(members(S.unix_group), [alice.unix!]);
      const ids = await rig.sh(bob, Bw.id, ID);
      assert.equal(ids.code, 0, ids.stderr);
      assert.ok(!idOf(ids.stdout).groups.includes(fx.gid(S.unix_group)), 'the next process lacks the group');
      const r = await rig.sh(bob, Bw.id, `cat ${S.path}/shared.txt; echo rc=$?\n`);
      assert.match(r.stdout, /rc=1/);
      await alice.api.call('PATCH', `worktrees/${S.id}`, { others_can: 'session' });
      assert.deepEqual(members(S.unix_group), [alice.unix!, bob.unix!].sort());
    });

    it('owners, roles, disabling and unlinking move memberships at once', async () => {
      await alice.api.call('POST', `worktrees/${P.id}/owners`, { user_id: bob.id });
      assert.deepEqual(members(P.unix_group), [alice.unix!, bob.unix!].sort(), 'a new owner joins');
      await alice.api.call('DELETE', `worktrees/${P.id}/owners/${bob.id}`);
      assert.deepEqual(members(P.unix_group), [alice.unix!], 'a removed owner leaves');
      await rig.owner.call('PATCH', `users/${bob.id}`, { role: 'viewer' });
      assert.deepEqual(members(S.unix_group), [alice.unix!], 'viewers never run sessions');
      await rig.owner.call('PATCH', `users/${bob.id}`, { role: 'member' });
      await rig.owner.call('PATCH', `users/${bob.id}`, { disabled: true });
      assert.deepEqual(members(S.unix_group), [alice.unix!], 'disabled users leave every group');
      await rig.owner.call('PATCH', `users/${bob.id}`, { disabled: false });
      assert.deepEqual(members(S.unix_group), [alice.unix!, bob.unix!].sort());
    });

    it('an invalid unix_username is refused with 400 and nothing changes', async () => {
      for (const bad of ['root', fx.daemonUser, fx.executorUser, 'agor_$(id)', 'agor_a;b', fx.usersGroup]) {
        const result = await status(rig.owner.call('PATCH', `users/${carol.id}`, { unix_username: bad }));
        assert.match(result, /^400 BadRequest/, `${bad}: ${result}`);
      }
      const me = await rig.owner.call('GET', `users/${carol.id}`);
      assert.equal(me.unix_username, null);
    });

    it('admin sync-unix: a dry run changes nothing, a run repairs drift, a second run has nothing to do', async () => {
      assert.equal(spawnSync('/usr/bin/gpasswd', ['-d', bob.unix!, S.unix_group]).status, 0);
      const dry = await rig.owner.call('POST', 'unix-sync', { dry_run: true });
      assert.ok(dry.actions.some((a: any) => a.action === 'set-group-members' && a.target === S.unix_group && a.status === 'planned'));
      assert.deepEqual(members(S.unix_group), [alice.unix!]);
      const run = await rig.owner.call('POST', 'unix-sync', { dry_run: false });
      assert.equal(run.failed, 0, JSON.stringify(run.actions));
      assert.deepEqual(members(S.unix_group), [alice.unix!, bob.unix!].sort());
      const again = await rig.owner.call('POST', 'unix-sync', { dry_run: true });
      assert.deepEqual(again.actions.filter((a: any) => a.action === 'set-group-members' || a.action === 'ensure-group' || a.action === 'ensure-user'), []);
      assert.match(await status(alice.api.call('POST', 'unix-sync', { dry_run: false })), /^403/);
    });

    it('when the OS cannot follow a change, the call fails with the reason and the change is undone', async () => {
      // Take the sudo rule away (inside the suite's namespace only): agor-priv becomes unreachable.
      assert.equal(fx.run(['/bin/mv', '/etc/sudoers.d/agor', '/etc/sudoers.d/agor.off']).status, 0);
      try {
        const result = await status(alice.api.call('PATCH', `worktrees/${S.id}`, { others_can: 'view' }));
        assert.match(result, /^503 Unavailable: .*undone.*sudo.*sudoers rule/);
        const after = await alice.api.call('GET', `worktrees/${S.id}`);
        assert.equal(after.others_can, 'session', 'the tier change was undone');
        assert.deepEqual(members(S.unix_group), [alice.unix!, bob.unix!].sort());
        const events = await rig.owner.call('GET', 'audit?action=unix.sync_failed');
        assert.ok((events.data ?? events).length >= 1, 'the failure is audited');
      } finally {
        assert.equal(fx.run(['/bin/mv', '/etc/sudoers.d/agor.off', '/etc/sudoers.d/agor']).status, 0);
      }
    });

    it('the CLI: user create --unix, user link-unix, admin sync-unix --dry-run', async () => {
      const cli = (args: string[]) => {
        const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), '--url', rig.h.url, ...args], {
          encoding: 'utf8',
          env: { PATH: process.env.PATH, HOME: fx.base, AGOR_HOME: `${fx.base}/cli-home`, AGOR_API_KEY: rig.owner.token },
          input: 'dora-password-1\n',
        });
        return { code: r.status, out: r.stdout + r.stderr };
      };
      const dora = fx.person('dora');
      let r = cli(['user', 'create', '--email', 'dora@unix.test', '--password-stdin', '--unix', '--unix-name', dora]);
      assert.equal(r.code, 0, r.out);
      assert.ok(fx.uid(dora) >= 1000, 'the account exists');
      r = cli(['user', 'link-unix', 'carol@unix.test', fx.person('carol')]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, new RegExp(`unix_username: ${fx.person('carol')}`));
      assert.ok(fx.uid(fx.person('carol')) >= 1000);
      r = cli(['user', 'link-unix', 'carol@unix.test', 'agor_a;b']);
      assert.equal(r.code, 1);
      assert.match(r.out, /unix_username: "agor_a;b" must match/);
      r = cli(['admin', 'sync-unix', '--dry-run']);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /mode: strict \(dry run: nothing was changed\)/);
      // carol and dora now hold accounts and others_can is session: they join S at once.
      assert.deepEqual(members(S.unix_group), [alice.unix!, bob.unix!, fx.person('carol'), dora].sort());
    });

    it('a daemon refuses to start without the sudo rule, or with worktrees inside AGOR_HOME, saying how to fix it', async () => {
      const home = `${fx.daemonHome}/agor-refused`;
      fs.mkdirSync(home, { mode: 0o700 });
      const attempt = async (dataDir: string) => {
        const config = { daemon: { host: '127.0.0.1', port: 0, data_dir: dataDir }, execution: { worktree_rbac: true, unix_user_mode: 'strict', executor_unix_user: fx.executorUser }, security: { allow_plaintext_secrets: true } };
        fs.writeFileSync(`${home}/config.yaml`, stringify(config), { mode: 0o600 });
        spawnSync('chown', ['-R', `${fx.daemonUser}:`, home]);
        const h = new DaemonHarness(fx, home, `${home}/config.yaml`);
        try {
          await h.init(OWNER.email, OWNER.password);
          return 'started';
        } catch (error) {
          return (error as Error).message;
        } finally {
          await h.stop();
        }
      };
      assert.equal(fx.run(['/bin/mv', '/etc/sudoers.d/agor', '/etc/sudoers.d/agor.off']).status, 0);
      try {
        assert.match(await attempt(fx.worktreesRoot), /strict mode cannot start: sudo rule: `sudo -n -l \/usr\/local\/libexec\/agor\/agor-priv` fails for .*Fix: install the sudoers rule/);
      } finally {
        assert.equal(fx.run(['/bin/mv', '/etc/sudoers.d/agor.off', '/etc/sudoers.d/agor']).status, 0);
      }
      assert.match(await attempt(`${home}/data`), /data dir: worktrees live in .* inside AGOR_HOME .*Fix: set daemon\.data_dir/);
    });

    it('deleting a worktree shared by several identities removes its group and its entry on the repository', async () => {
      await alice.api.call('DELETE', `worktrees/${S.id}?force=true`);
      assert.ok(!readGroups().has(S.unix_group));
      const acl = spawnSync('getfacl', ['-p', `${fx.worktreesRoot}/repos/proj-strict/.git`], { encoding: 'utf8' }).stdout;
      assert.doesNotMatch(acl, new RegExp(S.unix_group));
    });
  });
});

/**
 * The credentials of a process `who` runs in `worktreeId`, as the host sees them (inside the sandbox
 * an unmapped group shows as 65534): a started shell's job, found by its command line.
 */
async function hostIdsOf(rig: ModeRig, who: Person, worktreeId: string): Promise<{ uid: number; gid: number; groups: number[] }> {
  const marker = `64${process.pid}${Math.floor(Math.random() * 1e6)}`;
  const started = await rig.h.request('start', { user_id: who.id, worktree_id: worktreeId, input: `echo ready\nexec sleep ${marker}\n` });
  assert.ok(started.ok, started.error);
  try {
    const pid = await until(async () => processesWith(`sleep ${marker}`)[0], 'the probe');
    return hostCredentials(pid);
  } finally {
    await rig.h.request('stop', { handle: startedHandle(started), grace_ms: 1000 });
  }
}

function startedHandle(reply: { id?: number }): number {
  return reply.id as number;
}

async function waitGone(pids: number[], ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const alive = pids.filter(isAlive);
    if (alive.length === 0) return;
    if (Date.now() > deadline) {
      const shown = alive.map((p) => `${p}:${cmdline(p)}`);
      assert.fail(`still running after ${ms} ms: ${shown.join('; ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
