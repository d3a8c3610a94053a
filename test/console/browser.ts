import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../support/server.js';

/** Debian's Chromium; nothing here downloads a browser. */
export const CHROMIUM = process.env.RAMPART_CHROMIUM ?? '/usr/bin/chromium';

export interface ConsoleHarness {
  t: TestServer;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  url: string;
  /** Messages the page logged as errors, and failed page-level requests: a test fails on surprises. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** The real server and a real Chromium pointed at its console. */
export async function startConsole(env: Record<string, string> = {}): Promise<ConsoleHarness> {
  const t = await startTestServer(env);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Root (CI) needs --no-sandbox; shared memory is small in containers.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  // The server's certificate is self-signed: the test accepts it as a user would after comparing it.
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) pageErrors.push(message.text());
  });
  const url = `https://127.0.0.1:${t.server.port}/`;
  return {
    t,
    browser,
    context,
    page,
    url,
    pageErrors,
    close: async () => {
      await browser.close();
      await t.cleanup();
    },
  };
}

export async function signIn(page: Page, url: string, password = ADMIN_PASSWORD): Promise<void> {
  await page.goto(url);
  await page.getByLabel('User name').fill('administrator');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
}

/** Opens a console page, signing in first when the console asks for it (it returns to the page afterwards). */
export async function openPage(page: Page, url: string, hashPath: string, heading: string | RegExp): Promise<void> {
  await page.goto(`${url}#${hashPath}`);
  const wanted = page.getByRole('heading', { name: heading, exact: typeof heading === 'string' }).first();
  const signInButton = page.getByRole('button', { name: 'Sign in' });
  await wanted.or(signInButton).first().waitFor();
  if (await signInButton.isVisible()) {
    await page.getByLabel('User name').fill('administrator');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await signInButton.click();
  }
  await wanted.waitFor();
}

/** A screenshot for the README (docs/console/NAME.png), without transient toasts. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  const path = await import('node:path');
  const folder = path.resolve('docs/console');
  await mkdir(folder, { recursive: true });
  await page.evaluate(() => document.getElementById('toasts')?.remove());
  await page.screenshot({ path: path.join(folder, `${name}.png`), fullPage: true });
}
