// The UI is served by the daemon, a user signs in through the form, sees the board, logs out.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missingBrowser, startHarness, type Harness, type TestUser } from './harness.js';

const skip = missingBrowser();

describe('web UI smoke', { skip: skip ?? false }, () => {
  let h: Harness;
  let member: TestUser;
  before(async () => {
    h = await startHarness({ execution: { worktree_rbac: true } });
    member = await h.daemon.createUser('member', 'mia');
  });
  after(async () => h?.close());

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
});
