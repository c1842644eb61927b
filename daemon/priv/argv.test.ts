import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ARG_BYTES, MAX_ARGS, parseArgv } from './argv.js';
import { EXIT_CODES, PrivError } from './errors.js';

function usageError(argv: unknown[], pattern: RegExp): void {
  assert.throws(
    () => parseArgv(argv),
    (error: unknown) => error instanceof PrivError && error.code === 'usage' && error.exitCode === EXIT_CODES.usage && pattern.test(error.message),
    JSON.stringify(argv).slice(0, 200),
  );
}

describe('parseArgv (agor-priv)', () => {
  it('accepts --flag value pairs for every verb', () => {
    assert.deepEqual(Object.fromEntries(parseArgv(['ensure-user', '--user', 'agor_a']).flags), { user: 'agor_a' });
    assert.deepEqual(Object.fromEntries(parseArgv(['set-group-members', '--group', 'agor_wt_0123abcd', '--members', '']).flags), {
      group: 'agor_wt_0123abcd',
      members: '',
    });
    const exec = parseArgv(['exec', '--mode', 'strict', '--user', 'agor_a', '--cwd', '/w/x', '--program', 'shell', '--term', 'xterm']);
    assert.equal(exec.verb, 'exec');
    assert.equal(exec.flags.get('term'), 'xterm');
    const git = parseArgv(['exec', '--mode', 'insulated', '--group', 'g', '--cwd', '/w/x', '--program', 'shell', '--git-dir', '/w/r/.git/worktrees/x', '--git-common-dir', '/w/r/.git', '--work-tree', '/w/x']);
    assert.deepEqual([git.flags.get('git-dir'), git.flags.get('git-common-dir'), git.flags.get('work-tree')], ['/w/r/.git/worktrees/x', '/w/r/.git', '/w/x']);
    // Order does not matter; values that merely start with one dash are values.
    assert.equal(parseArgv(['prepare-worktree', '--others', 'none', '--group', 'g', '--path', '-x']).flags.get('path'), '-x');
  });

  const bad: Array<[unknown[], RegExp]> = [
    [['prepare-worktree', '--path', '/w/x', '--group', 'g', '--others', 'none', '--git-dir', '/w/r/.git'], /unknown flag --git-dir/],
    [['exec', '--mode', 'strict', '--user', 'agor_a', '--cwd', '/w/x', '--program', 'shell', '--git-dir=/etc'], /--flag=value/],
    [[], /no verb/],
    [['ENSURE-USER', '--user', 'agor_a'], /unknown verb/],
    [['ensure-users', '--user', 'agor_a'], /unknown verb/],
    [['--user', 'agor_a'], /unknown verb/],
    [['ensure-user'], /needs --user/],
    [['ensure-user', '--user'], /needs a value/],
    [['ensure-user', '--user', '--user'], /needs a value/],
    [['ensure-user', '--user=root'], /--flag=value/],
    [['ensure-user', '--user=agor_a', 'x'], /--flag=value/],
    [['ensure-user', '--user', 'agor_a', '--user', 'root'], /more than once/],
    [['ensure-user', '--user', 'agor_a', '--group', 'agor_wt_0123abcd'], /unknown flag --group/],
    [['ensure-user', '--User', 'agor_a'], /malformed flag/],
    [['ensure-user', '-u', 'agor_a'], /unexpected argument/],
    [['ensure-user', 'agor_a'], /unexpected argument/],
    [['ensure-user', '--user', 'agor_a', 'extra'], /unexpected argument/],
    [['ensure-user', '--user', 'agor_a', '--'], /malformed flag/],
    [['exec', '--mode', 'strict', '--user', 'agor_a', '--cwd', '/w', '--program', 'shell', '-c', 'id'], /unexpected argument/],
    [['exec', '--mode', 'strict', '--user', 'agor_a', '--cwd', '/w', '--program', 'shell', '--', '-c'], /malformed flag/],
    [['exec', '--mode', 'strict', '--user', 'agor_a', '--cwd', '/w'], /needs --program/],
    [['exec', '--mode', 'strict', '--user', 'agor_a', '--cwd', '/w', '--program', 'shell', '--env', 'X=1'], /unknown flag --env/],
    [['ensure-user', '--user', 'agor_a\nroot'], /control character/],
    [['ensure-user', '--user', 'agor_a\u0000'], /control character/],
    [['ensure-user', '--user', 'agor_a\r'], /control character/],
    [['ensure-user', '--user', 'agor_\u001b[31m'], /control character/],
    [['ensure-user\n', '--user', 'agor_a'], /control character/],
    [['ensure-user', '--user\u0000', 'agor_a'], /control character/],
    [['prepare-worktree', '--path', '/w/' + 'a'.repeat(MAX_ARG_BYTES), '--group', 'g', '--others', 'none'], /longer than 4096 bytes/],
    [['ensure-user', '--user', 'é'.repeat(MAX_ARG_BYTES / 2 + 1)], /longer than 4096 bytes/],
    [['ensure-user', ...Array.from({ length: MAX_ARGS }, () => 'x')], /too many arguments/],
    [['ensure-user', '--user', 42], /not a string/],
  ];
  for (const [argv, pattern] of bad) {
    it(`refuses ${JSON.stringify(argv).slice(0, 90)}`, () => usageError(argv, pattern));
  }

  it('accepts an argument of exactly the byte limit', () => {
    const value = '/' + 'a'.repeat(MAX_ARG_BYTES - 1);
    assert.equal(parseArgv(['prepare-worktree', '--path', value, '--group', 'g', '--others', 'none']).flags.get('path'), value);
  });
});
