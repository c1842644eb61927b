// What a worktree's identity plants in its own worktree never runs as the daemon, and deleting a
// worktree never reaches outside it. The threats (issue 13, breaks 1 and 3): a nested repository
// (gitlink + nested .git whose config defines a clean filter, used by .gitattributes) that git would
// recurse into while checking for changes; and a directory swapped with a symlink to a directory
// outside while the daemon deletes the tree.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { addWorktree, removeWorktree, worktreeIsDirty } from './worktrees.js';
import { cleanupTempDirs, commitFiles, evilProgram, makeRepo, plainGit, plainGitTry, ranPrograms, tempDir } from './test-support.js';

after(cleanupTempDirs);

async function newWorktree(name: string) {
  const root = tempDir();
  const repo = makeRepo(path.join(root, 'repo'), { 'a.txt': 'a\n' });
  const wts = path.join(root, 'worktrees');
  fs.mkdirSync(wts);
  const wt = (await addWorktree(repo, path.join(wts, name), { branch: name, createBranch: true })).path;
  for (const [k, v] of [['user.name', 'Agent'], ['user.email', 'agent@example.invalid']]) plainGit(wt, 'config', k!, v!);
  return { root, repo, wts, wt };
}

/**
 * Plants, as an agent would in its own worktree: a committed nested repository (a gitlink) whose
 * own config defines filter.x.clean, a .gitattributes using it in both repositories, and the same
 * filter plus an fsmonitor in the worktree's own config. Returns the marker directory.
 */
function plantNestedRepository(root: string, wt: string): string {
  const markers = path.join(root, 'markers');
  const nested = path.join(wt, 'nested');
  fs.mkdirSync(nested);
  plainGit(nested, 'init', '-q', '-b', 'main');
  for (const [k, v] of [['user.name', 'Agent'], ['user.email', 'agent@example.invalid']]) plainGit(nested, 'config', k!, v!);
  commitFiles(nested, { 'inner.txt': 'inner\n', '.gitattributes': '* filter=x\n' }, 'nested');
  plainGit(nested, 'config', 'filter.x.clean', evilProgram(markers, 'nested-clean'));
  fs.writeFileSync(path.join(wt, '.gitattributes'), '* filter=x\n');
  plainGit(wt, 'add', '.gitattributes', 'nested');
  plainGit(wt, 'commit', '-q', '-m', 'nested repository');
  plainGit(wt, 'config', 'filter.x.clean', evilProgram(markers, 'outer-clean'));
  plainGit(wt, 'config', 'core.fsmonitor', evilProgram(markers, 'outer-fsmonitor'));
  // A change inside the nested repository: recursing into it runs its filter on inner.txt.
  fs.writeFileSync(path.join(nested, 'inner.txt'), 'changed inside\n');
  const later = new Date(Date.now() + 60_000);
  fs.utimesSync(path.join(wt, '.gitattributes'), later, later);
  return markers;
}

describe('a nested repository planted in a worktree', () => {
  it('is live for plain git (control): its filter runs on a status that recurses', async () => {
    const { root, wt } = await newWorktree('control');
    const markers = plantNestedRepository(root, wt);
    plainGitTry(wt, ['status', '--porcelain', '--ignore-submodules=none']);
    assert.ok(ranPrograms(markers).includes('nested-clean'), `the nested filter ran for plain git (${ranPrograms(markers).join(', ')})`);
    assert.ok(ranPrograms(markers).includes('outer-fsmonitor'), 'so did the worktree\'s own fsmonitor');
  });

  it('the daemon checks for changes and deletes the worktree (not forced) without running any of it', async () => {
    const { root, repo, wt } = await newWorktree('victim');
    const markers = plantNestedRepository(root, wt);
    assert.equal(await worktreeIsDirty(repo, wt), false, 'changes inside a nested repository are not looked at');
    await removeWorktree(repo, wt, { force: false });
    assert.equal(fs.existsSync(wt), false);
    assert.deepEqual(ranPrograms(markers), [], 'nothing planted ran');
  });
});

/** Swaps `a` and `b` (renameat2 RENAME_EXCHANGE, syscall 316 on x86_64) until killed or `max` times; prints the successful swaps. */
function startSwapper(a: string, b: string, max: number) {
  const script = 'my ($a,$b,$n)=@ARGV; my $ok=0; $SIG{TERM}=sub{print "$ok\\n"; exit 0}; for (1..$n) { $ok++ if syscall(316,-100,$a,-100,$b,2)==0 } print "$ok\\n";';
  const child = spawn('perl', ['-e', script, a, b, String(max)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const done = new Promise<number>((resolve) => child.on('close', () => resolve(Number(out.trim()) || 0)));
  return {
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return done;
    },
  };
}

describe('deleting a worktree while its identity swaps a directory for a symlink to a directory outside', { skip: process.arch === 'x64' ? false : 'the swapper uses the x86_64 renameat2 syscall number' }, () => {
  it('removes only what is inside the worktree, however the swaps fall (bounded attempts)', async () => {
    const root = tempDir();
    // Outside: what the symlink points at (think AGOR_HOME, or another user's worktree).
    const outside = path.join(root, 'outside');
    fs.mkdirSync(outside);
    const precious = Array.from({ length: 50 }, (_, i) => `precious-${i}.txt`);
    for (const f of precious) fs.writeFileSync(path.join(outside, f), `keep ${f}\n`);
    let swaps = 0;
    for (let attempt = 0; attempt < 12; attempt++) {
      const { repo, wt } = await newWorktree(`race${attempt}`);
      const dir = path.join(wt, 'd');
      fs.mkdirSync(dir);
      // The same names as outside, so a followed symlink would delete the precious files.
      for (const f of precious) fs.writeFileSync(path.join(dir, f), 'the agent\'s own\n');
      for (let i = 0; i < 20; i++) fs.mkdirSync(path.join(dir, `sub${i}`, 'deeper'), { recursive: true });
      fs.symlinkSync(outside, path.join(wt, 'l'));
      const swapper = startSwapper(dir, path.join(wt, 'l'), 5_000_000);
      await removeWorktree(repo, wt, { force: true }).catch(() => undefined);
      swaps += await swapper.stop();
      // Whatever the walk met, the tree is gone or only leftovers of the race remain; retry once more.
      if (fs.existsSync(wt)) await removeWorktree(repo, wt, { force: true }).catch(() => undefined);
      assert.deepEqual(fs.readdirSync(outside).sort(), [...precious].sort(), `attempt ${attempt}: nothing outside was removed`);
      for (const f of precious) assert.equal(fs.readFileSync(path.join(outside, f), 'utf8'), `keep ${f}\n`);
    }
    assert.ok(swaps > 0, 'the swapper really swapped during the deletions');
  });
});
