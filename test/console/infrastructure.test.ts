import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshKeyPair, startSsh2Peer, type Peer } from '../support/peers.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, startLocalS3 } from '../support/s3.js';
import { openPage, screenshot, signIn, startConsole, type ConsoleHarness } from './browser.js';

let c: ConsoleHarness;
let folder: string;
/** The console asks for Rampart's own fields (pins) the same way. */
const EXTRAS = { 'x-rampart-extras': 'true' };
const peers: Peer[] = [];
const refreshes: string[] = [];

beforeAll(async () => {
  // The shortest access token the server allows (60 s): the console must refresh it silently during this file.
  c = await startConsole({ RAMPART_ACCESS_TOKEN_TTL_SECONDS: '60', RAMPART_PROBE_TIMEOUT_MS: '3000' });
  folder = await mkdtemp(path.join(tmpdir(), 'rampart-console-repo-'));
  c.page.on('request', (request: Request) => {
    if (request.url().endsWith('/api/oauth2/token') && /grant_type=refresh_token/.test(request.postData() ?? '')) refreshes.push(request.url());
  });
  await signIn(c.page, c.url);
});
afterAll(async () => {
  await Promise.all(peers.map((p) => p.close()));
  await c?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe('managed servers', () => {
  const hostKey = sshKeyPair();
  let peerPort: number;

  it('trusts and adds a Linux host through the wizard: probe, fingerprint, confirm, the session log streams in', async () => {
    const peer = await startSsh2Peer({ hostKeys: [hostKey.private], username: 'backup', password: 'Peer-Pw-1' });
    peers.push(peer);
    peerPort = peer.port;
    const { page, url } = c;

    // Credentials first, through the console too.
    await openPage(page, url, '/credentials', 'Credentials');
    await page.getByRole('button', { name: 'Add' }).click();
    const creds = page.getByRole('dialog', { name: 'Add credentials' });
    await creds.getByLabel('Type').selectOption('Linux');
    await creds.getByLabel('User name').fill('backup');
    await creds.getByLabel('Password', { exact: true }).fill('Peer-Pw-1');
    await creds.getByLabel('SSH port').fill(String(peer.port));
    await creds.getByRole('button', { name: 'Add' }).click();
    await page.getByRole('cell', { name: 'backup', exact: true }).waitFor();

    await openPage(page, url, '/managed-servers', 'Managed servers');
    await page.getByRole('button', { name: 'Add server' }).click();
    const wizard = page.getByRole('dialog', { name: 'Add managed server' });
    await wizard.getByLabel('Type').selectOption('LinuxHost');
    await wizard.getByLabel('DNS name or IP address').fill('127.0.0.1');
    await wizard.getByLabel('Description').fill('repository host');
    await wizard.getByRole('button', { name: 'Connect and show identity' }).click();

    // Step 2: the fingerprint the host really presents (checked against the API's own probe).
    const shown = await wizard.locator('code.presented').textContent();
    const token = (await c.t.api.login('administrator', 'Admin-Passw0rd!')).access_token;
    const credsId = (await c.t.api.get('/api/v1/credentials?nameFilter=backup', { token })).body.data[0].id;
    const probe = await c.t.api.post('/api/v1/connectionCertificate', { token, json: { serverName: '127.0.0.1', credentialsId: credsId, type: 'LinuxHost', port: peer.port } });
    expect(shown).toBe(probe.body.fingerprint);
    await screenshot(page, 'managed-server-wizard');
    // Adding without confirming is refused by the wizard itself.
    await wizard.getByRole('button', { name: 'Add server' }).click();
    await wizard.getByText('Confirm that you compared the identity first.').waitFor();
    await wizard.getByLabel('I compared it and trust this host').check();
    await wizard.getByRole('button', { name: 'Add server' }).click();

    // Step 3: the session's log streams into the dialog until it ends.
    const log = wizard.getByRole('list', { name: 'Session log' });
    await wizard.locator('.session-line .badge-success').waitFor({ timeout: 30_000 });
    expect(await log.locator('li').count()).toBeGreaterThan(2);
    await expect(log.textContent()).resolves.toMatch(/fingerprint|host key/i);
    await wizard.getByRole('button', { name: 'Close' }).last().click();
    await page.getByRole('cell', { name: '127.0.0.1', exact: true }).waitFor();
    const listed = (await c.t.api.get('/api/v1/backupInfrastructure/managedServers?nameFilter=127.0.0.1', { token, headers: EXTRAS })).body.data[0];
    expect(listed).toMatchObject({ type: 'LinuxHost', sshFingerprint: shown, status: 'Available' });
  });

  it('edits the server\u2019s description in a session shown live', async () => {
    const { page, url } = c;
    await openPage(page, url, '/managed-servers', 'Managed servers');
    await page.getByRole('button', { name: 'Edit 127.0.0.1' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit 127.0.0.1' });
    await dialog.getByLabel('Description').fill('repository host, rack 2');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.locator('.session-line .badge-success').waitFor({ timeout: 30_000 });
    await dialog.getByRole('button', { name: 'Close' }).last().click();
    await page.getByRole('cell', { name: 'repository host, rack 2', exact: true }).waitFor();
  });

  it('shows a changed host key as a warning and keeps the old pin unless the user trusts the new one', async () => {
    await peers.pop()!.close();
    const other = sshKeyPair();
    peers.push(await startSsh2Peer({ hostKeys: [other.private], username: 'backup', password: 'Peer-Pw-1' }, '127.0.0.1', peerPort));
    const { page, url } = c;
    await openPage(page, url, '/managed-servers', 'Managed servers');
    await page.getByRole('button', { name: 'Check the identity of 127.0.0.1' }).click();
    const dialog = page.getByRole('dialog', { name: 'Identity of 127.0.0.1' });
    await dialog.getByText('The host presents a different identity than the one it was added with.').waitFor();
    await dialog.getByRole('button', { name: 'Keep the old pin' }).click();
    const token = (await c.t.api.login('administrator', 'Admin-Passw0rd!')).access_token;
    const listed = (await c.t.api.get('/api/v1/backupInfrastructure/managedServers?nameFilter=127.0.0.1', { token, headers: EXTRAS })).body.data[0];
    const shownBefore = listed.sshFingerprint;
    expect(shownBefore).toBeTruthy();
    await page.getByRole('button', { name: 'Check the identity of 127.0.0.1' }).click();
    await page.getByRole('button', { name: 'Trust the new identity' }).click();
    await page.locator('dialog .session-line .badge-success, dialog .session-line .badge-warning').first().waitFor({ timeout: 30_000 });
    const after = (await c.t.api.get(`/api/v1/backupInfrastructure/managedServers/${listed.id}`, { token, headers: EXTRAS })).body;
    expect(after.sshFingerprint).not.toBe(shownBefore);
    await page.getByRole('button', { name: 'Close' }).last().click();
  });
});

describe('repositories', () => {
  it('adds a local folder repository through the wizard and shows its capacity bar', async () => {
    const { page, url } = c;
    const repoFolder = path.join(folder, 'backups');
    await mkdir(folder, { recursive: true });
    await openPage(page, url, '/repositories', 'Repositories');
    await page.getByRole('button', { name: 'Add repository' }).click();
    const wizard = page.getByRole('dialog', { name: 'Add repository' });
    await wizard.getByLabel('Kind').selectOption('local');
    await wizard.getByRole('textbox', { name: 'Name', exact: true }).fill('Local backups');
    await wizard.getByRole('textbox', { name: 'Folder', exact: true }).fill(repoFolder);
    await wizard.getByRole('button', { name: 'Add repository' }).click();
    await wizard.locator('.session-line .badge-success').waitFor({ timeout: 30_000 });
    await wizard.getByRole('button', { name: 'Close' }).last().click();

    const meter = page.locator('meter[aria-label^="Local backups:"]');
    await meter.waitFor();
    const max = Number(await meter.getAttribute('max'));
    const value = Number(await meter.getAttribute('value'));
    expect(max).toBeGreaterThan(0);
    expect(value).toBeGreaterThan(0);
    expect(value).toBeLessThanOrEqual(max);
    // The figures are the API's.
    const token = (await c.t.api.login('administrator', 'Admin-Passw0rd!')).access_token;
    const state = (await c.t.api.get('/api/v1/backupInfrastructure/repositories/states?nameFilter=Local backups', { token })).body.data[0];
    // As df shows it: used against used + free (blocks reserved for root count in neither).
    expect(value).toBeCloseTo(state.usedSpaceGB, 1);
    expect(max).toBeCloseTo(Math.min(state.capacityGB, state.usedSpaceGB + state.freeGB), 1);
    await screenshot(page, 'repositories');

    // A bad folder: the API's message stays in the form.
    await page.getByRole('button', { name: 'Add repository' }).click();
    const bad = page.getByRole('dialog', { name: 'Add repository' });
    await bad.getByRole('textbox', { name: 'Name', exact: true }).fill('Relative');
    await bad.getByRole('textbox', { name: 'Folder', exact: true }).fill('relative/path');
    await bad.getByRole('button', { name: 'Add repository' }).click();
    await bad.locator('.notice-error, .field-error:not(:empty), .session-line .badge-failed').first().waitFor();
    await bad.getByRole('button', { name: 'Close' }).first().click();

    // The dashboard shows it too.
    await openPage(page, url, '/', 'Dashboard');
    await page.locator('.repo-list meter').first().waitFor();
    await screenshot(page, 'dashboard');
  });

  it('puts an extent of a scale-out repository into sealed mode after a confirmation', async () => {
    const { page, url } = c;
    await openPage(page, url, '/scale-out-repositories', 'Scale-out repositories');
    await page.getByRole('button', { name: 'Add scale-out repository' }).click();
    const add = page.getByRole('dialog', { name: 'Add scale-out repository' });
    await add.getByRole('textbox', { name: 'Name', exact: true }).fill('SOBR 1');
    await add.getByLabel(/Local backups/).check();
    await add.getByRole('button', { name: 'Add' }).click();
    await page.getByRole('cell', { name: 'SOBR 1', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Extent modes of SOBR 1' }).click();
    await page.getByRole('button', { name: 'Seal Local backups' }).click();
    await page.getByRole('dialog', { name: 'Seal: Local backups?' }).getByRole('button', { name: 'Seal' }).click();
    await page.locator('dialog .session-line .badge-success').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Close' }).last().click();
    await page.getByRole('cell', { name: /Local backups\s*Sealed/ }).waitFor();
  });
});

describe('object storage', () => {
  it('adds cloud credentials (secret never shown) and an S3-compatible repository through the wizard', async () => {
    const s3 = await startLocalS3(['console']);
    peers.push({ port: s3.port, close: () => s3.stop() });
    await s3.putCapacityXml('console', { capacity: 8 * 1024 ** 4, available: 3 * 1024 ** 4, used: 5 * 1024 ** 4 }, 'rampart');
    const { page, url } = c;
    await openPage(page, url, '/cloud-credentials', 'Cloud credentials');
    await page.getByRole('button', { name: 'Add' }).click();
    const creds = page.getByRole('dialog', { name: 'Add cloud credentials' });
    await creds.getByLabel('Type').selectOption('Amazon');
    await creds.getByRole('textbox', { name: 'Access key', exact: true }).fill(S3_ACCESS_KEY);
    await creds.getByLabel('Secret key').fill(S3_SECRET_KEY);
    await creds.getByRole('button', { name: 'Add' }).click();
    await page.getByRole('cell', { name: S3_ACCESS_KEY, exact: true }).waitFor();
    expect(await page.locator('main').textContent()).not.toContain(`${S3_SECRET_KEY}${S3_SECRET_KEY}`);
    await expect(page.getByRole('cell', { name: 'not shown' }).count()).resolves.toBe(1);

    await openPage(page, url, '/repositories', 'Repositories');
    await page.getByRole('button', { name: 'Add repository' }).click();
    const wizard = page.getByRole('dialog', { name: 'Add repository' });
    await wizard.getByLabel('Kind').selectOption('s3');
    await wizard.getByRole('textbox', { name: 'Name', exact: true }).fill('Object storage');
    await wizard.getByLabel('Service point (endpoint URL)').fill(s3.endpoint);
    await wizard.getByRole('textbox', { name: 'Bucket', exact: true }).fill('console');
    await wizard.getByRole('button', { name: 'Add repository' }).click();
    await wizard.locator('.session-line .badge-success').waitFor({ timeout: 30_000 });
    await wizard.getByRole('button', { name: 'Close' }).last().click();
    const meter = page.locator('meter[aria-label^="Object storage:"]');
    await meter.waitFor();
    expect(Number(await meter.getAttribute('max'))).toBeCloseTo(8 * 1024, 0);
    await expect(page.getByText('3.00 TB free of 8.00 TB').count()).resolves.toBe(1);
  });
});

describe('sessions', () => {
  it('lists sessions filtered by the API and opens one with its log', async () => {
    const { page, url } = c;
    await openPage(page, url, '/sessions', 'Sessions');
    await page.getByLabel('Type').selectOption('RepositoryMaintenance');
    await page.getByRole('cell', { name: 'RepositoryMaintenance', exact: true }).first().waitFor();
    // The filtered page replaces the unfiltered one when the API answers: wait for it, then no other type is listed.
    await expect.poll(() => page.getByRole('cell', { name: 'Infrastructure', exact: true }).count(), { timeout: 10_000 }).toBe(0);
    await page.getByLabel('Type').selectOption('');
    await page.getByRole('cell', { name: 'Infrastructure', exact: true }).first().waitFor();
    await screenshot(page, 'sessions');
    await page.getByLabel('Type').selectOption('RepositoryMaintenance');
    await expect.poll(() => page.getByRole('cell', { name: 'Infrastructure', exact: true }).count(), { timeout: 10_000 }).toBe(0);
    await page.locator('table tbody a[href^="#/sessions/"]').first().click();
    await page.getByRole('list', { name: 'Session log' }).locator('li').first().waitFor();
    await page.getByRole('link', { name: '‹ All sessions' }).waitFor();
    await screenshot(page, 'session');
  });

  it('refreshed the access token silently: still signed in after its 60 s lifetime', async () => {
    const { page, url } = c;
    for (let i = 0; i < 70 && refreshes.length === 0; i++) await new Promise((r) => setTimeout(r, 1000));
    expect(refreshes.length).toBeGreaterThan(0);
    await page.getByRole('link', { name: 'Repositories', exact: true }).click();
    await page.getByRole('heading', { name: 'Repositories', exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'Sign in' }).count()).toBe(0);
    void url;
    expect(c.pageErrors).toEqual([]);
  }, 90_000);
});
