import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from './errors.js';
import { validateRefName, validateWorktreeName } from './names.js';
import { cleanupTempDirs, plainGitTry, tempDir } from './test-support.js';

after(cleanupTempDirs);

describe('validateWorktreeName', () => {
  it('accepts plain directory names', () => {
    for (const name of ['a', 'feature-1', 'Fix_2.0', '9lives', 'x'.repeat(64), 'a.b-c_d']) {
      assert.doesNotThrow(() => validateWorktreeName(name), name);
    }
  });

  const refused: Array<[string, RegExp]> = [
    ['', /empty/],
    ['../x', /starts with "\."/],
    ['..', /starts with "\."/],
    ['a..b', /contains "\.\."/],
    ['a/b', /contains "\/"/],
    ['-rf', /starts with "-"/],
    ['.hidden', /starts with "\."/],
    ['has space', /contains a space/],
    ['tab\there', /control character/],
    ['new\nline', /control character/],
    ['x'.repeat(65), /longer than 64/],
    ['ünïcode', /starts with "ü"/],
    ['semi;colon', /contains ";"/],
    ['$(id)', /starts with "\$"/],
  ];
  for (const [name, why] of refused) {
    it(`refuses ${JSON.stringify(name)} and says why`, () => {
      assert.throws(() => validateWorktreeName(name), (e: unknown) => e instanceof ValidationError && why.test((e as Error).message) && (e as ValidationError).code === 400);
    });
  }
});

describe('validateRefName', () => {
  const accepted = ['main', 'feature/x', 'fix-1.2', 'a/b/c', 'user@host', 'ünïcode', 'x'.repeat(255), 'v1.0', 'a.b', 'foo.locked'];
  const refused: Array<[string, RegExp]> = [
    ['', /empty/],
    ['-rf', /starts with "-"/],
    ['--force', /starts with "-"/],
    ['@', /"@"/],
    ['HEAD', /reserved/],
    ['has space', /a space/],
    ['a..b', /"\.\."/],
    ['a~1', /"~"/],
    ['a^', /"\^"/],
    ['a:b', /":"/],
    ['a?', /"\?"/],
    ['a*', /"\*"/],
    ['a[b', /"\["/],
    ['a\\b', /contains "\\"/],
    ['a@{1}', /"@\{"/],
    ['/a', /starts with "\/"/],
    ['a/', /ends with "\/"/],
    ['a//b', /"\/\/"/],
    ['a.', /ends with "\."/],
    ['.a', /starts with "\."/],
    ['a/.b', /starts with "\."/],
    ['a.lock', /\.lock/],
    ['a/b.lock/c', /\.lock/],
    ['tab\tx', /control character/],
    ['nl\nx', /control character/],
    ['del\x7fx', /control character/],
    ['x'.repeat(256), /longer than 255 bytes/],
    ['\ud800x', /not valid Unicode/],
  ];

  it('accepts what git check-ref-format --branch accepts', () => {
    for (const name of accepted) assert.doesNotThrow(() => validateRefName(name), name);
  });

  for (const [name, why] of refused) {
    it(`refuses ${JSON.stringify(name)} and says why`, () => {
      assert.throws(() => validateRefName(name), (e: unknown) => e instanceof ValidationError && why.test((e as Error).message));
    });
  }

  it('agrees with git check-ref-format --branch on every case git can judge', () => {
    const cwd = tempDir();
    let compared = 0;
    for (const name of [...accepted, ...refused.map(([n]) => n)]) {
      // Our stricter extras: git's --branch reads "@" as HEAD, and cannot judge broken UTF-16 or length.
      if (['@', '', '\ud800x'].includes(name) || Buffer.byteLength(name) > 255) continue;
      const git = plainGitTry(cwd, ['check-ref-format', '--branch', name]).status === 0;
      let ours = true;
      try {
        validateRefName(name);
      } catch {
        ours = false;
      }
      assert.equal(ours, git, `validateRefName(${JSON.stringify(name)}) = ${ours}, git says ${git}`);
      compared++;
    }
    assert.ok(compared > 30);
  });
});
