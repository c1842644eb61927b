import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ExecutionRefused, resolveExecutionIdentity } from './identity.js';

const creator = { id: 'u1', unix_username: 'agor_alice' };
const worktree = { id: 'w1', unix_group: 'agor_wt_0123456789ab' };
const executorUser = 'agor_executor';

describe('resolveExecutionIdentity', () => {
  it('simple mode: the daemon user, whatever the facts', () => {
    assert.deepEqual(resolveExecutionIdentity('simple', { creator, worktree, executorUser }), { kind: 'daemon' });
    assert.deepEqual(resolveExecutionIdentity('simple', { creator: { id: 'u', unix_username: null }, worktree: { id: 'w', unix_group: null }, executorUser }), { kind: 'daemon' });
  });
  it('insulated: the executor user with the worktree group', () => {
    assert.deepEqual(resolveExecutionIdentity('insulated', { creator, worktree, executorUser }), { kind: 'insulated', user: 'agor_executor', group: 'agor_wt_0123456789ab' });
    // The creator's own account does not matter in insulated mode.
    assert.deepEqual(resolveExecutionIdentity('insulated', { creator: { id: 'u', unix_username: null }, worktree, executorUser }).kind, 'insulated');
  });
  it("strict: the creator's own account", () => {
    assert.deepEqual(resolveExecutionIdentity('strict', { creator, worktree, executorUser }), { kind: 'strict', user: 'agor_alice', group: worktree.unix_group });
  });
  it('strict without a Unix account fails closed with a clear error', () => {
    assert.throws(
      () => resolveExecutionIdentity('strict', { creator: { id: 'u9', unix_username: null }, worktree, executorUser }),
      (e: unknown) => e instanceof ExecutionRefused && /u9 has none: nothing was run/.test((e as Error).message) && /link-unix/.test((e as Error).message),
    );
  });
  it('refuses a worktree without a group, and malformed stored names', () => {
    for (const mode of ['insulated', 'strict'] as const) {
      assert.throws(() => resolveExecutionIdentity(mode, { creator, worktree: { id: 'w', unix_group: null }, executorUser }), /sync-unix/);
      assert.throws(() => resolveExecutionIdentity(mode, { creator, worktree: { id: 'w', unix_group: 'users' }, executorUser }), ExecutionRefused);
    }
    assert.throws(() => resolveExecutionIdentity('strict', { creator: { id: 'u', unix_username: 'root' }, worktree, executorUser }), ExecutionRefused);
    assert.throws(() => resolveExecutionIdentity('insulated', { creator, worktree, executorUser: 'nobody' }), ExecutionRefused);
  });
});
