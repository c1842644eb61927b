import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unixUsernameFromEmail, whyRefusedUnixUsername, worktreeGroupName, WORKTREE_GROUP_PATTERN } from './names.js';

const reserved = { daemonUser: 'agor_daemon', executorUser: 'agor_executor' };

describe('worktreeGroupName', () => {
  it('is agor_wt_ + the first 12 hex digits of the id without dashes', () => {
    assert.equal(worktreeGroupName('3F2504E0-4F89-11D3-9A0C-0305E82C3301'), 'agor_wt_3f2504e04f89');
    assert.equal(worktreeGroupName('00000000-0000-4000-8000-000000000000'), 'agor_wt_000000000000');
  });
  it('always matches agor-priv group pattern', () => {
    for (let i = 0; i < 50; i += 1) assert.match(worktreeGroupName(crypto.randomUUID()), WORKTREE_GROUP_PATTERN);
  });
  it('refuses an id that is not a UUID', () => {
    for (const bad of ['', 'abc', '../../etc', 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz', 'agor_wt_0123']) assert.throws(() => worktreeGroupName(bad), /not a UUID/);
  });
});

describe('whyRefusedUnixUsername (the one rule for users.unix_username)', () => {
  it('accepts names in the agor namespace', () => {
    for (const ok of ['agor_alice', 'agor_a', 'agor_bob_2', `agor_${'x'.repeat(24)}`]) assert.equal(whyRefusedUnixUsername(ok, reserved), null, ok);
  });
  it('refuses at least ten kinds of bad names, each with a reason', () => {
    const bad = [
      'root',
      'agor_daemon', // the daemon user
      'agor_executor', // the executor user
      'agor_users', // the users group
      'agor_$(id)',
      'agor_a;b',
      'agor_a b',
      'agor_a`id`',
      'agor_A',
      'agor_',
      `agor_${'x'.repeat(25)}`,
      'alice',
      'agor_wt_0123abcd',
      'agor_a\nroot',
      '../agor_a',
      '',
      null,
      42,
    ];
    for (const name of bad) {
      const why = whyRefusedUnixUsername(name, reserved);
      assert.ok(why && why.length > 10, `${JSON.stringify(name)} must be refused`);
    }
    assert.ok(bad.length >= 10);
  });
  it('refuses an existing system account of the namespace', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-passwd-'));
    const file = path.join(dir, 'passwd');
    fs.writeFileSync(file, 'root:x:0:0:root:/root:/bin/bash\nagor_sys:x:120:120::/:/usr/sbin/nologin\nagor_person:x:1500:1500::/home/agor_person:/bin/bash\n');
    assert.match(whyRefusedUnixUsername('agor_sys', reserved, file)!, /system account \(uid 120\)/);
    assert.equal(whyRefusedUnixUsername('agor_person', reserved, file), null);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('unixUsernameFromEmail', () => {
  it('sanitises the local part into the namespace', () => {
    assert.equal(unixUsernameFromEmail('Alice.Smith@example.com'), 'agor_alice_smith');
    assert.equal(unixUsernameFromEmail('bob+tag@x.io'), 'agor_bob_tag');
    assert.equal(unixUsernameFromEmail(`${'a'.repeat(40)}@x.io`), `agor_${'a'.repeat(24)}`);
    assert.throws(() => unixUsernameFromEmail('...@x.io'), /--unix-name/);
  });
});
