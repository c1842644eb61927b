import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ValidationError, WorktreeDirtyError } from './errors.js';
import { listBranches } from './repos.js';
import { addWorktree, removeWorktree, worktreeIsDirty } from './worktrees.js';
import { cleanupTempDirs, commitFiles, makeRepo, plainGit, tempDir } from './test-support.js';

after(cleanupTempDirs);

function setup() {
  const root = tempDir();
  const repo = makeRepo(path.join(root, 'repo'), { 'a.txt': 'a\n' });
  const first = plainGit(repo, 'rev-parse', 'HEAD').trim();
  commitFiles(repo, { 'b.txt': 'b\n' }, 'second');
  const head = plainGit(repo, 'rev-parse', 'HEAD').trim();
  const wts = path.join(root, 'worktrees');
  fs.mkdirSync(wts);
  return { root, repo, wts, first, head };
}

describe('addWorktree', () => {
  it('creates a new branch from HEAD', async () => {
    const { repo, wts, head } = setup();
    const added = await addWorktree(repo, path.join(wts, 'one'), { branch: 'feature/one', createBranch: true });
    assert.deepEqual(added, { path: path.join(wts, 'one'), branch: 'feature/one', head });
    assert.equal(plainGit(added.path, 'symbolic-ref', 'HEAD').trim(), 'refs/heads/feature/one');
    assert.ok(fs.existsSync(path.join(added.path, 'b.txt')));
    // Its own repository: the branch is there, not in the mirror, and objects are borrowed.
    assert.equal((await listBranches(repo)).includes('feature/one'), false);
    assert.ok(fs.statSync(path.join(added.path, '.git')).isDirectory());
    assert.equal(fs.readFileSync(path.join(added.path, '.git', 'objects', 'info', 'alternates'), 'utf8'), `${path.join(repo, '.git', 'objects')}\n`);
    assert.equal(fs.existsSync(path.join(repo, '.git', 'worktrees')), false, 'the mirror has no linked worktree');
  });

  it('creates a new branch from a base', async () => {
    const { repo, wts, first } = setup();
    const added = await addWorktree(repo, path.join(wts, 'old'), { branch: 'old', createBranch: true, base: 'HEAD~1' });
    assert.equal(added.head, first);
    assert.equal(fs.existsSync(path.join(added.path, 'b.txt')), false);
  });

  it('checks out an existing branch', async () => {
    const { repo, wts, head } = setup();
    plainGit(repo, 'branch', 'existing');
    const added = await addWorktree(repo, path.join(wts, 'ex'), { branch: 'existing', createBranch: false });
    assert.equal(added.head, head);
    assert.equal(plainGit(added.path, 'symbolic-ref', 'HEAD').trim(), 'refs/heads/existing');
  });

  it('refuses a target that exists', async () => {
    const { repo, wts } = setup();
    fs.mkdirSync(path.join(wts, 'taken'));
    await assert.rejects(addWorktree(repo, path.join(wts, 'taken'), { branch: 'x', createBranch: true }), (e: unknown) => (e as { code?: number }).code === 409 && /already exists/.test((e as Error).message));
  });

  for (const bad of ['../x', '../../etc/x', 'has space', '-rf', '.hidden', 'a..b', 'x/..', 'a;b']) {
    it(`refuses the worktree name ${JSON.stringify(bad)} and creates nothing`, async () => {
      const { repo, wts, root } = setup();
      const before = fs.readdirSync(root).sort();
      await assert.rejects(addWorktree(repo, `${wts}/${bad}`, { branch: 'ok', createBranch: true }), ValidationError);
      assert.deepEqual(fs.readdirSync(wts), []);
      assert.deepEqual(fs.readdirSync(root).sort(), before);
      assert.equal(fs.existsSync(path.join(repo, '.git', 'worktrees')), false);
      assert.deepEqual(await listBranches(repo), ['main']);
    });
  }

  for (const bad of ['-rf', 'a b', 'a..b', 'HEAD', 'x.lock', '--orphan']) {
    it(`refuses the branch name ${JSON.stringify(bad)} and creates nothing`, async () => {
      const { repo, wts } = setup();
      await assert.rejects(addWorktree(repo, path.join(wts, 'w'), { branch: bad, createBranch: true }), ValidationError);
      assert.deepEqual(fs.readdirSync(wts), []);
    });
  }

  it('refuses a base that is not a commit, or looks like an option', async () => {
    const { repo, wts } = setup();
    await assert.rejects(addWorktree(repo, path.join(wts, 'w'), { branch: 'b', createBranch: true, base: 'no-such' }), /not a commit/);
    await assert.rejects(addWorktree(repo, path.join(wts, 'w'), { branch: 'b', createBranch: true, base: '--orphan' }), /starts with "-"/);
    await assert.rejects(addWorktree(repo, path.join(wts, 'w'), { branch: 'b', createBranch: true, base: 'HEAD:a.txt' }), /not a commit/);
    assert.deepEqual(fs.readdirSync(wts), []);
  });

  it('refuses to create a branch that exists, or check out one that does not', async () => {
    const { repo, wts } = setup();
    await assert.rejects(addWorktree(repo, path.join(wts, 'w'), { branch: 'main', createBranch: true }), (e: unknown) => (e as { code?: number }).code === 409);
    await assert.rejects(addWorktree(repo, path.join(wts, 'w'), { branch: 'nope', createBranch: false }), /no branch named nope/);
    await assert.rejects(addWorktree(repo, path.join(wts, 'w'), { branch: 'main', createBranch: false, base: 'HEAD' }), /only applies when creating/);
  });

  it('holds only its own branch: no other branch of the mirror, no other worktree\'s', async () => {
    const { repo, wts } = setup();
    plainGit(repo, 'branch', 'other');
    const a = await addWorktree(repo, path.join(wts, 'a'), { branch: 'a', createBranch: true });
    commitFiles(a.path, { 'secret.txt': 'of a\n' }, 'a private commit');
    const b = await addWorktree(repo, path.join(wts, 'b'), { branch: 'b', createBranch: true });
    assert.equal(plainGit(b.path, 'for-each-ref', '--format=%(refname)').trim(), 'refs/heads/b');
    const aHead = plainGit(a.path, 'rev-parse', 'HEAD').trim();
    assert.notEqual(spawnSync('git', ['-C', b.path, 'cat-file', '-e', aHead]).status, 0, "a's commit is not reachable from b");
  });

  it('starts a branch from another worktree\'s branch when asked (baseWorktree), copying only that branch', async () => {
    const { repo, wts } = setup();
    const a = await addWorktree(repo, path.join(wts, 'a'), { branch: 'a', createBranch: true });
    commitFiles(a.path, { 'shared.txt': 'from a\n' }, 'work of a');
    const aHead = plainGit(a.path, 'rev-parse', 'HEAD').trim();
    const c = await addWorktree(repo, path.join(wts, 'c'), { branch: 'c', createBranch: true, baseWorktree: { path: a.path, branch: 'a' } });
    assert.equal(c.head, aHead);
    assert.equal(fs.readFileSync(path.join(c.path, 'shared.txt'), 'utf8'), 'from a\n');
    assert.equal(plainGit(c.path, 'for-each-ref', '--format=%(refname)').trim(), 'refs/heads/c');
  });

  it('refuses a relative worktree path or a missing parent', async () => {
    const { repo, wts } = setup();
    await assert.rejects(addWorktree(repo, 'relative/w', { branch: 'b', createBranch: true }), /absolute path/);
    await assert.rejects(addWorktree(repo, path.join(wts, 'missing', 'w'), { branch: 'b', createBranch: true }), /does not exist/);
  });
});

