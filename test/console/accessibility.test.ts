import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, signIn, startConsole, type ConsoleHarness } from './browser.js';

/**
 * axe-core's own browser build, evaluated in the page through the DevTools protocol
 * (a script tag would be refused by the console's strict Content-Security-Policy, rightly).
 */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** The serious and critical violations axe finds on what the page shows now. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate('axe.run(document).then((r) => ({ violations: r.violations, passed: r.passes.length }))')) as {
    violations: AxeViolation[];
    passed: number;
  };
  // axe really looked at the page: it checked rules, some of them passed.
  expect(result.passed).toBeGreaterThan(5);
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

let h: ConsoleHarness;

beforeAll(async () => {
  h = await startConsole();
});
afterAll(() => h.close());

describe('accessibility (axe-core) on every console page', () => {
  it('the sign-in page has no serious or critical violations', async () => {
    await h.page.goto(h.url);
    await h.page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await seriousViolations(h.page)).toEqual([]);
  });

  it('every page the navigation lists (read from the page itself) has no serious or critical violations', async () => {
    await signIn(h.page, h.url);
    // The console's own navigation is the list: a page added to it is audited without touching this test.
    const pages = await h.page
      .locator('nav[aria-label="Sections"] ul a')
      .evaluateAll((links) => links.map((a) => [(a.getAttribute('href') ?? '').replace(/^#/, ''), (a.textContent ?? '').trim()] as [string, string]));
    expect(pages.length).toBeGreaterThan(15);
    expect(pages).toContainEqual(['/proxies', 'Backup proxies']);
    const found: Record<string, string[]> = {};
    for (const [path, heading] of pages) {
      await openPage(h.page, h.url, path, heading);
      // Let the page's first API answers arrive, so axe sees the page as a user does.
      await h.page.waitForLoadState('networkidle');
      // A page that fell into the error boundary would pass axe while showing nothing of its own.
      const errors = await h.page.locator('main .notice-error').allTextContents();
      const violations = [...errors.map((e) => `error shown: ${e}`), ...(await seriousViolations(h.page))];
      if (violations.length) found[path] = violations;
    }
    expect(found).toEqual({});
    // One page after another on a shared two-core machine: a minute is not enough for twenty of them.
  }, 300_000);
});
