import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (or RAMPART_CHROMIUM), headless, as the console benchmarks drive it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.RAMPART_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
}

/**
 * A fresh browser context at the console's sign-in form, the administrator's name and
 * password filled in; the caller presses "Sign in" (timing it when that is the measure).
 */
export async function signInForm(browser: Browser, url: string, password: string): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  // tsx keeps function names with a __name helper that the page does not have.
  await context.addInitScript('window.__name = (f) => f');
  const page = await context.newPage();
  await page.goto(`${url}/`);
  await page.getByLabel('User name').fill('administrator');
  await page.getByLabel('Password').fill(password);
  return page;
}
