import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { GitError, ValidationError } from './errors.js';
import { classifyCloneSource, cloneRepo, inspectRepo, listBranches } from './repos.js';
import { cleanupTempDirs, clearRan, commitFiles, evilProgram, makeRepo, plainGit, plantHooks, ranPrograms, tempDir } from './test-support.js';

after(cleanupTempDirs);

describe('cloneRepo', () => {
  it('clones a local path and forwards progress lines', async () => {
    const root = tempDir();
    const src = makeRepo(path.join(root, 'src'), { 'a.txt': 'a\n' });
    const lines: string[] = [];
    await cloneRepo(src, path.join(root, 'dest'), (line) => lines.push(line));
    assert.equal(fs.readFileSync(path.join(root, 'dest', 'a.txt'), 'utf8'), 'a\n');
    assert.ok(lines.some((l) => l.startsWith('Cloning into')), JSON.stringify(lines));
    // no template: no sample hooks in the new repository
    assert.deepEqual(fs.existsSync(path.join(root, 'dest', '.git', 'hooks')) ? fs.readdirSync(path.join(root, 'dest', '.git', 'hooks')) : [], []);
  });

  it('clones a file:// URL with transfer progress', async () => {
    const root = tempDir();
    const src = makeRepo(path.join(root, 'src'), Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}.txt`, `${i}\n`])));
    const lines: string[] = [];
    await cloneRepo(`file://${src}`, path.join(root, 'dest'), (line) => lines.push(line));
    assert.ok(fs.existsSync(path.join(root, 'dest', 'f49.txt')));
    assert.ok(lines.some((l) => /objects/i.test(l)), JSON.stringify(lines));
    const info = await inspectRepo(path.join(root, 'dest'));
    assert.equal(info.defaultBranch, 'main');
  });

  it('runs nothing planted in the source repository', async () => {
    const root = tempDir();
    const markers = path.join(root, 'm');
    const src = makeRepo(path.join(root, 'src'), { '.gitattributes': '* filter=x diff=x\n', 'a.txt': 'a\n' });
    plantHooks(path.join(src, '.git', 'hooks'), markers, 'src');
    plainGit(src, 'config', 'core.fsmonitor', evilProgram(markers, 'src-fsmonitor'));
    plainGit(src, 'config', 'filter.x.smudge', evilProgram(markers, 'src-smudge'));
    plainGit(src, 'config', 'filter.x.clean', evilProgram(markers, 'src-clean'));
    plainGit(src, 'config', 'uploadpack.packObjectsHook', evilProgram(markers, 'src-pack-objects-hook'));
    plainGit(src, 'config', 'core.alternateRefsCommand', evilProgram(markers, 'src-alternate-refs'));
    clearRan(markers);
    await cloneRepo(src, path.join(root, 'local'));
    await cloneRepo(`file://${src}`, path.join(root, 'url'));
    assert.deepEqual(ranPrograms(markers), []);
  });

  const refusedSources: Array<[string, RegExp]> = [
    ['ext::sh -c touch% /tmp/pwned', /"ext::" remote-helper transport/],
    ['fd::3', /"fd::"/],
    ['ssh://host/repo', /ssh:\/\//],
    ['git@github.com:org/repo.git', /ssh address/],
    ['host:repo', /ssh address/],
    ['git://host/repo', /git:\/\//],
    ['http://host/repo', /http:\/\//],
    ['ftp://host/repo', /ftp:\/\//],
    ['relative/path', /relative path/],
    ['-uevil', /starts with "-"/],
    ['--upload-pack=touch /tmp/pwned', /starts with "-"/],
    ['https://user:token@host/repo', /contains credentials/],
    ['https://host/repo\nx', /control characters/],
    ['', /empty/],
    ['file://otherhost/repo', /on this machine/],
    ['/definitely/not/here', /does not exist/],
  ];
  for (const [source, why] of refusedSources) {
    it(`refuses the source ${JSON.stringify(source)}`, async () => {
      const dest = path.join(tempDir(), 'dest');
      await assert.rejects(cloneRepo(source, dest), (e: unknown) => e instanceof ValidationError && why.test((e as Error).message));
      assert.equal(fs.existsSync(dest), false);
    });
  }

  it('accepts https URLs without credentials', () => {
    assert.deepEqual(classifyCloneSource('https://example.com/org/repo.git'), { arg: 'https://example.com/org/repo.git', protocol: 'https' });
  });

  it('refuses a destination that exists or is relative', async () => {
    const root = tempDir();
    const src = makeRepo(path.join(root, 'src'));
    fs.mkdirSync(path.join(root, 'taken'));
    await assert.rejects(cloneRepo(src, path.join(root, 'taken')), /already exists/);
    await assert.rejects(cloneRepo(src, 'relative/dest'), /absolute path/);
    await assert.rejects(cloneRepo(src, path.join(root, 'no', 'parent')), /does not exist/);
  });

  it('reports a failed clone as a GitError (400) and leaves nothing behind', async () => {
    const root = tempDir();
    const notRepo = path.join(root, 'plain');
    fs.mkdirSync(notRepo);
    await assert.rejects(cloneRepo(notRepo, path.join(root, 'dest')), (e: unknown) => {
      assert.ok(e instanceof GitError);
      assert.equal(e.code, 400);
      assert.match(e.message, new RegExp(`^Cloning ${notRepo} failed: `));
      return true;
    });
    assert.equal(fs.existsSync(path.join(root, 'dest')), false);
  });
});

describe('inspectRepo', () => {
  it('describes a repository: real path, default branch, not bare', async () => {
    const root = tempDir();
    const repo = makeRepo(path.join(root, 'repo'));
    fs.symlinkSync(repo, path.join(root, 'link'));
    const info = await inspectRepo(path.join(root, 'link'));
    assert.deepEqual(info, { path: repo, gitDir: path.join(repo, '.git'), defaultBranch: 'main', isBare: false });
  });

  it('describes a bare repository', async () => {
    const root = tempDir();
    const repo = makeRepo(path.join(root, 'repo'));
    plainGit(root, 'clone', '-q', '--bare', repo, path.join(root, 'bare.git'));
    const info = await inspectRepo(path.join(root, 'bare.git'));
    assert.equal(info.isBare, true);
    assert.equal(info.path, path.join(root, 'bare.git'));
    assert.equal(info.defaultBranch, 'main');
  });

  it('reports a detached HEAD as no default branch', async () => {
    const repo = makeRepo(path.join(tempDir(), 'repo'));
    plainGit(repo, 'checkout', '-q', '--detach');
    assert.equal((await inspectRepo(repo)).defaultBranch, null);
  });

  const notRepos: Array<[string, (root: string) => string, RegExp]> = [
    ['a plain directory', (root) => (fs.mkdirSync(path.join(root, 'plain')), path.join(root, 'plain')), /is not a git repository/],
    ['a missing path', (root) => path.join(root, 'missing'), /does not exist/],
    ['a file', (root) => (fs.writeFileSync(path.join(root, 'f'), 'x'), path.join(root, 'f')), /is not a directory/],
    ['a subdirectory of a repository', (root) => path.join(makeRepo(path.join(root, 'r'), { 'sub/x': 'x' }), 'sub'), /is not a git repository/],
    ['a linked worktree', (root) => (plainGit(makeRepo(path.join(root, 'r')), 'worktree', 'add', '-q', path.join(root, 'wt')), path.join(root, 'wt')), /linked worktree/],
    ['a relative path', () => 'relative', /absolute path/],
  ];
  for (const [what, make, why] of notRepos) {
    it(`refuses ${what} with a clear error`, async () => {
      const p = make(tempDir());
      await assert.rejects(inspectRepo(p), (e: unknown) => e instanceof ValidationError && why.test((e as Error).message));
    });
  }
});

describe('listBranches', () => {
  it('lists local branches, sorted, including ones with slashes', async () => {
    const repo = makeRepo(path.join(tempDir(), 'repo'));
    plainGit(repo, 'branch', 'zeta');
    plainGit(repo, 'branch', 'feature/a');
    commitFiles(repo, { 'b.txt': 'b' }, 'second');
    plainGit(repo, 'tag', 'v1');
    assert.deepEqual(await listBranches(repo), ['feature/a', 'main', 'zeta']);
  });
});
