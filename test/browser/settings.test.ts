// Settings in real Chromium against a real daemon: an admin changes a role (checked through the
// API), a member sees no admin settings (and the API refuses them), an API key is shown once and
// works against REST, a secret's value never reaches the page. Screenshots of admin and member.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { OWNER } from '../helpers/daemon.js';
import { outcome } from '../helpers/worktree-fixture.js';
import { ARTIFACTS, missingBrowser, PHONE, startHarness, type Harness, type TestUser } from './harness.js';
import type { PublicUser } from '../../daemon/services/users/users.shared.js';

const skip = missingBrowser();

/** Everything the page holds as text: markup, and the live value of every input (not always in the markup). */
async function pageText(page: Page): Promise<string> {
  const values = await page.evaluate(() => [...document.querySelectorAll('input, textarea')].map((e) => (e as HTMLInputElement).value).join('\n'));
  return `${await page.content()}\n${values}`;
}

/** Waits until nothing animates or loads (a modal zooming in, a list fading), so screenshots show the settled page. */
async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelectorAll('.ant-spin-spinning').length === 0 && document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity));
}

/** The full page, and for phones also what the first screen shows. */
async function shoot(h: Harness, page: Page, name: string): Promise<void> {
  await settled(page);
  await h.screenshot(page, name);
  if (page.viewportSize()?.width === PHONE.width) await page.screenshot({ path: path.join(ARTIFACTS, `${name}-screen.png`) });
}

async function openTab(page: Page, tab: string): Promise<void> {
  await page.goto(`/#/settings/${tab}`);
  await page.getByTestId('settings').waitFor();
}

