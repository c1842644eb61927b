// Tool approvals in the browser (issue 16), real Chromium against a real daemon running the REAL
// Claude Agent SDK against the fake Anthropic API: a pending request appears live on another
// owner's session page and board card; answering it there resumes the conversation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { missingBrowser, startHarness, type Harness, type TestUser } from './harness.js';
import { cleanupTempDirs, createWorktree, ownerActor, registerRepo, type Actor } from '../helpers/worktree-fixture.js';
import { startFakeAnthropic, toolUseId, type FakeAnthropic } from '../fakes/anthropic.js';
import type { PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';

const skip = missingBrowser();
const LONG = { timeout: 120_000 };

describe('tool approvals on the board', { skip: skip ?? false }, () => {
  let h: Harness;
  let fake: FakeAnthropic;
  let alice: Actor;
  let bob: TestUser;
  let wt: PublicWorktree;
  before(async () => {
    fake = await startFakeAnthropic();
    h = await startHarness({ execution: { worktree_rbac: true, stop_grace_seconds: 2 } }, { runTasks: true });
    const d = h.daemon;
    const a = await d.createUser('member', 'alice');
    const token = await d.login(a.email, a.password);
    alice = { id: a.id, email: a.email, role: 'member', token, rest: d.rest(token), socket: await d.socket(token) };
    bob = await d.createUser('member', 'bob');
    const repo = await registerRepo(await ownerActor(d));
    wt = await createWorktree(alice, repo.id, { others_can: 'none', coOwners: [bob.id] });
    await alice.rest.service('user-secrets').create({ name: 'ANTHROPIC_API_KEY', value: 'sk-ant-fake-browser-0123456789' });
    await alice.rest.service('user-secrets').create({ name: 'ANTHROPIC_BASE_URL', value: fake.url });
  });
  after(async () => {
    await h?.close();
    await fake?.close();
    cleanupTempDirs();
  });

  it('another owner sees the request live on the session page and the board card, allows it, and the conversation resumes', () => h.step('approvals', async () => {
    const session = (await alice.rest.service('sessions').create({ worktree_id: wt.id, agent: 'claude-code', title: 'needs a shell' })) as { id: string };
    const board = await h.newPage();
    await h.login(board.page, bob);
    const card = board.page.locator(`[data-testid="worktree-card"][data-worktree="${wt.name}"]`);
    await card.waitFor();
    assert.equal(await card.getByTestId('needs-approval').count(), 0);
    const view = await h.newPage();
    await h.login(view.page, bob);
    await view.page.goto(`/#/sessions/${session.id}`);
    await view.page.getByTestId('session-title').waitFor();

    // Alice prompts (over the API); Claude asks to run Bash.
    fake.enqueue(
      { blocks: [{ type: 'tool_use', id: toolUseId(), name: 'Bash', input: { command: 'echo from-the-board > board.txt', description: 'scripted' } }] },
      { blocks: [{ type: 'text', text: 'Wrote board.txt.' }] },
    );
    await alice.rest.service('tasks').create({ session_id: session.id, prompt: 'write board.txt' });

    const request = view.page.getByTestId('approval-request');
    await request.waitFor(LONG);
    assert.equal(await request.getAttribute('data-status'), 'pending');
    assert.match((await request.getByTestId('approval-input').textContent())!, /echo from-the-board > board\.txt/);
    await card.getByTestId('needs-approval').waitFor(LONG);
    await view.page.getByTestId('awaiting-permission').waitFor();
    assert.equal(fs.existsSync(path.join(wt.path, 'board.txt')), false, 'nothing ran before the answer');
    await h.screenshot(view.page, 'approval-pending');

    await request.getByTestId('approval-allow').click();
    await view.page.getByText('Wrote board.txt.').waitFor(LONG);
    assert.equal(await request.getAttribute('data-status'), 'allowed');
    assert.equal(fs.readFileSync(path.join(wt.path, 'board.txt'), 'utf8'), 'from-the-board\n');
    await card.getByTestId('needs-approval').waitFor({ state: 'detached', timeout: 60_000 });
    await h.screenshot(view.page, 'approval-answered');
    assert.deepEqual([...board.errors, ...view.errors], []);
  })());
});