describe('worktreeIsDirty and removeWorktree', () => {
  async function withWorktree() {
    const s = setup();
    const wt = (await addWorktree(s.repo, path.join(s.wts, 'w'), { branch: 'w', createBranch: true })).path;
    return { ...s, wt };
  }

  it('sees modified, staged and untracked files, and not ignored ones', async () => {
    const { repo, wt } = await withWorktree();
    assert.equal(await worktreeIsDirty(repo, wt), false);
    fs.writeFileSync(path.join(wt, 'a.txt'), 'changed\n');
    assert.equal(await worktreeIsDirty(repo, wt), true);
    plainGit(wt, 'checkout', '--', 'a.txt');
    fs.writeFileSync(path.join(wt, 'new.txt'), 'x');
    assert.equal(await worktreeIsDirty(repo, wt), true);
    plainGit(wt, 'add', 'new.txt');
    assert.equal(await worktreeIsDirty(repo, wt), true);
    plainGit(wt, 'commit', '-q', '-m', 'add');
    fs.writeFileSync(path.join(wt, '.git-ignored-by-info'), 'x');
    fs.mkdirSync(path.join(wt, '.git', 'info'), { recursive: true });
    fs.writeFileSync(path.join(wt, '.git', 'info', 'exclude'), '.git-ignored-by-info\n');
    assert.equal(await worktreeIsDirty(repo, wt), false);
  });

  it('removes a clean worktree', async () => {
    const { repo, wt } = await withWorktree();
    await removeWorktree(repo, wt, { force: false });
    assert.equal(fs.existsSync(wt), false);
    assert.equal(plainGit(repo, 'worktree', 'list', '--porcelain').includes(wt), false);
    assert.deepEqual(await listBranches(repo), ['main'], 'the branch was the worktree\'s own');
  });

  it('refuses a dirty worktree without force, naming the changes, and removes it with force', async () => {
    const { repo, wt } = await withWorktree();
    fs.writeFileSync(path.join(wt, 'a.txt'), 'changed\n');
    fs.writeFileSync(path.join(wt, 'untracked.txt'), 'x');
    await assert.rejects(removeWorktree(repo, wt, { force: false }), (e: unknown) => {
      assert.ok(e instanceof WorktreeDirtyError);
      assert.equal(e.code, 409);
      assert.match(e.message, /has uncommitted changes \(a\.txt, untracked\.txt\)/);
      assert.deepEqual([...e.changedPaths].sort(), ['a.txt', 'untracked.txt']);
      return true;
    });
    assert.ok(fs.existsSync(path.join(wt, 'untracked.txt')), 'nothing was removed');
    await removeWorktree(repo, wt, { force: true });
    assert.equal(fs.existsSync(wt), false);
  });

  it('a worktree of the old linked layout is checked from its admin dir (found by name) and removed with it', async () => {
    const { repo, wts } = setup();
    const wt = path.join(wts, 'old');
    plainGit(repo, 'worktree', 'add', '-q', '-b', 'old', wt);
    assert.equal(await worktreeIsDirty(repo, wt), false);
    fs.writeFileSync(path.join(wt, 'new.txt'), 'x');
    await assert.rejects(removeWorktree(repo, wt, { force: false }), WorktreeDirtyError);
    fs.rmSync(path.join(wt, 'new.txt'));
    await removeWorktree(repo, wt, { force: false });
    assert.equal(fs.existsSync(wt), false);
    assert.equal(fs.existsSync(path.join(repo, '.git', 'worktrees', 'old')), false);
  });

  it('an old linked worktree whose .git file was rewritten is checked and removed from the admin dir named after it', async () => {
    const { repo, wts, root } = setup();
    const wt = path.join(wts, 'w');
    plainGit(repo, 'worktree', 'add', '-q', '-b', 'w', wt);
    const elsewhere = makeRepo(path.join(root, 'elsewhere'));
    fs.writeFileSync(path.join(wt, '.git'), `gitdir: ${path.join(elsewhere, '.git')}\n`);
    assert.equal(await worktreeIsDirty(repo, wt), false, 'status used the admin dir, not the rewritten pointer');
    await removeWorktree(repo, wt, { force: false });
    assert.equal(fs.existsSync(wt), false);
    assert.equal(fs.existsSync(path.join(repo, '.git', 'worktrees', 'w')), false);
    assert.ok(fs.existsSync(path.join(elsewhere, '.git', 'HEAD')), 'the other repository is untouched');
  });

  it("an old linked worktree's rewritten gitdir record does not make it another worktree's", async () => {
    const { repo, wts } = setup();
    const [one, two] = [path.join(wts, 'one'), path.join(wts, 'two')];
    plainGit(repo, 'worktree', 'add', '-q', '-b', 'one', one);
    plainGit(repo, 'worktree', 'add', '-q', '-b', 'two', two);
    // two's identity claims one's worktree in its own record.
    fs.writeFileSync(path.join(repo, '.git', 'worktrees', 'two', 'gitdir'), `${path.join(one, '.git')}\n`);
    fs.writeFileSync(path.join(two, 'dirty.txt'), 'x');
    assert.equal(await worktreeIsDirty(repo, one), false, "one is checked from its own admin dir");
    await removeWorktree(repo, one, { force: false });
    assert.ok(fs.existsSync(path.join(two, 'dirty.txt')) && fs.existsSync(path.join(repo, '.git', 'worktrees', 'two')), 'two is untouched');
    // two's record no longer names it: its changes cannot be confirmed, so only force removes it.
    await assert.rejects(removeWorktree(repo, two, { force: false }), /is not a worktree of/);
    await assert.rejects(removeWorktree(repo, two, { force: false, recorded: true }), (e: unknown) => e instanceof WorktreeDirtyError && /cannot be determined/.test((e as Error).message));
    assert.ok(fs.existsSync(two));
    await removeWorktree(repo, two, { force: true, recorded: true });
    assert.equal(fs.existsSync(two), false);
  });

  it('a worktree whose identity replaced .git by a symlink (or removed it) is refused without force and removed with it, when recorded', async () => {
    const { repo, wts, root } = setup();
    const wt = (await addWorktree(repo, path.join(wts, 'gone'), { branch: 'gone', createBranch: true })).path;
    const elsewhere = makeRepo(path.join(root, 'elsewhere-repo'));
    fs.rmSync(path.join(wt, '.git'), { recursive: true });
    fs.symlinkSync(path.join(elsewhere, '.git'), path.join(wt, '.git'));
    await assert.rejects(removeWorktree(repo, wt, { force: false, recorded: true }), WorktreeDirtyError);
    await assert.rejects(removeWorktree(repo, wt, { force: true }), /is not a worktree of/, 'without the record, an unknown directory is never removed');
    await removeWorktree(repo, wt, { force: true, recorded: true });
    assert.equal(fs.existsSync(wt), false);
    assert.ok(fs.existsSync(path.join(elsewhere, '.git', 'HEAD')), 'the symlink went, not its target');
  });

  it('refuses the main worktree and directories that are not its worktrees', async () => {
    const { repo, root } = await withWorktree();
    await assert.rejects(removeWorktree(repo, repo, { force: true }), /main worktree/);
    const other = path.join(root, 'other');
    fs.mkdirSync(other);
    await assert.rejects(removeWorktree(repo, other, { force: true }), /is not a worktree of/);
    assert.ok(fs.existsSync(other));
    await assert.rejects(worktreeIsDirty(repo, other), /is not a worktree of/);
  });
});
