import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PrivError } from './errors.js';
import { aclSpecs, closeOpened, componentsBelowRoot, directoryMode, fileMode, openBelowRoot, type Root } from './tree.js';

const temp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'agor-priv-tree-')));
after(() => fs.rmSync(temp, { recursive: true, force: true }));

function isRefused(pattern: RegExp) {
  return (error: unknown) => error instanceof PrivError && error.code === 'refused' && pattern.test(error.message);
}

describe('componentsBelowRoot', () => {
  const root = '/var/lib/agor/worktrees';
  const real = '/srv/data/worktrees';
  it('returns the components strictly below the configured or the real root', () => {
    assert.deepEqual(componentsBelowRoot(`${root}/a`, root, real, 'path'), ['a']);
    assert.deepEqual(componentsBelowRoot(`${root}/repo/wt`, root, real, 'path'), ['repo', 'wt']);
    assert.deepEqual(componentsBelowRoot(`${real}/a`, root, real, 'path'), ['a']);
  });
  const bad: Array<[string, RegExp]> = [
    ['a/b', /absolute/],
    ['', /absolute/],
    [root, /not inside/],
    [`${root}/`, /normalised/],
    [`${root}/a/`, /normalised/],
    [`${root}/../etc`, /normalised/],
    [`${root}/a/../../etc`, /normalised/],
    [`${root}/./a`, /normalised/],
    [`${root}//a`, /normalised/],
    [`${root}/..`, /normalised/],
    [`${root}x/a`, /not inside/],
    ['/etc', /not inside/],
    ['/etc/passwd', /not inside/],
    ['/var/lib/agor', /not inside/],
    ['/', /normalised|not inside/],
  ];
  for (const [arg, pattern] of bad) {
    it(`refuses ${JSON.stringify(arg)}`, () => assert.throws(() => componentsBelowRoot(arg, root, real, 'path'), isRefused(pattern)));
  }
});

describe('modes and ACLs of prepare-worktree', () => {
  it('directories: group rwx + setgid, owner and sticky kept, setuid cleared, others per access', () => {
    assert.equal(directoryMode(0o755, 'none'), 0o2770);
    assert.equal(directoryMode(0o700, 'read'), 0o2775);
    assert.equal(directoryMode(0o700, 'write'), 0o2777);
    assert.equal(directoryMode(0o4755, 'none'), 0o2770);
    assert.equal(directoryMode(0o1755, 'none'), 0o3770);
  });
  it('files: group rw (+x when executable), setuid/setgid cleared, others per access', () => {
    assert.equal(fileMode(0o644, 'none'), 0o660);
    assert.equal(fileMode(0o600, 'read'), 0o664);
    assert.equal(fileMode(0o600, 'write'), 0o666);
    assert.equal(fileMode(0o755, 'none'), 0o770);
    assert.equal(fileMode(0o755, 'read'), 0o775);
    assert.equal(fileMode(0o6755, 'write'), 0o777);
    assert.equal(fileMode(0o4777, 'none'), 0o770);
    assert.equal(fileMode(0o001, 'none'), 0o070);
  });
  it('names the group in access and default entries', () => {
    const specs = aclSpecs(1234, 'none', 999);
    assert.equal(specs.dir, 'g::rwx,g:1234:rwx,u:999:rwx,o::---,d:u::rwx,d:g::rwx,d:g:1234:rwx,d:u:999:rwx,d:o::---');
    assert.equal(specs.file, 'g::rwX,g:1234:rwX,u:999:rwX,o::---');
    assert.match(aclSpecs(1234, 'read', 999).dir, /d:o::r-x$/);
    assert.match(aclSpecs(1234, 'write', 999).file, /o::rwX$/);
  });
});

describe('openBelowRoot', () => {
  const rootDir = path.join(temp, 'root');
  fs.mkdirSync(path.join(rootDir, 'repo', 'wt', 'deep'), { recursive: true });
  fs.writeFileSync(path.join(rootDir, 'repo', 'file'), 'x');
  fs.mkdirSync(path.join(temp, 'outside'));
  fs.symlinkSync(path.join(temp, 'outside'), path.join(rootDir, 'link-out'));
  fs.symlinkSync(path.join(rootDir, 'repo'), path.join(rootDir, 'link-in'));
  fs.symlinkSync('/etc', path.join(rootDir, 'repo', 'etc'));
  const root: Root = { real: rootDir, dev: fs.statSync(rootDir).dev };

  it('opens a directory below the root and keeps its parents open', () => {
    const opened = openBelowRoot(root, ['repo', 'wt', 'deep'], rootDir);
    assert.equal(opened.parents.length, 3);
    assert.equal(opened.st.ino, fs.statSync(path.join(rootDir, 'repo', 'wt', 'deep')).ino);
    assert.deepEqual(
      opened.parents.map((p) => p.shown),
      [rootDir, `${rootDir}/repo`, `${rootDir}/repo/wt`],
    );
    closeOpened(opened);
  });

  const bad: Array<[string[], RegExp]> = [
    [['link-out'], /symlink/],
    [['link-in'], /symlink/],
    [['link-in', 'wt'], /symlink/],
    [['repo', 'etc'], /symlink/],
    [['repo', 'etc', 'ssl'], /symlink/],
    [['repo', 'file'], /not a directory/],
    [['repo', 'missing'], /does not exist/],
    [['repo', '..', 'repo'], /invalid path component/],
    [['repo', ''], /invalid path component/],
  ];
  for (const [components, pattern] of bad) {
    it(`refuses ${components.join('/')}`, () => assert.throws(() => openBelowRoot(root, components, rootDir), isRefused(pattern)));
  }

  it('leaks no descriptor when it refuses', () => {
    const before = fs.readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 20; i += 1) assert.throws(() => openBelowRoot(root, ['repo', 'etc', 'x'], rootDir));
    assert.equal(fs.readdirSync('/proc/self/fd').length, before);
  });
});
