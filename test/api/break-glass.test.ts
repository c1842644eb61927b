// Admin break-glass covers every permission setting of a worktree (DESIGN §4, issue 14): others_can,
// others_fs_access and session sharing, each change audited with the worktree's id and [SECURITY]-
// logged; a member who is not an owner, and a viewer who is one, change none of them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { TRANSPORTS, cleanupTempDirs, client, createWorktree, outcome, ownerActor, quickActor, registerRepo, type Actor } from '../helpers/worktree-fixture.js';
import { AUDIT_EVENTS_TABLE } from '../../daemon/audit/chain.js';
import type { PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';

let d: TestDaemon;
let root: Actor;
let repoId: string;
const securityLines: string[] = [];
const consoleWarn = console.warn;

before(async () => {
  d = await startTestDaemon({ execution: { worktree_rbac: true } });
  root = await ownerActor(d);
  repoId = (await registerRepo(root)).id;
  console.warn = (...args: unknown[]) => {
    const line = args.map(String).join(' ');
    if (line.startsWith('[SECURITY]')) securityLines.push(line);
    else consoleWarn(...args);
  };
});
after(async () => {
  console.warn = consoleWarn;
  await d.stop();
  cleanupTempDirs();
});

const CHANGES: Record<string, unknown>[] = [{ others_can: 'view' }, { others_fs_access: 'none' }, { dangerously_allow_session_sharing: true }];

describe('break-glass on permission settings', () => {
  it('an admin who is not an owner changes each setting of a private worktree; each change is audited and [SECURITY]-logged', async () => {
    const creator = await quickActor(d, 'member');
    const admin = await quickActor(d, 'admin');
    for (const transport of TRANSPORTS) {
      const wt = await createWorktree(creator, repoId, { others_can: 'none' });
      for (const change of CHANGES) {
        const lines = securityLines.length;
        const result = (await client(admin, transport).service('worktrees').patch(wt.id, change)) as PublicWorktree & Record<string, unknown>;
        const [field, value] = Object.entries(change)[0]!;
        assert.equal(result[field], value, `${transport} ${field}`);
        const events = await d.app.get('db')(AUDIT_EVENTS_TABLE).where({ action: 'worktree.break_glass', worktree_id: wt.id, actor: admin.id });
        assert.ok(events.some((e: { details: string }) => String(e.details).includes(field)), `${field} audited`);
        assert.equal(securityLines.slice(lines).filter((l) => l.includes(wt.id)).length, 1, `${field}: one [SECURITY] line`);
      }
    }
  });

  it('a member who is not an owner, and a viewer who is one, change nothing', async () => {
    const creator = await quickActor(d, 'member');
    const member = await quickActor(d, 'member');
    const viewer = await quickActor(d, 'viewer');
    const wt = await createWorktree(creator, repoId, { others_can: 'all', coOwners: [viewer.id] });
    const before = await d.app.get('db')('worktrees').where('id', wt.id).first();
    for (const transport of TRANSPORTS) {
      for (const change of CHANGES) {
        assert.equal(await outcome(client(member, transport).service('worktrees').patch(wt.id, change)), 'Forbidden');
        assert.equal(await outcome(client(viewer, transport).service('worktrees').patch(wt.id, change)), 'Forbidden');
      }
    }
    assert.deepEqual(await d.app.get('db')('worktrees').where('id', wt.id).first(), before);
  });
});
