// The [SECURITY] web-terminal warning states what triggered it (DESIGN §3: simple mode, terminal
// on, more than one user — or worktree_rbac, a team setup), and follows users added at run time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema } from './config/schema.js';
import { startupWarnings, webTerminalWarning } from './startup-checks.js';
import { OWNER, startTestDaemon, waitFor } from '../test/helpers/daemon.js';

const config = (execution: Record<string, unknown>) => configSchema.parse({ execution });

describe('web-terminal [SECURITY] warning', () => {
  it('not for the default single-user setup, nor without the terminal, nor in insulated/strict mode', () => {
    assert.deepEqual(startupWarnings({ config: config({}), userCount: 1 }), []);
    assert.equal(webTerminalWarning(config({ allow_web_terminal: false }), 5), null);
    assert.equal(webTerminalWarning(config({ worktree_rbac: true, unix_user_mode: 'strict' }), 5), null);
  });

  it('with more than one user it says so, with the count', () => {
    const [line] = startupWarnings({ config: config({}), userCount: 3 });
    assert.match(line!, /^\[SECURITY\] The web terminal is enabled in simple mode and this daemon has 3 users: terminals run as the daemon user/);
  });

  it('with one user and worktree_rbac on it names worktree_rbac as the trigger, not "more than one user"', () => {
    const line = webTerminalWarning(config({ worktree_rbac: true }), 1)!;
    assert.match(line, /with worktree_rbac on \(a setup for several users; 1 so far\)/);
    assert.doesNotMatch(line, /more than one user/);
  });

  it('a daemon started with one user warns once when a second one is added', async () => {
    const d = await startTestDaemon();
    try {
      const warnings = () => d.logs.filter((l) => l.includes('[SECURITY] The web terminal'));
      assert.deepEqual(warnings(), []);
      const users = d.rest(await d.login(OWNER.email, OWNER.password)).service('users');
      await users.create({ email: 'second@test.local', password: 'password-123' });
      await waitFor(() => warnings().length > 0, 5000, 'the warning');
      assert.match(warnings()[0]!, /this daemon has 2 users/);
      // Once printed, later events return at once (synchronously, while the call is answered).
      await users.create({ email: 'third@test.local', password: 'password-123' });
      assert.equal(warnings().length, 1, 'printed once');
    } finally {
      await d.stop();
    }
  });
});
