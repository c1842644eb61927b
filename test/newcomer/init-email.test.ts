// `agor init --email` takes any address a mail server would (one rule: daemon/services/users/
// email.shared.ts), and a refused one leaves nothing behind that a later `npm start` would take
// for an initialised home.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { OWNER, startTestDaemon } from '../helpers/daemon.js';
import type { PublicUser } from '../../daemon/services/users/users.schema.js';
import { cleanupTempDirs, tempDir } from '../../daemon/git/test-support.js';

after(cleanupTempDirs);

describe('agor init --email', () => {
  for (const email of ['a@b.c', 'user+tag@localhost', 'x@sub.example']) {
    it(`accepts ${email} as the first owner`, async () => {
      const home = path.join(tempDir('agor-init-email-'), 'home');
      const init = await runCli(['init', '--email', email, '--password-stdin'], { AGOR_HOME: home }, 'password-for-init\n');
      assert.equal(init.code, 0, init.stderr);
      assert.match(init.stdout, new RegExp(`First owner: ${email.replace(/[.+]/g, '\\$&')}\\n`));
    });
  }

  it('refuses an address no mail server takes, says why, and creates nothing', async () => {
    const home = path.join(tempDir('agor-init-email-'), 'home');
    const init = await runCli(['init', '--email', 'a..b@example.com', '--password-stdin'], { AGOR_HOME: home }, 'password-for-init\n');
    assert.notEqual(init.code, 0);
    assert.match(init.stderr, /email.*dots/);
    assert.equal(fs.existsSync(home), false, 'no half-initialised AGOR_HOME');
    // So `npm start` (init --if-missing) still creates the owner afterwards.
    const again = await runCli(['init', '--if-missing'], { AGOR_HOME: home });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /First owner: /);
  });
});

describe('the users API applies the same rule', () => {
  it('creates and renames users with such addresses; refuses others with a 400 that changes nothing', async () => {
    const d = await startTestDaemon();
    try {
      const users = d.rest(await d.login(OWNER.email, OWNER.password)).service('users');
      const bot = (await users.create({ email: 'Ops+Bot@localhost', password: 'password-123' })) as PublicUser;
      assert.equal(bot.email, 'ops+bot@localhost');
      assert.equal(((await users.patch(bot.id, { email: 'a@b.c' })) as PublicUser).email, 'a@b.c');
      await assert.rejects(users.patch(bot.id, { email: 'a@b..c' }), (e: { code: number; message: string }) => e.code === 400 && /"email": must have a domain/.test(e.message));
      assert.equal(((await users.get(bot.id)) as PublicUser).email, 'a@b.c');
      await assert.rejects(users.create({ email: 'no-at-sign', password: 'password-123' }), (e: { code: number; message: string }) => e.code === 400 && /name@domain/.test(e.message));
    } finally {
      await d.stop();
    }
  });
});
