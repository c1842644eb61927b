// The web board end to end in real Chromium against a real daemon: an admin adds a repo and a
// worktree through the dialogs; a member in another browser sees the card, loses it live when the
// owner makes it private, gets it back read-only at `view`; a session with a command agent streams
// its output; a prompt is queued and cancelled; a running one stopped; a terminal runs a command.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { missingBrowser, PHONE, startHarness, type Harness, type TestUser } from './harness.js';
import { nodeAgent, withPrompt } from '../runner/support.js';
import { cleanupTempDirs, makeRepo, tempDir } from '../helpers/worktree-fixture.js';

const skip = missingBrowser();

// Streams a few lines; a prompt containing "slow" keeps running until stopped.
const ECHO_AGENT = nodeAgent(
  withPrompt(
    `if(prompt.includes('slow')){console.log('working slowly on: '+prompt);setInterval(()=>{},1000);return}` +
      `let i=0;const t=setInterval(()=>{console.log('reply '+i+' to: '+prompt);if(++i===3){clearInterval(t)}},60)`,
  ),
);

/** Picks an option of the antd Select labelled `label`. */
async function choose(page: Page, label: string, option: RegExp): Promise<void> {
  await page.getByLabel(label, { exact: true }).click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: option }).first().click();
}

describe('web board', { skip: skip ?? false }, () => {
  let h: Harness;
  let admin: TestUser;
  let bob: TestUser;
  let repoDir: string;
  before(async () => {
    h = await startHarness({ execution: { worktree_rbac: true, allow_web_terminal: true }, agents: { echo: ECHO_AGENT } }, { runTasks: true });
    admin = await h.daemon.createUser('admin', 'ada');
    bob = await h.daemon.createUser('member', 'bob');
    repoDir = makeRepo(`${tempDir('agor-ui-repo-')}/shop`, { 'README.md': '# shop\n' });
  });
  after(async () => {
    await h?.close();
    cleanupTempDirs();
  });

  let worktreeUrl = '';
  let sessionUrl = '';

  it('an admin adds a repo and a worktree through the dialogs; a member sees the card; making it private hides it live; view brings it back read-only', () => h.step('permissions', async () => {
    const a = await h.newPage();
    await h.login(a.page, admin);
    await a.page.getByText(/add a repository, then create a worktree/i).waitFor();
    await h.screenshot(a.page, 'board-empty');

    await a.page.getByRole('button', { name: 'Add repo' }).click();
    await a.page.getByText('Path on this machine').click();
    await a.page.getByRole('textbox', { name: 'Path' }).fill(repoDir);
    await a.page.getByRole('button', { name: 'Add', exact: true }).click();
    // The worktree dialog follows with the new repo picked.
    const dialog = a.page.getByRole('dialog').filter({ hasText: 'New worktree' });
    await dialog.getByText('shop').waitFor();
    // A refused input comes back as the daemon's own sentence, in the dialog.
    await dialog.getByLabel('Name', { exact: true }).fill('bad name!');
    await a.page.getByRole('button', { name: 'Create' }).click();
    await dialog.getByRole('alert').filter({ hasText: /must be 1-64 letters/ }).waitFor();
    await dialog.getByLabel('Name', { exact: true }).fill('checkout-flow');
    await a.page.getByRole('button', { name: 'Create' }).click();
    const adminCard = a.page.locator('[data-testid=worktree-card][data-worktree=checkout-flow]');
    await adminCard.waitFor();
    assert.equal(await adminCard.getByTestId('tier-badge').textContent(), 'owner');

    // Dragged somewhere else, the card stays there after a reload (a board item was saved).
    await dialog.waitFor({ state: 'hidden' });
    const handle = adminCard.getByTestId('drag-handle');
    const box = (await handle.boundingBox())!;
    await a.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await a.page.mouse.down();
    await a.page.mouse.move(box.x + 200, box.y + 60, { steps: 5 });
    await a.page.mouse.move(box.x + 320, box.y + 90, { steps: 5 });
    await a.page.mouse.up();
    const placed = () => adminCard.evaluate((el) => (el.parentElement as HTMLElement).style.left);
    await a.page.waitForFunction(() => true);
    const deadline = Date.now() + 5000;
    while ((await h.daemon.app.get('db')('board_items').count('* as n').first())?.n !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await a.page.reload();
    await adminCard.waitFor();
    assert.ok(parseInt(await placed()) >= 300, `the card kept its place (left ${await placed()})`);
    await h.screenshot(a.page, 'board');

    const b = await h.newPage();
    await h.login(b.page, bob);
    const bobCard = b.page.locator('[data-testid=worktree-card][data-worktree=checkout-flow]');
    await bobCard.waitFor();
    assert.equal(await bobCard.getByTestId('tier-badge').textContent(), 'session');

    // Bob opens it; the admin's board shows him looking.
    await bobCard.getByRole('link', { name: 'checkout-flow' }).click();
    await b.page.getByTestId('worktree-title').waitFor();
    await adminCard.getByTestId('presence-avatar').waitFor();
    await b.page.getByRole('tab', { name: 'Owners & permissions' }).click();
    await b.page.getByTestId('permissions-readonly').waitFor();
    assert.equal(await b.page.getByTestId('permissions-editor').count(), 0, 'a non-owner gets no editor');
    await b.page.getByRole('link', { name: 'Board' }).first().click();
    await bobCard.waitFor();

    // The owner makes it private: bob's card goes away without a reload.
    await adminCard.getByRole('link', { name: 'checkout-flow' }).click();
    worktreeUrl = a.page.url();
    await a.page.getByRole('tab', { name: 'Owners & permissions' }).click();
    await a.page.getByTestId('permissions-editor').waitFor();
    await h.screenshot(a.page, 'worktree-permissions');
    await choose(a.page, 'Others can', /^none/);
    await a.page.getByText('Others can now: none').waitFor();
    await bobCard.waitFor({ state: 'detached' });
    await b.page.getByText(/no worktrees you can see yet/i).waitFor();

    // Back to view: it reappears, read-only.
    await choose(a.page, 'Others can', /^view/);
    await bobCard.waitFor();
    assert.equal(await bobCard.getByTestId('tier-badge').textContent(), 'read-only');
    await h.screenshot(b.page, 'board-member-readonly');
    await bobCard.getByRole('link', { name: 'checkout-flow' }).click();
    await b.page.getByTestId('worktree-title').waitFor();
    await b.page.getByText(/no sessions here yet/i).waitFor();
    assert.equal(await b.page.getByRole('button', { name: 'New session' }).count(), 0, 'no session button at view');
    await h.screenshot(b.page, 'worktree-readonly');

    // Session sharing needs an explicit confirmation that says what it means.
    await a.page.getByRole('switch', { name: 'Session sharing' }).click();
    await a.page.getByText(/keep running as that person, with their credentials/).waitFor();
    await a.page.getByRole('button', { name: 'Allow sharing' }).click();
    await a.page.getByText('Session sharing allowed').waitFor();
    assert.equal(await a.page.getByRole('switch', { name: 'Session sharing' }).getAttribute('aria-checked'), 'true');
    await a.page.getByRole('switch', { name: 'Session sharing' }).click();
    await a.page.getByText('Session sharing turned off').waitFor();

    // Bob becomes a co-owner: his open page turns editable without a reload.
    await choose(a.page, 'Add an owner', /^bob/);
    await a.page.getByTestId('permissions-editor').getByRole('button', { name: /Add$/ }).click();
    await a.page.getByText('Owner added').waitFor();
    await b.page.getByTestId('tier-badge').filter({ hasText: 'owner' }).waitFor();
    await b.page.getByRole('tab', { name: 'Owners & permissions' }).click();
    await b.page.getByTestId('permissions-editor').waitFor();
    // And back: removed, his page is read-only again.
    await a.page.locator('.ant-tag').filter({ hasText: /^bob/ }).locator('.ant-tag-close-icon').click();
    await a.page.getByText(/is no longer an owner/).waitFor();
    await b.page.getByTestId('permissions-readonly').waitFor();
    assert.deepEqual(b.errors, []);
    assert.deepEqual(a.errors, []);
    await b.context.close();
  })());

  it('a session with the command agent streams output; a queued prompt is cancelled; a running one is stopped', () => h.step('session', async () => {
    const { page, errors } = await h.newPage();
    await h.login(page, admin);
    await page.goto(worktreeUrl);
    await page.getByRole('button', { name: 'New session' }).click();
    await choose(page, 'Agent', /^echo$/);
    await page.getByLabel('Title (optional)').fill('Try the echo agent');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByTestId('session-title').filter({ hasText: 'Try the echo agent' }).waitFor();
    sessionUrl = page.url();

    await page.getByLabel('Prompt').fill('hello there');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText('reply 2 to: hello there').waitFor();
    await page.getByTestId('task-block').getByText('completed').waitFor();

    // Structured agent output (as claude-code/codex/gemini produce it) renders live: tool calls
    // collapsed with their input and output inside, thinking collapsed, errors as alerts.
    const [first] = (await h.daemon.app.get('db')('tasks').where('status', 'completed').select('id')) as { id: string }[];
    const messages = h.daemon.app.service('messages' as never) as unknown as { create(data: object): Promise<unknown> };
    await messages.create({ task_id: first!.id, type: 'thinking', content: { text: 'Considering the checkout code' } });
    await messages.create({ task_id: first!.id, type: 'tool_use', content: { id: 't1', name: 'Bash', input: { command: 'npm test -- --grep checkout' } } });
    await messages.create({ task_id: first!.id, type: 'tool_result', content: { tool_use_id: 't1', output: '14 passing\n1 failing: totals round wrong' } });
    await messages.create({ task_id: first!.id, type: 'error', content: { message: 'model API error: overloaded' } });
    await page.getByText('Bash').waitFor();
    assert.equal(await page.getByText('npm test -- --grep checkout', { exact: false }).count(), 1, 'the input is summarised in the header');
    await page.getByText('Bash').click();
    await page.locator('pre').filter({ hasText: '"command": "npm test -- --grep checkout"' }).waitFor();
    await page.getByText('14 passing').first().click();
    await page.locator('pre').filter({ hasText: '1 failing: totals round wrong' }).waitFor();
    await page.getByText('Thinking').click();
    await page.getByText('Considering the checkout code').waitFor();
    await page.getByTestId('message-error').filter({ hasText: 'model API error: overloaded' }).waitFor();
    await h.screenshot(page, 'session-tools');

    await page.getByLabel('Prompt').fill('be slow please');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText('working slowly on: be slow please').waitFor();
    await page.getByLabel('Prompt').fill('queued behind the slow one');
    await page.getByRole('button', { name: 'Queue' }).click();
    const queuedRow = page.getByTestId('queued-task').filter({ hasText: 'queued behind the slow one' });
    await queuedRow.waitFor();
    await h.screenshot(page, 'session-running-with-queue');
    // Another tab on the board shows the counts, and that someone is looking.
    const board = await h.newPage();
    await h.login(board.page, bob);
    const card = board.page.locator('[data-testid=worktree-card][data-worktree=checkout-flow]');
    await card.getByText('1 running').waitFor();
    await card.getByText('1 queued').waitFor();
    await card.getByTestId('presence-avatar').first().waitFor();
    await h.screenshot(board.page, 'board-activity');
    await queuedRow.getByRole('button', { name: 'Cancel queued prompt' }).click();
    await page.getByRole('button', { name: 'Cancel it' }).click();
    await queuedRow.waitFor({ state: 'detached' });
    await card.getByText('1 queued').waitFor({ state: 'detached' });

    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByTestId('task-block').last().getByText('stopped', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Stop' }).waitFor({ state: 'detached' });
    await card.getByText('idle').waitFor();
    await board.context.close();

    // Fork: a new session of the same agent, opened at once.
    await page.getByRole('button', { name: 'Fork' }).click();
    await page.waitForURL((url) => url.hash.startsWith('#/sessions/') && !url.hash.endsWith(sessionUrl.split('#')[1]!.split('/').pop()!));
    await page.getByText('Nothing here yet. Write a prompt below to start.').waitFor();
    assert.equal(await h.daemon.app.get('db')('sessions').whereNotNull('forked_from').count('* as n').first().then((r) => Number(r?.n)), 1);
    await h.screenshot(page, 'session');
    assert.deepEqual(errors, []);
  })());

  it('a terminal runs a command and shows its output', () => h.step('terminal', async () => {
    const { page, errors } = await h.newPage();
    await h.login(page, admin);
    await page.goto(worktreeUrl);
    await page.getByRole('tab', { name: 'Terminal' }).click();
    await page.getByTestId('terminal-status').filter({ hasText: 'Shell runs as' }).waitFor();
    await page.getByTestId('terminal').click();
    await page.keyboard.type('echo hello-$RANDOM\n');
    // The command line shows "$RANDOM" literally; only the shell's output has digits after "hello-".
    const handle = await page.waitForFunction(() => /hello-(\d+)/.exec(document.querySelector('[data-testid=terminal] .xterm-rows')?.textContent ?? '')?.[1], undefined, { timeout: 15_000 });
    assert.match(String(await handle.jsonValue()), /^\d+$/);
    await h.screenshot(page, 'terminal');
    assert.deepEqual(errors, []);
  })());

  it('the board is usable on a 390×844 phone', () => h.step('phone', async () => {
    const { page, errors } = await h.newPage(PHONE);
    await h.login(page, bob);
    await page.locator('[data-testid=worktree-card][data-worktree=checkout-flow]').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling on a phone (overflow ${overflow}px)`);
    await h.screenshot(page, 'board-phone');
    // The worktree page fits too.
    await page.goto(worktreeUrl);
    await page.getByTestId('session-row').first().waitFor();
    const worktreeOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(worktreeOverflow <= 0, `no sideways scrolling on the worktree page (overflow ${worktreeOverflow}px)`);
    await h.screenshot(page, 'worktree-phone');
    // The session, read-only for bob at tier view, also fits.
    await page.goto(sessionUrl);
    await page.getByText('reply 2 to: hello there').waitFor();
    await page.getByText('You can read this session but not prompt it.').waitFor();
    const sessionOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(sessionOverflow <= 0, `no sideways scrolling on the session page (overflow ${sessionOverflow}px)`);
    await h.screenshot(page, 'session-phone');
    assert.deepEqual(errors, []);
  })());
});
