import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type Action } from './decide.js';
import { TIERS } from './tiers.js';

const ACTIONS: Action[] = [
  'worktree.see_record',
  'worktree.view',
  'session.create',
  'session.prompt',
  'session.stop',
  'session.fork',
  'session.answer_tool_request',
  'session.archive',
  'session.delete',
  'worktree.patch',
  'terminal.open',
  'environment.control',
  'worktree.manage_owners',
  'worktree.change_permissions',
  'worktree.delete',
  'worktree.break_glass',
];
const VIEWING = new Set<Action>(['worktree.see_record', 'worktree.view']);

describe('decide: the viewer role caps every action at view, ownership included (DESIGN §4)', () => {
  for (const rbac of [true, false]) {
    it(`a viewer who owns the worktree sees it and does nothing else (worktree_rbac ${rbac ? 'on' : 'off'})`, () => {
      for (const others_can of TIERS) {
        for (const action of ACTIONS) {
          for (const session of [undefined, { created_by: 'v' }, { created_by: 'someone' }]) {
            const worktree = { others_can, dangerously_allow_session_sharing: true, isOwner: true };
            const decision = decide({ id: 'v', role: 'viewer' }, action, { worktree, session }, { rbac });
            assert.equal(decision.allow, VIEWING.has(action), `${action}, others_can ${others_can}`);
            if (!decision.allow && action !== 'worktree.break_glass') assert.deepEqual([decision.notFound, /viewers may only view/.test(decision.reason)], [false, true]);
          }
        }
      }
    });
  }

  it('the same worktree as a member owner: every action', () => {
    for (const action of ACTIONS.filter((a) => a !== 'worktree.break_glass')) {
      assert.equal(decide({ id: 'm', role: 'member' }, action, { worktree: { others_can: 'none', dangerously_allow_session_sharing: false, isOwner: true } }, { rbac: true }).allow, true, action);
    }
  });
});
