// A new user's first minutes in real Chromium: the login page names a command that exists; with no
// agent credentials among their secrets the new-session dialog says so and links to Settings →
// Secrets instead of letting the first prompt fail; once the key is set the agent is offered; and
// a failed prompt's error is shown once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { missingBrowser, startHarness, type Harness, type TestUser } from './harness.js';
import { cleanupTempDirs, makeRepo, tempDir } from '../helpers/worktree-fixture.js';

const skip = missingBrowser();

async function openNewSession(page: Page, worktreeId: string) {
  await page.goto(`/#/worktrees/${worktreeId}`);
  await page.getByRole('button', { name: 'New session' }).click();
  return page.getByRole('dialog').filter({ hasText: 'New session' });
}

describe('first run', { skip: skip ?? false }, () => {
  let h: Harness;
  let ann: TestUser;
  let worktreeId = '';
  before(async () => {
    // No command agents: only the built-ins, which all need an API key.
    h = await startHarness({ execution: { worktree_rbac: true } }, { runTasks: true });
    ann = await h.daemon.createUser('admin', 'ann');
    const api = h.daemon.rest(await h.daemon.login(ann.email, ann.password));
    const repo = (await api.service('repos').create({ path: makeRepo(`${tempDir('agor-first-run-')}/app`, { 'README.md': '# app\n' }) })) as { id: string };
    worktreeId = ((await api.service('worktrees').create({ repo_id: repo.id, name: 'first' })) as { id: string }).id;
  });
  after(async () => {
    await h?.close();
    cleanupTempDirs();
  });

  it('the login page names a real command for getting an account', () => h.step('login-hint', async () => {
    const { page, errors } = await h.newPage();
    await page.goto('/');
    const hint = page.getByText('No account? An admin creates one');
    await hint.waitFor();
    assert.match((await hint.textContent())!, /agor user create\b/);
    assert.doesNotMatch((await hint.textContent())!, /agor users /);
    assert.deepEqual(errors, []);
  })());

  it('without credentials the dialog says so, will not start, and links to Settings → Secrets; with the key it starts', () => h.step('no-credentials', async () => {
    const { page, errors } = await h.newPage();
    await h.login(page, ann);
    let dialog = await openNewSession(page, worktreeId);
    const notice = dialog.getByTestId('missing-credentials');
    await notice.getByText('No agent can run for you yet').waitFor();
    assert.match((await notice.textContent())!, /claude-code needs ANTHROPIC_API_KEY among your secrets/);
    assert.ok(await dialog.getByRole('button', { name: 'Start' }).isDisabled(), 'Start is disabled');
    await h.screenshot(page, 'first-run-no-credentials');
    await notice.getByRole('link', { name: 'Settings → Secrets' }).click();
    await page.waitForURL((url) => url.hash === '#/settings/secrets?name=ANTHROPIC_API_KEY');
    await dialog.waitFor({ state: 'detached' });

    // The key, set where the link led, its name already filled in.
    assert.equal(await page.getByLabel('Secret name').inputValue(), 'ANTHROPIC_API_KEY');
    await page.getByTestId('secret-value').fill('sk-ant-first-run-test');
    await page.getByRole('button', { name: 'Save secret' }).click();
    await page.getByRole('status').filter({ hasText: 'ANTHROPIC_API_KEY was saved' }).waitFor();

    dialog = await openNewSession(page, worktreeId);
    await dialog.getByText('claude-code', { exact: true }).waitFor();
    // The secrets are loaded (the other agents are marked) and claude-code has no notice.
    await dialog.getByLabel('Agent', { exact: true }).click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: 'codex (needs OPENAI_API_KEY)' }).click();
    await dialog.getByTestId('missing-credentials').filter({ hasText: 'codex cannot run for you yet' }).waitFor();
    assert.match((await dialog.getByTestId('missing-credentials').textContent())!, /or pick claude-code/);
    await dialog.getByLabel('Agent', { exact: true }).click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: /^claude-code$/ }).click();
    await dialog.getByTestId('missing-credentials').waitFor({ state: 'detached' });
    assert.ok(await dialog.getByRole('button', { name: 'Start' }).isEnabled(), 'Start is enabled');
    await dialog.getByRole('button', { name: 'Start' }).click();
    await page.getByTestId('session-title').waitFor();
    assert.deepEqual(errors, []);
  })());

  it("a prompt that fails for want of a credential shows the agent's error once", () => h.step('error-once', async () => {
    // Made through the API (the CLI offers no such warning), by a user without the key.
    const bea = await h.daemon.createUser('member', 'bea');
    const api = h.daemon.rest(await h.daemon.login(bea.email, bea.password));
    const mine = (await api.service('worktrees').create({ repo_id: ((await api.service('repos').find()) as { data: { id: string }[] }).data[0]!.id, name: 'bea-first' })) as { id: string };
    const session = (await api.service('sessions').create({ worktree_id: mine.id, agent: 'claude-code' })) as { id: string };
    const { page, errors } = await h.newPage();
    await h.login(page, bea);
    await page.goto(`/#/sessions/${session.id}`);
    await page.getByLabel('Prompt').fill('hello');
    await page.getByRole('button', { name: 'Send' }).click();
    const block = page.getByTestId('task-block');
    await block.getByText('failed', { exact: true }).waitFor();
    await block.getByTestId('message-error').waitFor();
    const text = (await block.textContent())!;
    const sentence = 'ANTHROPIC_API_KEY is not set for the session';
    assert.equal(text.split(sentence).length - 1, 1, `said once: ${text}`);
    assert.equal(await block.getByTestId('task-reason').count(), 0);
    await h.screenshot(page, 'first-run-error-once');
    assert.deepEqual(errors, []);
  })());
});
