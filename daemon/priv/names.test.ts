import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PrivError, failureLine } from './errors.js';
import { checkOthers, checkPersonName, checkTerm, checkWorktreeGroupName, parseMemberList } from './names.js';

const reserved = { daemon_user: 'agor', executor_user: 'agor_executor', users_group: 'agor_users' };

function isRefused(pattern?: RegExp) {
  return (error: unknown) => error instanceof PrivError && error.code === 'refused' && error.exitCode === 65 && (!pattern || pattern.test(error.message));
}

describe('agor-priv names', () => {
  it('accepts agor_ person names', () => {
    for (const name of ['agor_a', 'agor_alice', 'agor_bob_2', 'agor_' + 'x'.repeat(24), 'agor_9']) assert.equal(checkPersonName(name, reserved), name);
  });

  const badPeople: Array<[string, RegExp]> = [
    ['root', /must match/],
    ['agor', /must match/],
    ['agor_', /must match/],
    ['agor_' + 'x'.repeat(25), /must match/],
    ['agor_Alice', /must match/],
    ['agor_a-b', /must match/],
    ['agor_a;b', /must match/],
    ['agor_$(id)', /must match/],
    ['agor_a b', /must match/],
    ['agor_../x', /must match/],
    ['xagor_a', /must match/],
    ['agor_a\n', /must match/],
    ['', /must match/],
    ['agor_wt_0123abcd', /worktree-group namespace/],
    ['agor_executor', /executor user/],
    ['agor_users', /users group/],
  ];
  for (const [name, pattern] of badPeople) {
    it(`refuses the person name ${JSON.stringify(name)}`, () => assert.throws(() => checkPersonName(name, reserved), isRefused(pattern)));
  }

  it('refuses the daemon user when it is inside the namespace', () => {
    assert.throws(() => checkPersonName('agor_daemon', { ...reserved, daemon_user: 'agor_daemon' }), isRefused(/daemon user/));
  });

  it('accepts worktree groups agor_wt_ + 8 to 16 hex digits only', () => {
    for (const g of ['agor_wt_0123abcd', 'agor_wt_0123456789abcdef']) assert.equal(checkWorktreeGroupName(g), g);
    for (const g of ['agor_wt_0123abc', 'agor_wt_0123456789abcdef0', 'agor_wt_zz', 'agor_wt_../x', 'agor_wt_0123ABCD', 'agor_users', 'root', 'agor_wt_', 'agor_wt_0123abcd ', 'wt_0123abcd']) {
      assert.throws(() => checkWorktreeGroupName(g), isRefused(), g);
    }
  });

  it('parses member lists strictly', () => {
    assert.deepEqual(parseMemberList('', reserved), []);
    assert.deepEqual(parseMemberList('agor_a,agor_b', reserved), ['agor_a', 'agor_b']);
    assert.deepEqual(parseMemberList('agor_executor,agor,agor_a', reserved), ['agor_executor', 'agor', 'agor_a']);
    for (const value of [',', 'agor_a,', ',agor_a', 'agor_a,,agor_b', 'agor_a,agor_a', 'root', 'agor_a,root', 'agor_a, agor_b', 'agor_users', 'agor_wt_0123abcd', 'agor_a;agor_b']) {
      assert.throws(() => parseMemberList(value, reserved), isRefused(), value);
    }
  });

  it('checks --others and --term', () => {
    for (const o of ['none', 'read', 'write']) assert.equal(checkOthers(o), o);
    for (const o of ['', 'all', 'NONE', 'rw']) assert.throws(() => checkOthers(o), isRefused(), o);
    for (const t of ['xterm', 'xterm-256color', 'screen-256color', 'vt100']) assert.equal(checkTerm(t), t);
    for (const t of ['', 'xterm;id', 'XTERM', 'x'.repeat(33), 'xterm 256', '../x']) assert.throws(() => checkTerm(t), isRefused(), t);
  });

  it('prints exactly one line per failure, with a stable code name and exit code', () => {
    const f = failureLine(new PrivError('refused', 'a\nforged line\r\n'));
    assert.equal(f.exitCode, 65);
    assert.match(f.line, /^agor-priv: refused: a forged line \n$/);
    assert.equal(f.line.split('\n').length, 2);
    const internal = failureLine(new TypeError('boom'));
    assert.equal(internal.exitCode, 70);
    assert.equal(internal.line, 'agor-priv: internal: boom\n');
  });
});
