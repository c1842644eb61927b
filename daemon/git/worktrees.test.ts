import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
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
    assert.ok((await listBranches(repo)).includes('feature/one'));
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

  it('refuses a branch checked out elsewhere', async () => {
    const { repo, wts } = setup();
    await assert.rejects(addWorktree(repo, path.join(wts, 'w'), { branch: 'main', createBranch: false }), /already checked out in/);
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
    fs.mkdirSync(path.join(repo, '.git', 'info'), { recursive: true });
    fs.writeFileSync(path.join(repo, '.git', 'info', 'exclude'), '.git-ignored-by-info\n');
    assert.equal(await worktreeIsDirty(repo, wt), false);
  });

  it('removes a clean worktree', async () => {
    const { repo, wt } = await withWorktree();
    await removeWorktree(repo, wt, { force: false });
    assert.equal(fs.existsSync(wt), false);
    assert.equal(plainGit(repo, 'worktree', 'list', '--porcelain').includes(wt), false);
    assert.ok((await listBranches(repo)).includes('w'), 'the branch stays');
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

  it('refuses a locked worktree without force', async () => {
    const { repo, wt } = await withWorktree();
    plainGit(repo, 'worktree', 'lock', '--reason', 'busy', wt);
    await assert.rejects(removeWorktree(repo, wt, { force: false }), /is locked/);
    await removeWorktree(repo, wt, { force: true });
    assert.equal(fs.existsSync(wt), false);
  });

  it('removes a worktree whose .git file was rewritten, using the repository records', async () => {
    const { repo, wt, root } = await withWorktree();
    const elsewhere = makeRepo(path.join(root, 'elsewhere'));
    fs.writeFileSync(path.join(wt, '.git'), `gitdir: ${path.join(elsewhere, '.git')}\n`);
    assert.equal(await worktreeIsDirty(repo, wt), false, 'status used the pinned admin dir, not the rewritten pointer');
    await removeWorktree(repo, wt, { force: false });
    assert.equal(fs.existsSync(wt), false);
    assert.equal(fs.existsSync(path.join(repo, '.git', 'worktrees', 'w')), false);
    assert.ok(fs.existsSync(path.join(elsewhere, '.git', 'HEAD')), 'the other repository is untouched');
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
