// The UI is served by the daemon, a user signs in through the form, sees the board, logs out.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missingBrowser, startHarness, type Harness, type TestUser } from './harness.js';
import { cleanupTempDirs, makeRepo, tempDir } from '../helpers/worktree-fixture.js';

const skip = missingBrowser();

describe('web UI smoke', { skip: skip ?? false }, () => {
  let h: Harness;
  let member: TestUser;
  before(async () => {
    h = await startHarness({ execution: { worktree_rbac: true, allow_web_terminal: false } });
    member = await h.daemon.createUser('member', 'mia');
  });
  after(async () => {
    await h?.close();
    cleanupTempDirs();
  });

  it('a wrong password is shown as a readable error; the right one reaches the board; logout returns to the login form', async () => {
    const { page, errors } = await h.newPage();
    await page.goto('/');
    await page.getByLabel('Email').fill(member.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: /invalid email or password/i }).waitFor();

    await h.login(page, member);
    await page.getByText(/no worktrees yet/i).waitFor();
    await h.screenshot(page, 'smoke-board-empty');

    // A reload keeps the session (the token is stored).
    await page.reload();
    await page.getByTestId('board-title').waitFor();

    await page.getByTestId('user-menu').click();
    await page.getByText('Log out').click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.deepEqual(errors.filter((e) => !/401|Not ?Authenticated/i.test(e)), []);
  });

  it('with the web terminal disabled on the daemon, a worktree has no Terminal tab, even for its owner', async () => {
    const token = await h.daemon.login(member.email, member.password);
    const admin = await h.daemon.createUser('admin', 'root');
    const adminToken = await h.daemon.login(admin.email, admin.password);
    const repo = (await h.daemon.rest(adminToken).service('repos').create({ path: makeRepo(`${tempDir('agor-ui-smoke-')}/app`) })) as { id: string };
    const wt = (await h.daemon.rest(token).service('worktrees').create({ repo_id: repo.id, name: 'no-terminal' })) as { id: string };
    const { page, errors } = await h.newPage();
    await h.login(page, member);
    await page.goto(`/#/worktrees/${wt.id}`);
    await page.getByRole('tab', { name: 'Owners & permissions' }).waitFor();
    assert.equal(await page.getByRole('tab', { name: 'Terminal' }).count(), 0);
    assert.deepEqual(errors, []);

    // Made private, an admin sees the record only (no sessions), with the audited take-over offered.
    await h.daemon.rest(token).service('worktrees').patch(wt.id, { others_can: 'none' });
    const adminPage = await h.newPage();
    await h.login(adminPage.page, admin);
    const card = adminPage.page.locator('[data-testid=worktree-card][data-worktree=no-terminal]');
    assert.equal(await card.getByTestId('tier-badge').textContent(), 'record only');
    await card.getByRole('link', { name: 'no-terminal' }).click();
    await adminPage.page.getByText("You see this worktree's record, not its contents").waitFor();
    await adminPage.page.getByRole('button', { name: /Make me an owner/ }).waitFor();
    assert.equal(await adminPage.page.getByRole('tab', { name: 'Sessions' }).count(), 0);
    await h.screenshot(adminPage.page, 'worktree-admin-record-only');
    assert.deepEqual(adminPage.errors, []);
  });
});