describe('settings', { skip: skip ?? false }, () => {
  let h: Harness;
  let admin: TestUser;
  let member: TestUser;
  let target: TestUser;
  let ownerToken: string;
  before(async () => {
    h = await startHarness({ execution: { worktree_rbac: true } });
    [admin, member, target] = [await h.daemon.createUser('admin', 'ada'), await h.daemon.createUser('member', 'mia'), await h.daemon.createUser('member', 'tom')];
    ownerToken = await h.daemon.login(OWNER.email, OWNER.password);
  });
  after(async () => h?.close());

  it("an admin changes a member's role, offered only the roles an admin may grant; the daemon has it", async () => {
    const { page, errors } = await h.newPage();
    await h.login(page, admin);
    await openTab(page, 'users');
    const row = page.locator(`[data-testid="user-row"][data-email="${target.email}"]`);
    await row.getByTestId('user-role').click();
    const dropdown = page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden)');
    await dropdown.locator('.ant-select-item-option').first().waitFor();
    const offered = await dropdown.locator('.ant-select-item-option:not(.ant-select-item-option-disabled)').allTextContents();
    assert.deepEqual(offered.sort(), ['member', 'viewer'], 'an admin may grant viewer and member only (daemon/auth/roles.ts)');
    await dropdown.locator('.ant-select-item-option[title="viewer"]').click();
    await page.getByRole('status').filter({ hasText: `${target.email} is now viewer` }).waitFor();
    const stored = (await h.daemon.rest(ownerToken).service('users').get(target.id)) as PublicUser;
    assert.equal(stored.role, 'viewer');

    // Admins and the owner are not editable by an admin: shown, never offered.
    const ownerRow = page.locator(`[data-testid="user-row"][data-email="${OWNER.email}"]`);
    assert.equal(await ownerRow.getByTestId('user-role').count(), 0);
    assert.equal(await ownerRow.getByTestId('user-role-fixed').textContent(), 'owner');

    // A refusal from the daemon reads as a sentence: linking a system account name.
    await row.getByRole('button', { name: 'Link Unix' }).click();
    await page.getByTestId('unix-username').fill('root');
    await page.getByRole('button', { name: 'Link', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: /must match \^agor_/ }).waitFor();
    await shoot(h, page, 'settings-admin-unix-link-refused');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('unix-username').waitFor({ state: 'hidden' });

    // A new user, offered only grantable roles; the daemon stores what the form said.
    await page.getByRole('button', { name: 'New user' }).click();
    const form = page.getByTestId('create-user-form');
    await form.getByTestId('create-user-role').click();
    const roleOptions = page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option');
    await roleOptions.first().waitFor();
    assert.deepEqual((await roleOptions.allTextContents()).sort(), ['member', 'viewer']);
    await page.keyboard.press('Escape');
    await form.getByLabel('Email', { exact: true }).fill('newbie@test.local');
    await form.getByLabel('Name', { exact: true }).fill('New Bie');
    await form.getByLabel('Initial password').fill('newbie-password-1');
    await form.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('status').filter({ hasText: 'newbie@test.local was created as member' }).waitFor();
    const created = (await h.daemon.rest(ownerToken).service('users').find({ query: { email: 'newbie@test.local' } })) as { data: PublicUser[] };
    assert.deepEqual(created.data.map((u) => [u.name, u.role]), [['New Bie', 'member']]);
    await shoot(h, page, 'settings-admin-users');

    await openTab(page, 'audit');
    await page.getByTestId('audit-chain-status').filter({ hasText: /Chain verified: \d+ events/ }).waitFor();
    await page.locator('[data-testid="audit-row"]').filter({ hasText: 'user.role_changed' }).first().waitFor();
    await shoot(h, page, 'settings-admin-audit');

    // A row edited behind the daemon's back: "Verify again" names the broken seq.
    const db = h.daemon.app.get('db');
    const edited = (await db('audit_events').orderBy('seq').offset(1).first('seq', 'actor_label')) as { seq: number; actor_label: string };
    await db('audit_events').where('seq', edited.seq).update({ actor_label: 'someone-else@test.local' });
    try {
      await page.getByRole('button', { name: 'Verify again' }).click();
      await page.getByTestId('audit-chain-status').filter({ hasText: `Chain broken at seq ${edited.seq}` }).filter({ hasText: /hash mismatch/ }).waitFor();
      await shoot(h, page, 'settings-admin-audit-broken');
    } finally {
      await db('audit_events').where('seq', edited.seq).update({ actor_label: edited.actor_label });
    }
    await page.getByRole('button', { name: 'Verify again' }).click();
    await page.getByTestId('audit-chain-status').filter({ hasText: /Chain verified/ }).waitFor();

    // Live: a login elsewhere appears without a reload.
    await h.daemon.login(target.email, target.password);
    await page.locator('[data-testid="audit-row"]').filter({ hasText: 'auth.login' }).filter({ hasText: target.email }).first().waitFor();

    // Filter by action: only matching rows remain.
    await page.getByTestId('audit-filter-action').click();
    await page.keyboard.type('auth.login_f');
    await page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option[title="auth.login_failed"]').click();
    await page.getByText(/No events match these filters/).waitFor();
    assert.deepEqual(errors, []);
  });

  it('a member sees no admin settings, and the daemon refuses them what those pages would do', async () => {
    const { page, errors } = await h.newPage();
    await h.login(page, member);
    await openTab(page, 'profile');
    const tabs = await page.getByRole('tab').allTextContents();
    assert.deepEqual(tabs, ['Profile', 'API keys', 'Secrets']);
    // Typing an admin tab's address shows the profile instead.
    for (const tab of ['users', 'audit']) {
      await page.goto(`/#/settings/${tab}`);
      await page.waitForURL(/#\/settings\/profile$/);
      assert.equal(await page.getByTestId('settings-users').count(), 0);
      assert.equal(await page.getByTestId('settings-audit').count(), 0);
    }
    await shoot(h, page, 'settings-member-profile');

    // Deny side: the API, not the hidden tab, is what stops a member.
    const token = await h.daemon.login(member.email, member.password);
    const api = h.daemon.rest(token);
    assert.equal(await outcome(api.service('users').patch(target.id, { role: 'member' })), 'Forbidden');
    assert.equal(await outcome(api.service('users').patch(member.id, { role: 'admin' })), 'Forbidden');
    assert.equal(await outcome(api.service('users').create({ email: 'sneaky@test.local', password: 'password-123', role: 'member' })), 'Forbidden');
    assert.equal(await outcome(api.service('audit').find()), 'Forbidden');
    assert.equal(await outcome(api.service('audit-chain').find()), 'Forbidden');
    assert.equal(((await h.daemon.rest(ownerToken).service('users').get(target.id)) as PublicUser).role, 'viewer', 'unchanged');

    // Own profile: the name is saved; a wrong current password is a readable refusal.
    await page.getByLabel('Display name').fill('Mia Renamed');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByRole('status').filter({ hasText: 'Your name was saved' }).waitFor();
    assert.equal(((await api.service('users').get('me')) as PublicUser).name, 'Mia Renamed');
    await page.getByLabel('Current password').fill('not-my-password');
    await page.getByLabel('New password', { exact: true }).fill('a-new-password-1');
    await page.getByLabel('New password again').fill('a-new-password-1');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('alert').filter({ hasText: /current password/ }).waitFor();
    assert.deepEqual(errors, []);
  });

  it('an API key created in the UI is shown once, works against the REST API, and is not shown again after a reload', async () => {
    const { page, errors } = await h.newPage();
    await h.login(page, member);
    await openTab(page, 'api-keys');
    await page.getByText(/You have no API keys yet/).waitFor();
    await page.getByRole('button', { name: 'New key' }).click();
    await page.getByLabel('Name').fill('laptop CLI');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByText("Copy it now: you won't see this key again.").waitFor();
    const key = await page.getByTestId('new-api-key').inputValue();
    assert.match(key, /^agor_sk_[A-Za-z0-9_-]{40,}$/);
    await page.getByTestId('copy-api-key').waitFor();
    await shoot(h, page, 'settings-member-new-key');

    const res = await fetch(`${h.daemon.url}/users/me`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as PublicUser).email, member.email);

    await page.getByTestId('close-new-key').click();
    await page.getByTestId('api-key-row').filter({ hasText: 'laptop CLI' }).waitFor();
    await page.getByTestId('new-api-key').waitFor({ state: 'detached' });
    const left = await pageText(page);
    const at = left.indexOf(key);
    assert.ok(at < 0, `closed, the key is gone from the page: ${left.slice(Math.max(0, at - 300), at + 100)}`);
    await page.reload();
    await page.getByTestId('api-key-row').filter({ hasText: 'laptop CLI' }).waitFor();
    assert.ok(!(await pageText(page)).includes(key), 'after a reload the key is nowhere in the page');
    assert.ok((await page.getByTestId('api-key-row').textContent())!.includes(key.slice(0, 14)), 'only its prefix is listed');

    // Revoked in the UI, it stops working.
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'Revoke' }).click();
    await page.getByTestId('api-key-row').filter({ hasText: 'revoked' }).waitFor();
    assert.equal((await fetch(`${h.daemon.url}/users/me`, { headers: { authorization: `Bearer ${key}` } })).status, 401);
    await shoot(h, page, 'settings-member-api-keys');
    assert.deepEqual(errors, []);
  });

  it("a secret set in the UI is stored, and its value never appears in the page afterwards", async () => {
    const { page, errors } = await h.newPage(PHONE);
    await h.login(page, member);
    await openTab(page, 'secrets');
    await page.getByText(/No secrets yet/).waitFor();
    const value = `sk-test-${crypto.randomBytes(12).toString('hex')}`;
    await page.getByLabel('Secret name').fill('ANTHROPIC_API_KEY');
    await page.getByTestId('secret-value').fill(value);
    await page.getByRole('button', { name: 'Save secret' }).click();
    await page.getByRole('status').filter({ hasText: 'ANTHROPIC_API_KEY was saved' }).waitFor();
    const row = page.getByTestId('secret-row').filter({ hasText: 'ANTHROPIC_API_KEY' });
    await row.filter({ hasText: 'fingerprint' }).waitFor();
    assert.ok(!(await pageText(page)).includes(value), 'after saving, the value is nowhere in the page');

    const token = await h.daemon.login(member.email, member.password);
    const stored = (await h.daemon.rest(token).service('user-secrets').find()) as { data: { name: string; fingerprint: string | null }[] };
    assert.deepEqual(stored.data.map((s) => s.name), ['ANTHROPIC_API_KEY']);
    assert.ok((await row.textContent())!.includes(stored.data[0]!.fingerprint!), 'the listed fingerprint is the stored one');

    // A refused name is a readable message, and nothing is stored.
    await page.getByLabel('Secret name').fill('LD_PRELOAD');
    await page.getByTestId('secret-value').fill('x');
    await page.getByRole('button', { name: 'Save secret' }).click();
    await page.getByText(/dynamic loader/).waitFor();
    await page.getByRole('button', { name: 'Clear' }).click();
    await shoot(h, page, 'settings-member-secrets-phone');

    await page.reload();
    await row.waitFor();
    assert.ok(!(await pageText(page)).includes(value), 'after a reload, still nowhere');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= PHONE.width, `no sideways scrolling at 390 px (page is ${width} px wide)`);
    assert.deepEqual(errors, []);
  });

  it('the admin pages fit a phone', async () => {
    const { page, errors } = await h.newPage(PHONE);
    await h.login(page, admin);
    for (const tab of ['profile', 'users', 'audit']) {
      await openTab(page, tab);
      await page.getByRole('tab', { selected: true }).waitFor();
      if (tab === 'audit') await page.getByTestId('audit-chain-status').filter({ hasText: /verified/ }).waitFor();
      else if (tab === 'users') await page.getByTestId('user-row').first().waitFor();
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= PHONE.width, `${tab}: no sideways scrolling at 390 px (page is ${width} px wide)`);
      for (const box of await Promise.all((await page.getByRole('tab').all()).map((t) => t.boundingBox()))) {
        assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width, `${tab}: every settings tab is on screen`);
      }
      await shoot(h, page, `settings-admin-${tab}-phone`);
    }
    assert.deepEqual(errors, []);
  });
});
