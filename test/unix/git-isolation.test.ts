// Git and deletion across identities, end to end (issue 13, breaks 1, 3 and 7): a worktree is its
// own repository reading the mirror's objects and writing nothing shared; a nested repository an
// identity plants never runs as the daemon when the worktree is deleted; and a directory swapped for
// a symlink to root's files while the worktree is deleted never redirects the deletion.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { unixSuite, type UnixFixture } from './fixture.js';
import { Rig, type Person, type Worktree } from './rig.js';

interface Shell {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function sh(rig: Rig, who: Person, worktreeId: string, script: string): Promise<Shell> {
  const reply = await rig.h.request('run', { user_id: who.id, worktree_id: worktreeId, input: script, timeout_ms: 60_000, git_env: true });
  if (!reply.ok) throw new Error(`run refused: ${reply.error}`);
  return reply as unknown as Shell;
}

/** Plants a committed nested repository whose own config (and the worktree's) name a clean filter writing `marker`. */
function nestedRepositoryScript(marker: string): string {
  const filter = `sh -c 'id -un >> ${marker}; cat'`;
  return [
    'set -e',
    'export GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@x.invalid GIT_COMMITTER_NAME=a GIT_COMMITTER_EMAIL=a@x.invalid',
    'mkdir nested && cd nested',
    '(unset GIT_DIR GIT_COMMON_DIR GIT_WORK_TREE; git init -q -b main . && echo inner > inner.txt && echo "* filter=x" > .gitattributes && git add -A && git commit -qm nested)',
    'cd ..',
    'echo "* filter=x" > .gitattributes',
    'git add .gitattributes nested && git commit -qm "a nested repository"',
    `(unset GIT_DIR GIT_COMMON_DIR GIT_WORK_TREE; cd nested && git config filter.x.clean "${filter}")`,
    `git config filter.x.clean "${filter}"`,
    'echo changed > nested/inner.txt',
    'git status --porcelain',
    'echo planted',
  ].join('\n') + '\n';
}

function mirrorOf(fx: UnixFixture, rig: Rig): string {
  return `${fx.worktreesRoot}/repos/proj-${rig.options.tag}-${rig.mode}/.git`;
}

unixSuite('unix git isolation: own repositories, nothing planted runs, no deletion through a symlink', (fx) => {
  for (const mode of ['insulated', 'strict'] as const) {
    describe(mode, () => {
      const rig = new Rig(fx, mode, { tag: 'git', stopGraceSeconds: 3 });
      let alice: Person;
      let bob: Person;
      let A: Worktree;
      let B: Worktree;
      const markers = `${fx.base}/git-markers-${mode}`;

      before(async () => {
        await rig.start();
        alice = await rig.person('alice', mode === 'strict');
        bob = await rig.person('bob', mode === 'strict');
        A = await rig.worktree(alice, 'a-own');
        B = await rig.worktree(bob, 'b-own');
        fs.mkdirSync(markers, { recursive: true });
        fs.chmodSync(markers, 0o1777);
      });
      after(() => rig.stop());

      it("its identity reads the mirror's objects through its own repository, and writes nothing of the mirror's or another worktree's git", async () => {
        const mirror = mirrorOf(fx, rig);
        const attempts = [
          `touch ${mirror}/refs/heads/planted`,
          `echo x >> ${mirror}/logs/HEAD`,
          `ls ${mirror}/refs/heads`,
          `echo x >> ${mirror}/config`,
          `touch ${mirror}/objects/planted`,
          `touch ${mirror}/objects/pack/planted`,
          `echo x >> ${B.path}/.git/config`,
          `ls ${B.path}/.git/refs`,
        ];
        const script = ['set +e', 'git log --format=%s -1', 'git cat-file -e HEAD^{tree} && echo objects-readable', ...attempts.map((a, i) => `${a} 2>/dev/null && echo "wrote-${i}"`), 'echo change >> README.md', 'git add README.md', 'git -c user.name=a -c user.email=a@x.invalid commit -qm mine && git rev-parse HEAD'].join('\n') + '\n';
        const r = await sh(rig, alice, A.id, script);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^initial$/m, 'git log reads the borrowed objects');
        assert.match(r.stdout, /objects-readable/);
        assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('wrote-')).map((l) => attempts[Number(l.slice(6))]), [], 'nothing shared was writable or listable');
        const commit = r.stdout.trim().split('\n').pop()!;
        assert.match(commit, /^[0-9a-f]{40}$/);
        assert.ok(!fs.existsSync(`${mirror}/objects/${commit.slice(0, 2)}/${commit.slice(2)}`), 'the commit stays in the worktree');
        assert.ok(!fs.existsSync(`${mirror}/refs/heads/${A.id}`) && !fs.existsSync(`${mirror}/refs/heads/a-own`), 'its branch is not in the mirror');
        const st = fs.statSync(`${mirror}/objects`);
        assert.equal(st.mode & 0o022, 0, 'the mirror\'s object store is writable by nobody else');
      });

      it("a new worktree's base: another identity's private branch is refused, a viewable one is copied (as the daemon, from that worktree's own repository)", async () => {
        const V = await rig.worktree(alice, 'v-shared', 'view');
        const commit = await sh(rig, alice, V.id, 'set -e\necho visible > shared.txt\ngit add shared.txt\ngit -c user.name=a -c user.email=a@x.invalid commit -qm shared\n');
        assert.equal(commit.code, 0, commit.stderr);
        const secret = await sh(rig, alice, A.id, 'set -e\necho secret > secret.txt\ngit add secret.txt\ngit -c user.name=a -c user.email=a@x.invalid commit -qm secret\n');
        assert.equal(secret.code, 0, secret.stderr);
        const refused = await bob.call('POST', 'worktrees', { repo_id: rig.repoId, name: 'from-secret', base: 'a-own', others_can: 'none', others_fs_access: 'none' }).catch((e: Error) => e);
        assert.match(String((refused as Error).message), /400 Invalid data: "base": .* is not a branch you may see/);
        const W = await bob.call('POST', 'worktrees', { repo_id: rig.repoId, name: 'from-shared', base: 'v-shared', others_can: 'none', others_fs_access: 'none' });
        fx.groupsSeen.add(W.unix_group);
        const r = await sh(rig, bob, W.id, 'cat shared.txt; ls secret.txt 2>&1; git log --format=%s -1\n');
        assert.match(r.stdout, /^visible$/m);
        assert.match(r.stdout, /No such file/);
        assert.match(r.stdout, /^shared$/m);
      });

      it('deleting the worktree without force never runs a filter of a nested repository planted in it', async () => {
        const C = await rig.worktree(bob, 'c-nested');
        const marker = `${markers}/nested-filter-ran`;
        const planted = await sh(rig, bob, C.id, nestedRepositoryScript(marker));
        assert.equal(planted.code, 0, planted.stderr);
        assert.match(planted.stdout, /planted/);
        fs.rmSync(marker, { force: true }); // the identity's own git may have run it while planting
        await bob.call('DELETE', `worktrees/${C.id}`);
        assert.ok(!fs.existsSync(C.path), 'the worktree was deleted (its nested changes are not "uncommitted changes")');
        assert.ok(!fs.existsSync(marker), `the planted filter ran: ${fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : ''}`);
      });

      it("deleting a worktree while its identity swaps a directory with a symlink to root's files removes nothing outside it (bounded attempts)", { skip: process.arch === 'x64' ? false : 'the swapper uses the x86_64 renameat2 syscall number' }, async () => {
        const precious = `${fx.base}/root-precious-${mode}`;
        fs.mkdirSync(precious, { recursive: true, mode: 0o755 });
        const names = Array.from({ length: 30 }, (_, i) => `f${i}`);
        for (const n of names) fs.writeFileSync(`${precious}/${n}`, `root's ${n}\n`);
        const intact = () => names.every((n) => fs.existsSync(`${precious}/${n}`) && fs.readFileSync(`${precious}/${n}`, 'utf8') === `root's ${n}\n`);
        let swaps = 0;
        for (let attempt = 0; attempt < 4; attempt++) {
          const W = await rig.worktree(alice, `race-${attempt}`);
          const swapper = [
            'mkdir d && cd d',
            `for n in ${names.join(' ')}; do echo mine > $n; done`,
            'for i in 1 2 3 4 5 6 7 8; do mkdir -p s$i/deeper; done',
            'cd ..',
            `ln -s ${precious} l`,
            'echo ready',
            // Prints how many swaps succeeded as it goes: the sandbox is SIGKILLed when stopped (no
            // chance for a last word) and shows nothing outside the worktree it could write to.
            `exec perl -e '$|=1; my ($a,$b,$n)=@ARGV; my $ok=0; for my $i (1..$n) { $ok++ if syscall(316,-100,$a,-100,$b,2)==0; print "$ok\\n" if $i % 2000 == 0 } print "$ok\\n";' ${W.path}/d ${W.path}/l 3000000`,
          ].join('\n') + '\n';
          const started = await rig.h.request('start', { user_id: alice.id, worktree_id: W.id, input: swapper });
          assert.ok(started.ok, String(started.error));
          // The deletion ends the worktree's tasks and terminals; this process escaped both (like a
          // `setsid -f` keeper), so it is still swapping while agor-priv walks the tree.
          await alice.call('DELETE', `worktrees/${W.id}?force=true`).catch(() => undefined);
          const stopped = await rig.h.request('stop', { handle: started.id, grace_ms: 2000 });
          swaps += Math.max(0, ...String(stopped.out ?? '').split('\n').filter((l) => /^\d+$/.test(l)).map(Number));
          if (fs.existsSync(W.path)) await alice.call('DELETE', `worktrees/${W.id}?force=true`).catch(() => undefined);
          assert.ok(intact(), `attempt ${attempt}: root's files outside the worktree are untouched`);
        }
        console.log(`# ${mode}: ${swaps} swaps during 4 deletions`);
        assert.ok(swaps > 0, 'the swapper really swapped');
      });
    });
  }
});
