// `agor approvals`, `agor approve`, `agor deny` (issue 16): the built CLI as a child process against
// a real daemon, each person with their own API key. Approvals are recorded as the runner records them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { cleanupTempDirs, createSession, createTask, createWorktree, insertApproval, newActor, ownerActor, registerRepo, type Actor } from '../helpers/worktree-fixture.js';

let d: TestDaemon;
let alice: Actor; // the session's creator
let carol: Actor; // tier prompt, not the creator
const keys: Record<string, string> = {};
let sessionId: string;
let taskId: string;

async function keyOf(a: Actor): Promise<string> {
  return ((await a.rest.service('api-keys').create({ name: 'cli' })) as { key: string }).key;
}
const agor = (who: string, ...args: string[]) => runCli(['--url', d.url, ...args], { AGOR_HOME: d.home, AGOR_API_KEY: keys[who]! });

before(async () => {
  d = await startTestDaemon({ execution: { worktree_rbac: true } });
  const admin = await ownerActor(d);
  [alice, carol] = await Promise.all([newActor(d, 'member', 'alice'), newActor(d, 'member', 'carol')]);
  const repo = await registerRepo(admin);
  const wt = await createWorktree(alice, repo.id, { others_can: 'prompt' });
  sessionId = (await createSession(alice, wt.id)).id;
  taskId = (await createTask(alice, sessionId)).id;
  keys.alice = await keyOf(alice);
  keys.carol = await keyOf(carol);
});
after(async () => {
  await d?.stop();
  cleanupTempDirs();
});

describe('agor approvals / approve / deny', () => {
  it('lists what waits for me, answers it, and refuses someone who may not answer', async () => {
    const first = await insertApproval(d, taskId, 'Bash', { command: 'npm test -- --grep approvals' });
    const second = await insertApproval(d, taskId, 'Write', { file_path: '/srv/x/notes.md', content: 'x' });

    const listed = await agor('alice', 'approvals');
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${first}\\s+pending\\s+Bash\\s+npm test -- --grep approvals`));
    assert.match(listed.stdout, new RegExp(`${second}\\s+pending\\s+Write\\s+/srv/x/notes.md`));
    // carol sees the worktree but nothing waits for her.
    const hers = await agor('carol', 'approvals');
    assert.equal(hers.code, 0, hers.stderr);
    assert.equal(hers.stdout.trim(), '(none)');

    const refused = await agor('carol', 'approve', first);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^agor: only the session's creator and the worktree's owners may do this/);

    const approved = await agor('alice', 'approve', first, '--for-session', '--prefix', 'npm test');
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, /status: allowed/);
    assert.match(approved.stdout, /scope: session/);
    assert.match(approved.stdout, /command_prefix: npm test/);

    const denied = await agor('alice', 'deny', second, '--message', 'write it under docs/ instead');
    assert.equal(denied.code, 0, denied.stderr);
    assert.match(denied.stdout, /status: denied/);
    assert.match(denied.stdout, /message: write it under docs\/ instead/);

    assert.equal((await agor('alice', 'approvals')).stdout.trim(), '(none)');
    const all = JSON.parse((await agor('alice', 'approvals', '--all', '--json')).stdout) as { id: string; status: string }[];
    assert.deepEqual(all.map((a) => [a.id, a.status]).sort(), [[first, 'allowed'], [second, 'denied']].sort());
    const again = await agor('alice', 'deny', first);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /This request is no longer waiting \(it was allowed\)/);
  });
});
