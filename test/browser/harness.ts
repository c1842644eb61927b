// Real Chromium (Debian's /usr/bin/chromium, driven by playwright-core) against a real daemon
// serving the built UI. Screenshots go to test-artifacts/browser/ (gitignored) to be looked at.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestDaemon, type TestDaemon, type TestUser } from '../helpers/daemon.js';

export const CHROMIUM = process.env.AGOR_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve(process.env.AGOR_TEST_ARTIFACTS ?? 'test-artifacts/browser');

/**
 * Why this suite cannot run here, or null. Outside CI a missing browser skips with this message;
 * with CI=true it is a failure (the CI image installs chromium; a skip there would hide a gap).
 */
export function missingBrowser(): string | null {
  if (fs.existsSync(CHROMIUM)) return null;
  const why = `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the browser suite`;
  if (process.env.CI === 'true') throw new Error(why);
  return why;
}

export interface Harness {
  daemon: TestDaemon;
  browser: Browser;
  /** A fresh browser profile (no cookies, no storage), at a desktop or phone viewport. */
  newPage(viewport?: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page; errors: string[] }>;
  /** Signs in through the login form and waits for the board. */
  login(page: Page, user: { email: string; password: string }): Promise<void>;
  screenshot(page: Page, name: string): Promise<string>;
  /** Runs `body`; if it throws, every open page is saved as failed-<name>-<n>.png first. */
  step(name: string, body: () => Promise<void>): () => Promise<void>;
  close(): Promise<void>;
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export async function startHarness(config: Record<string, unknown> = {}, options: Parameters<typeof startTestDaemon>[1] = {}): Promise<Harness> {
  const daemon = await startTestDaemon(config, options);
  let browser: Browser;
  try {
    // launch() gives every run a fresh temporary profile; each newContext() is a separate, empty one.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      timeout: 60_000,
    });
  } catch (error) {
    await daemon.stop();
    throw error;
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const contexts: BrowserContext[] = [];

  return {
    daemon,
    browser,
    async newPage(viewport = DESKTOP) {
      const context = await browser.newContext({ viewport, baseURL: daemon.url });
      // Generous: CI runs these beside other suites on two cores.
      context.setDefaultTimeout(30_000);
      contexts.push(context);
      // Nothing but the daemon on 127.0.0.1: any other request is a bug (and would leave the box).
      await context.route(/^(?!https?:\/\/127\.0\.0\.1[:/]|data:|blob:)/, (route) => route.abort());
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      return { context, page, errors };
    },
    async login(page, user) {
      await page.goto('/');
      await page.getByLabel('Email').fill(user.email);
      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('board-title').waitFor();
    },
    async screenshot(page, name) {
      const file = path.join(ARTIFACTS, `${name}.png`);
      // Let transitions (tab switches, fades) end, so the picture shows the settled page.
      await page.evaluate(() => Promise.race([Promise.all(document.getAnimations().filter((a) => a.effect?.getTiming().iterations !== Infinity).map((a) => a.finished)), new Promise((r) => setTimeout(r, 1000))]));
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    step(name, body) {
      return async () => {
        try {
          await body();
        } catch (error) {
          let n = 0;
          for (const c of contexts) for (const p of c.pages()) await p.screenshot({ path: path.join(ARTIFACTS, `failed-${name}-${++n}.png`), fullPage: true }).catch(() => undefined);
          throw error;
        }
      };
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await daemon.stop();
    },
  };
}

export type { TestUser };
