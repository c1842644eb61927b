// Revoking access reaches running processes (rbac/running.ts; issue 13, break 5), simple mode,
// through a real daemon: command agents running as real executors, web terminals over Socket.IO.
// For each revocation the matching non-revocation: what is still allowed keeps running.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, waitFor, type TestDaemon } from '../helpers/daemon.js';
import { cleanupTempDirs, createWorktree, findAll, newActor, ownerActor, registerRepo, type Actor } from '../helpers/worktree-fixture.js';
import type { PublicSession } from '../../daemon/services/sessions/sessions.shared.js';
import type { PublicTask } from '../../daemon/services/tasks/tasks.shared.js';
import type { PublicMessage } from '../../daemon/services/messages/messages.shared.js';
import type { PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';
import { alive, processesWith } from '../helpers/proc.js';
import { nodeAgent, until } from '../runner/support.js';
import { terminalWireEvent } from '../../daemon/services/terminals/terminals.shared.js';

const AGENTS = {
  // Names itself with a random token (its pid inside the sandbox means nothing here), prints the
  // token, then runs until stopped.
  sleeper: nodeAgent(`const t='slp-'+Math.random().toString(36).slice(2);process.title=t;console.log(t);setInterval(()=>{},1000)`),
};

let d: TestDaemon;
let owner: Actor;
let alice: Actor;
let bob: Actor;
let repoId: string;

before(async () => {
  d = await startTestDaemon({ execution: { worktree_rbac: true, stop_grace_seconds: 1, max_concurrent_tasks: 10, max_tasks_per_user: 5 }, agents: AGENTS }, { runTasks: true });
  owner = await ownerActor(d);
  [alice, bob] = await Promise.all([newActor(d, 'member', 'alice'), newActor(d, 'member', 'bob')]);
  repoId = (await registerRepo(owner)).id;
});

after(async () => {
  await d?.stop();
  cleanupTempDirs();
});

/** A running sleeper task of `actor` in `wt`: its ids and the agent's pid. */
async function sleeper(actor: Actor, wt: PublicWorktree): Promise<{ task: PublicTask; pid: number }> {
  const session = (await actor.rest.service('sessions').create({ worktree_id: wt.id, agent: 'sleeper' })) as PublicSession;
  const task = (await actor.rest.service('tasks').create({ session_id: session.id, prompt: 'sleep' })) as PublicTask;
  const first = await until(async () => (await findAll<PublicMessage>(actor.rest, 'messages', { task_id: task.id }))[0], `the pid of task ${task.id}`);
  const token = (first.content as { text: string }).text.trim();
  const pid = await until(async () => processesWith(token)[0], `the host pid of ${token}`);
  return { task, pid };
}

const taskRow = (id: string) => d.app.get('db')('tasks').where('id', id).first('status', 'reason') as Promise<{ status: string; reason: string | null }>;
const ended = async (id: string) => until(async () => ((await taskRow(id)).status !== 'running' ? taskRow(id) : undefined), `task ${id} to end`);
const auditOf = (taskId: string) => d.app.get('db')('audit_events').where({ action: 'task.stopped_access_revoked', target_id: taskId }).select('actor', 'worktree_id', 'details');

async function openTerminal(actor: Actor, wt: PublicWorktree): Promise<{ id: string; exited: () => boolean }> {
  const service = actor.socket.app.service('terminals') as unknown as { create(data: unknown): Promise<{ id: string }> };
  const { id } = await service.create({ worktree_id: wt.id, cols: 80, rows: 24 });
  let exited = false;
  actor.socket.socket.on(terminalWireEvent('exit'), (e: { id: string }) => {
    if (e.id === id) exited = true;
  });
  return { id, exited: () => exited };
}

describe('revoking access ends the running processes it no longer allows', () => {
  it("others_can none: alice's task and terminal in bob's worktree end at once (audited); bob's own keep running", async () => {
    const wt = await createWorktree(bob, repoId, { others_can: 'all' });
    const alices = await sleeper(alice, wt);
    const bobs = await sleeper(bob, wt);
    const aliceTerm = await openTerminal(alice, wt);
    const bobTerm = await openTerminal(bob, wt);

    // Lowering to `prompt` takes the terminal (tier all) but not the task (tier session).
    await bob.rest.service('worktrees').patch(wt.id, { others_can: 'prompt' });
    await waitFor(() => aliceTerm.exited(), 5000, "alice's terminal to close");
    assert.equal((await taskRow(alices.task.id)).status, 'running', 'a session tier still runs her task');
    assert.ok(alive(alices.pid));
    const closed = await d.app.get('db')('audit_events').where({ action: 'terminal.closed', target_id: aliceTerm.id }).first('details');
    assert.match(JSON.parse(closed.details).reason, /^access revoked: /);

    await bob.rest.service('worktrees').patch(wt.id, { others_can: 'none' });
    const done = await ended(alices.task.id);
    assert.equal(done.status, 'stopped');
    assert.match(done.reason ?? '', /^access revoked: /);
    await waitFor(() => !alive(alices.pid), 5000, "alice's agent to be gone");
    const audit = await auditOf(alices.task.id);
    assert.equal(audit.length, 1);
    assert.equal(audit[0].worktree_id, wt.id);
    assert.equal(JSON.parse(audit[0].details).session_creator, alice.id);

    // The owner's task and terminal are untouched.
    assert.equal((await taskRow(bobs.task.id)).status, 'running');
    assert.ok(alive(bobs.pid));
    assert.equal(bobTerm.exited(), false);
    assert.deepEqual(await auditOf(bobs.task.id), []);
    await bob.rest.service('tasks').patch(bobs.task.id, { status: 'stopped' });
  });

  it('an owner removed, a member demoted to viewer, a user disabled: their tasks stop; others do not', async () => {
    const carol = await newActor(d, 'member', 'carol');
    const dave = await newActor(d, 'member', 'dave');
    const wt = await createWorktree(bob, repoId, { others_can: 'none' });
    await bob.rest.service('worktrees/:worktree_id/owners').create({ user_id: carol.id }, { route: { worktree_id: wt.id } });
    const open = await createWorktree(bob, repoId, { others_can: 'session' });
    const carols = await sleeper(carol, wt);
    const daves = await sleeper(dave, open);
    const alices = await sleeper(alice, open);

    await bob.rest.service('worktrees/:worktree_id/owners').remove(carol.id, { route: { worktree_id: wt.id } });
    assert.match((await ended(carols.task.id)).reason ?? '', /^access revoked: /);

    await owner.rest.service('users').patch(dave.id, { role: 'viewer' });
    assert.match((await ended(daves.task.id)).reason ?? '', /^access revoked: .*viewers may only view/);

    assert.equal((await taskRow(alices.task.id)).status, 'running', "alice's task was not touched by the others' changes");
    await owner.rest.service('users').patch(alice.id, { disabled: true });
    assert.match((await ended(alices.task.id)).reason ?? '', /^access revoked: the user was disabled/);
    for (const t of [carols, daves, alices]) {
      await waitFor(() => !alive(t.pid), 5000, `agent ${t.pid} to be gone`);
      assert.equal((await auditOf(t.task.id)).length, 1);
    }
    await owner.rest.service('users').patch(alice.id, { disabled: false });
  });
});
