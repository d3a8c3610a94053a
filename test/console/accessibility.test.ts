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

  const pages: [string, string][] = [
    ['/', 'Dashboard'],
    ['/sessions', 'Sessions'],
    ['/managed-servers', 'Managed servers'],
    ['/repositories', 'Repositories'],
    ['/scale-out-repositories', 'Scale-out repositories'],
    ['/credentials', 'Credentials'],
    ['/cloud-credentials', 'Cloud credentials'],
    ['/encryption-passwords', 'Encryption passwords'],
    ['/certificate', 'Server certificate'],
    ['/jobs', 'Jobs'],
    ['/backups', 'Backups'],
    ['/restore-points', 'Restore points'],
    ['/restores', 'Restores'],
  ];

  it.each(pages)('%s (%s) has no serious or critical violations', async (path, heading) => {
    if (path === '/') await signIn(h.page, h.url);
    else await openPage(h.page, h.url, path, heading);
    // Let the page's first API answers arrive, so axe sees the page as a user does.
    await h.page.waitForLoadState('networkidle');
    expect(await seriousViolations(h.page)).toEqual([]);
  });
});
