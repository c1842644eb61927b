import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PrivError } from './errors.js';
import { openDirectoryNoFollow, removeTreeAt } from './remove-tree.js';

const temp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'agor-priv-remove-')));
after(() => fs.rmSync(temp, { recursive: true, force: true }));

/** A parent directory with `outside/` (must survive) and `tree/` (to remove) holding links out. */
function layout(name: string) {
  const base = path.join(temp, name);
  const outside = path.join(base, 'outside');
  const tree = path.join(base, 'parent', 'tree');
  fs.mkdirSync(outside, { recursive: true });
  fs.writeFileSync(path.join(outside, 'keep.txt'), 'keep\n');
  fs.mkdirSync(path.join(tree, 'a', 'b', 'c'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'a', 'b', 'c', 'f.txt'), 'x');
  fs.symlinkSync(outside, path.join(tree, 'dir-link'));
  fs.symlinkSync(path.join(outside, 'keep.txt'), path.join(tree, 'a', 'file-link'));
  fs.linkSync(path.join(outside, 'keep.txt'), path.join(tree, 'hard-link'));
  assert.equal(spawnSync('mkfifo', [path.join(tree, 'fifo')]).status, 0);
  return { base, outside, tree, parent: path.dirname(tree) };
}

function withParent<T>(parent: string, fn: (fd: number) => T): T {
  const fd = openDirectoryNoFollow(parent);
  try {
    return fn(fd);
  } finally {
    fs.closeSync(fd);
  }
}

describe('removeTreeAt', () => {
  it('removes the whole tree; symlinks and hard links lose only themselves', () => {
    const { outside, tree, parent } = layout('plain');
    const report = withParent(parent, (fd) => removeTreeAt(fd, 'tree', tree));
    assert.equal(fs.existsSync(tree), false);
    assert.deepEqual(fs.readdirSync(parent), []);
    assert.equal(fs.readFileSync(path.join(outside, 'keep.txt'), 'utf8'), 'keep\n');
    assert.equal(fs.statSync(path.join(outside, 'keep.txt')).nlink, 1, 'the hard link went, the file stayed');
    assert.ok(report.removed >= 8 && report.passes === 1, JSON.stringify(report));
  });

  it('refuses a tree that is itself a symlink (to a directory outside) and removes nothing', () => {
    const { outside, parent } = layout('top-link');
    fs.symlinkSync(outside, path.join(parent, 'swapped'));
    assert.throws(() => withParent(parent, (fd) => removeTreeAt(fd, 'swapped', `${parent}/swapped`)), (e: unknown) => e instanceof PrivError && e.code === 'refused' && /not a directory/.test(e.message));
    assert.ok(fs.lstatSync(path.join(parent, 'swapped')).isSymbolicLink());
    assert.ok(fs.existsSync(path.join(outside, 'keep.txt')));
  });

  it('a missing tree is nothing to do; bad names are refused', () => {
    const { parent } = layout('names');
    assert.deepEqual(withParent(parent, (fd) => removeTreeAt(fd, 'missing', `${parent}/missing`)), { removed: 0, passes: 0 });
    for (const bad of ['', '.', '..', 'a/b']) {
      assert.throws(() => withParent(parent, (fd) => removeTreeAt(fd, bad, bad)), (e: unknown) => e instanceof PrivError && e.code === 'refused');
    }
    assert.ok(fs.existsSync(path.join(parent, 'tree', 'a', 'b', 'c', 'f.txt')));
  });

  it('opening the parent refuses a symlink', () => {
    const { outside, base } = layout('parent-link');
    fs.symlinkSync(outside, path.join(base, 'parent-alias'));
    assert.throws(() => openDirectoryNoFollow(path.join(base, 'parent-alias')), (e: unknown) => e instanceof PrivError && e.code === 'refused');
  });
});
