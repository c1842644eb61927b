import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrivConfig } from './config.js';
import { PrivError } from './errors.js';
import { whyUntrusted } from './trust.js';

const GOOD = `# comment
daemon_user: agor
executor_user: agor_executor
users_group: agor_users
worktrees_root: /var/lib/agor/worktrees
executor_path: /usr/local/libexec/agor/executor/agor-executor.mjs
node_path: "/usr/bin/node"
min_uid: 1000
`;

function isConfigError(pattern: RegExp) {
  return (error: unknown) => error instanceof PrivError && error.code === 'config' && error.exitCode === 66 && pattern.test(error.message);
}

describe('priv.yaml parser', () => {
  it('parses the installed format', () => {
    assert.deepEqual(parsePrivConfig(GOOD), {
      daemon_user: 'agor',
      executor_user: 'agor_executor',
      users_group: 'agor_users',
      worktrees_root: '/var/lib/agor/worktrees',
      executor_path: '/usr/local/libexec/agor/executor/agor-executor.mjs',
      node_path: '/usr/bin/node',
      min_uid: 1000,
      sandboxes_root: '/var/lib/agor/sandboxes',
    });
  });

  it('defaults users_group and min_uid, and drops trailing comments', () => {
    const text = GOOD.replace(/^users_group:.*\n/m, '').replace(/^min_uid:.*\n/m, '').replace('daemon_user: agor', 'daemon_user: agor   # the daemon');
    const config = parsePrivConfig(text);
    assert.equal(config.users_group, 'agor_users');
    assert.equal(config.min_uid, 1000);
    assert.equal(config.daemon_user, 'agor');
  });

  const bad: Array<[string, RegExp]> = [
    [GOOD + 'extra_key: 1\n', /unknown key/],
    [GOOD + 'daemon_user: agor\n', /given twice/],
    [GOOD.replace(/^daemon_user:.*\n/m, ''), /daemon_user is missing/],
    [GOOD.replace(/^node_path:.*\n/m, ''), /node_path is missing/],
    [GOOD.replace('daemon_user: agor', 'daemon_user: root'), /daemon_user/],
    [GOOD.replace('daemon_user: agor', 'daemon_user: "a b"'), /daemon_user/],
    [GOOD.replace('executor_user: agor_executor', 'executor_user: nobody'), /executor_user/],
    [GOOD.replace('executor_user: agor_executor', 'executor_user: agor_wt_0123abcd'), /executor_user/],
    [GOOD.replace('users_group: agor_users', 'users_group: agor_executor'), /users_group/],
    [GOOD.replace('/var/lib/agor/worktrees', 'var/lib/agor'), /worktrees_root must be/],
    [GOOD.replace('/var/lib/agor/worktrees', '/var/lib/../etc'), /worktrees_root must be/],
    [GOOD.replace('/var/lib/agor/worktrees', '/var/lib/agor/'), /worktrees_root must be/],
    [GOOD.replace('worktrees_root: /var/lib/agor/worktrees', 'worktrees_root: /'), /worktrees_root must be/],
    [GOOD.replace('min_uid: 1000', 'min_uid: 0'), /min_uid/],
    [GOOD.replace('min_uid: 1000', 'min_uid: 999'), /min_uid/],
    [GOOD.replace('min_uid: 1000', 'min_uid: 1e3'), /min_uid/],
    [GOOD.replace('min_uid: 1000', 'min_uid: -1'), /min_uid/],
    [GOOD.replace('min_uid: 1000', 'min_uid:'), /no value/],
    [GOOD + '  nested: x\n', /expected "key: value"/],
    [GOOD + 'list:\n  - a\n', /unknown key|expected/],
    [GOOD + 'Key: x\n', /expected "key: value"/],
    [GOOD.replace('node_path: "/usr/bin/node"', 'node_path: "/usr/bin/node" x'), /quoted value/],
    [GOOD.replace('node_path: "/usr/bin/node"', 'node_path: [a, b]'), /plain scalar/],
    [GOOD.replace('\n', '\r\n'), /CR/],
    [GOOD + '\u0000', /NUL/],
  ];
  for (const [text, pattern] of bad) {
    it(`refuses ${JSON.stringify(text.slice(-60))}`, () => assert.throws(() => parsePrivConfig(text), isConfigError(pattern)));
  }
});

describe('whyUntrusted', () => {
  it('trusts only root-owned files closed to group and others', () => {
    assert.equal(whyUntrusted({ uid: 0, mode: 0o100755 }), null);
    assert.equal(whyUntrusted({ uid: 0, mode: 0o100644 }), null);
    assert.equal(whyUntrusted({ uid: 0, mode: 0o40755 }), null);
    assert.match(whyUntrusted({ uid: 1000, mode: 0o100755 }) ?? '', /not root/);
    assert.match(whyUntrusted({ uid: 0, mode: 0o100775 }) ?? '', /writable by group or others/);
    assert.match(whyUntrusted({ uid: 0, mode: 0o100757 }) ?? '', /writable/);
    assert.match(whyUntrusted({ uid: 0, mode: 0o41777 }) ?? '', /writable/);
  });
});
