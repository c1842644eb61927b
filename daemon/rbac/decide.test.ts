import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type Action } from './decide.js';
import { ROLES, SITE_RULES, type Role, type SiteAction } from './roles.js';
import { TIERS, type Tier } from './tiers.js';

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

// ---------------------------------------------------------------------------------------------
// The whole table, written from DESIGN §4 independently of decide.ts's own tables: every role ×
// action × others_can × owner/other × own/other session × session sharing × worktree_rbac.

/** What a non-owner needs, per DESIGN §4's table; 'owner' = owners only. */
function specNeeds(action: Action, othersSession: boolean, sharing: boolean): Tier | 'owner' {
  switch (action) {
    case 'worktree.see_record':
    case 'worktree.view':
      return 'view';
    case 'session.create':
      return 'session';
    case 'session.prompt':
    case 'session.stop':
      return othersSession ? 'prompt' : 'session';
    case 'session.fork':
      return othersSession && sharing ? 'prompt' : 'session';
    case 'session.answer_tool_request':
      // issue 16: the session's creator (whose identity runs the tool) or an owner, whatever the tier.
      return othersSession ? 'owner' : 'session';
    case 'session.archive':
    case 'session.delete':
    case 'worktree.patch':
    case 'terminal.open':
    case 'environment.control':
      return 'all';
    default:
      return 'owner';
  }
}

const SESSION_ACTIONS = new Set<Action>(['session.prompt', 'session.stop', 'session.fork', 'session.answer_tool_request', 'session.archive', 'session.delete']);
const RANK = (t: Tier) => TIERS.indexOf(t);

function spec(role: Role, action: Action, othersCan: Tier, isOwner: boolean, othersSession: boolean, sharing: boolean, rbac: boolean): boolean {
  const admin = role === 'admin' || role === 'owner';
  if (action === 'worktree.break_glass') return admin; // explicit take-over: admins and owners only
  if (action === 'worktree.see_record' && admin) return true; // every record, never its contents
  // worktree_rbac off: every member+ acts as `all`; the viewer role caps at `view` either way.
  const tier: Tier = !rbac ? (role === 'viewer' ? 'view' : 'all') : role === 'viewer' && RANK(othersCan) > RANK('view') ? 'view' : othersCan;
  const sees = isOwner || RANK(tier) >= RANK('view');
  if (!sees) return false;
  if (role === 'viewer') return action === 'worktree.view' || action === 'worktree.see_record';
  if (isOwner) return true;
  const needs = specNeeds(action, othersSession, sharing);
  return needs !== 'owner' && RANK(tier) >= RANK(needs);
}

describe('decide: every role × worktree action × tier × own/other, against DESIGN §4', () => {
  it('agrees with the specification in every combination, and hides (404) exactly what cannot be seen', () => {
    let checked = 0;
    for (const rbac of [true, false])
      for (const role of ROLES)
        for (const others_can of TIERS)
          for (const isOwner of [true, false])
            for (const sharing of [true, false])
              for (const action of ACTIONS)
                for (const othersSession of SESSION_ACTIONS.has(action) ? [false, true] : [false]) {
                  const session = SESSION_ACTIONS.has(action) ? { created_by: othersSession ? 'someone-else' : 'me' } : undefined;
                  const decision = decide({ id: 'me', role }, action, { worktree: { others_can, dangerously_allow_session_sharing: sharing, isOwner }, session }, { rbac });
                  const expected = spec(role, action, others_can, isOwner, othersSession, sharing, rbac);
                  const where = `${role} ${action} others_can=${others_can} owner=${isOwner} othersSession=${othersSession} sharing=${sharing} rbac=${rbac}`;
                  assert.equal(decision.allow, expected, where);
                  if (!decision.allow) {
                    assert.ok(decision.reason.length > 0, `a reason for ${where}`);
                    const sees = isOwner || !rbac || RANK(others_can) >= RANK('view');
                    const admin = role === 'admin' || role === 'owner';
                    // Invisible worktrees answer "not found" — except admins acting on the record itself,
                    // which they just listed: refused (403) instead.
                    if (!sees && !admin) assert.equal(decision.notFound, true, where);
                    if (sees) assert.equal(decision.notFound, false, where);
                  }
                  checked++;
                }
    assert.ok(checked > 2000, `${checked} combinations`);
  });

  it('admins get no implicit access to contents, but take over any worktree (break-glass)', () => {
    const closed = { others_can: 'none' as Tier, dangerously_allow_session_sharing: false, isOwner: false };
    for (const role of ['admin', 'owner'] as const) {
      assert.equal(decide({ id: 'a', role }, 'worktree.see_record', { worktree: closed }, { rbac: true }).allow, true);
      assert.deepEqual(decide({ id: 'a', role }, 'worktree.view', { worktree: closed }, { rbac: true }).allow, false);
      const prompt = decide({ id: 'a', role }, 'session.prompt', { worktree: closed, session: { created_by: 'x' } }, { rbac: true });
      assert.deepEqual([prompt.allow, !prompt.allow && prompt.notFound], [false, true], 'its sessions stay invisible');
      assert.equal(decide({ id: 'a', role }, 'worktree.break_glass', { worktree: closed }, { rbac: true }).allow, true);
    }
    assert.equal(decide({ id: 'm', role: 'member' }, 'worktree.break_glass', { worktree: { ...closed, isOwner: true } }, { rbac: true }).allow, false, 'a member owner has nothing to break');
  });
});

/** [viewer, member, admin, owner] on someone else's record, then on one's own (DESIGN §4, README). */
const SITE_EXPECTED: Record<SiteAction, { other: boolean[]; own?: boolean[] }> = {
  'repo.create': { other: [false, true, true, true] },
  'repo.create_local': { other: [false, false, true, true] },
  'repo.remove': { other: [false, false, true, true], own: [true, true, true, true] },
  'board.create': { other: [false, true, true, true] },
  'board.update': { other: [false, false, true, true], own: [true, true, true, true] },
  'board.arrange': { other: [false, true, true, true] },
  'worktree.create': { other: [false, true, true, true] },
  'worktree.act': { other: [false, true, true, true] },
  'worktree.see_every_record': { other: [false, false, true, true] },
  'terminal.use': { other: [false, true, true, true] },
  'audit.read_all': { other: [false, false, true, true] },
  'audit.verify_chain': { other: [false, false, true, true] },
  'user.see_private_fields': { other: [false, false, true, true], own: [true, true, true, true] },
  'user.filter_private_fields': { other: [false, false, true, true] },
  'system.unix_sync': { other: [false, false, true, true] },
  'system.admin_events': { other: [false, false, true, true] },
  'system.config_reload': { other: [false, false, true, true] },
  'system.metrics': { other: [false, false, true, true] },
};

describe('decide: repos, boards, terminals, audit, users directory and the system, per role and own/other', () => {
  it('every site action × role × own/other', () => {
    assert.deepEqual(Object.keys(SITE_EXPECTED).sort(), Object.keys(SITE_RULES).sort(), 'every rule has its expected row');
    for (const [action, rows] of Object.entries(SITE_EXPECTED) as [SiteAction, { other: boolean[]; own?: boolean[] }][]) {
      ROLES.forEach((role, i) => {
        const other = decide({ id: 'me', role }, action, { ownerId: 'someone-else' });
        assert.equal(other.allow, rows.other[i], `${role} ${action} on another's record`);
        if (!other.allow) assert.deepEqual([other.notFound, other.reason], [false, SITE_RULES[action].denied]);
        assert.equal(decide({ id: 'me', role }, action).allow, rows.other[i], `${role} ${action} with no record`);
        assert.equal(decide({ id: 'me', role }, action, { ownerId: 'me' }).allow, (rows.own ?? rows.other)[i], `${role} ${action} on own record`);
      });
    }
  });

  // Rows: the actor's role; columns: the target's role (manage) or the role given (grant).
  const MANAGE: Record<Role, boolean[]> = { viewer: [false, false, false, false], member: [false, false, false, false], admin: [true, true, false, false], owner: [true, true, true, true] };
  it('user management: who manages whom, who grants what; nobody manages or removes themselves', () => {
    for (const actor of ROLES) {
      ROLES.forEach((other, i) => {
        assert.equal(decide({ id: 'a', role: actor }, 'user.manage', { target: { id: 't', role: other } }).allow, MANAGE[actor][i], `${actor} manages a ${other}`);
        assert.equal(decide({ id: 'a', role: actor }, 'user.remove', { target: { id: 't', role: other } }).allow, MANAGE[actor][i], `${actor} removes a ${other}`);
        assert.equal(decide({ id: 'a', role: actor }, 'user.grant_role', { role: other }).allow, MANAGE[actor][i], `${actor} grants ${other}`);
      });
      for (const action of ['user.manage', 'user.remove'] as const) {
        const self = decide({ id: 'a', role: actor }, action, { target: { id: 'a', role: actor } });
        assert.equal(self.allow, false, `${actor} ${action} on themselves`);
        if (!self.allow) assert.match(self.reason, /yourself|your own/);
      }
    }
    const above = decide({ id: 'a', role: 'admin' }, 'user.grant_role', { role: 'owner' });
    assert.equal(!above.allow && /above your own/.test(above.reason), true, 'nobody grants a role above their own');
  });
});
