import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addLocalRepository } from '../support/repositories.js';
import { startSmtpServer, type SmtpServer } from '../support/smtp.js';
import { openPage, screenshot, signIn, startConsole, type ConsoleHarness } from './browser.js';

let c: ConsoleHarness;
let dir: string;
let token: string;
let backupServerId: string;
let smtp: SmtpServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rampart-console-settings-'));
  smtp = await startSmtpServer(dir);
  c = await startConsole({ RAMPART_SMTP_CA_FILE: smtp.cert, RAMPART_REPOSITORY_REFRESH_SECONDS: '0' });
  token = await c.t.adminToken();
  backupServerId = (await c.t.server.store.db.selectFrom('settings').select('value').where('key', '=', 'backup_server_id').executeTakeFirstOrThrow()).value;
  await signIn(c.page, c.url);
});
afterAll(async () => {
  await c?.close();
  await smtp?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('backup proxies', () => {
  it('adds the backup server as a proxy (its session log shown), refuses a bad task count next to the field, edits and removes it', async () => {
    const { page, url } = c;
    await openPage(page, url, '/proxies', 'Backup proxies');
    await page.getByRole('button', { name: 'Add proxy' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add backup proxy' });
    await dialog.getByLabel('Server').selectOption(backupServerId);
    await dialog.getByLabel('Description').fill('console proxy');
    await dialog.getByLabel('Transport mode').selectOption('network');

    // The API's own message, next to the field it names; nothing stored.
    await dialog.getByLabel('Maximum concurrent tasks').fill('0');
    await dialog.getByRole('button', { name: 'Add proxy' }).click();
    const taskField = dialog.locator('.field', { has: page.getByLabel('Maximum concurrent tasks') });
    // Waits for the API's answer: the message appears once the 400 is back.
    await expect.poll(() => taskField.locator('.field-error').textContent()).toMatch(/maxTaskCount/);
    expect((await c.t.api.get('/api/v1/backupInfrastructure/proxies', { token })).body.pagination.total).toBe(0);

    await dialog.getByLabel('Maximum concurrent tasks').fill('3');
    await dialog.getByRole('button', { name: 'Add proxy' }).click();
    await dialog.locator('.session-line .badge-success').waitFor({ timeout: 30_000 });
    expect(await dialog.getByRole('list', { name: 'Session log' }).locator('li').count()).toBeGreaterThan(0);
    await dialog.getByRole('button', { name: 'Close' }).last().click();
    const listed = (await c.t.api.get('/api/v1/backupInfrastructure/proxies', { token })).body.data;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ description: 'console proxy', server: { hostId: backupServerId, transportMode: 'network', maxTaskCount: 3 } });
    const name = listed[0].name as string;
    await page.getByRole('cell', { name: 'console proxy' }).waitFor();
    await page.getByRole('cell', { name: 'Network (NBD)' }).waitFor();

    await page.getByRole('button', { name: `Edit proxy ${name}` }).click();
    const edit = page.getByRole('dialog', { name: `Edit proxy ${name}` });
    await expect(edit.getByLabel('Maximum concurrent tasks').inputValue()).resolves.toBe('3');
    await edit.getByLabel('Maximum concurrent tasks').fill('5');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.locator('.session-line .badge-success').waitFor({ timeout: 30_000 });
    await edit.getByRole('button', { name: 'Close' }).last().click();
    await page.getByRole('cell', { name: '5', exact: true }).waitFor();
    expect((await c.t.api.get(`/api/v1/backupInfrastructure/proxies/${listed[0].id}`, { token })).body.server).toMatchObject({ maxTaskCount: 5, transportMode: 'network' });

    await page.getByRole('button', { name: `Remove proxy ${name}` }).click();
    await page
      .getByRole('dialog', { name: `Remove Proxy ${name}?` })
      .getByRole('button', { name: 'Remove' })
      .click();
    await page.getByRole('cell', { name: 'Nothing here yet.' }).waitFor();
    expect((await c.t.api.get('/api/v1/backupInfrastructure/proxies', { token })).body.pagination.total).toBe(0);
  });
});

describe('general options', () => {
  it('saves the email settings and sends a test message through them; the API refusal is shown in words', async () => {
    const { page, url } = c;
    await openPage(page, url, '/general-options', 'General options');
    // Nothing set yet: the API says what is missing, the page shows it.
    await page.getByRole('button', { name: 'Send test message' }).click();
    await page.getByText(/set smtpServerName, from and to/).waitFor();

    await page.getByLabel('Send email notifications').check();
    await page.getByLabel('SMTP server').fill('127.0.0.1');
    await page.getByRole('spinbutton', { name: 'Port' }).fill(String(smtp.port));
    await page.getByLabel('From').fill('rampart@example.test');
    await page.getByLabel('To', { exact: true }).fill('ops@example.test');
    await page.getByLabel('Notify on failure').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Email settings saved').waitFor();
    const saved = (await c.t.api.get('/api/v1/generalOptions', { token })).body.emailSettings;
    expect(saved).toMatchObject({ isEnabled: true, smtpServerName: '127.0.0.1', from: 'rampart@example.test', to: 'ops@example.test', notifyOnFailure: true });
    expect(saved.advancedSmtpOptions).toMatchObject({ port: smtp.port, SSLEnabled: false, authRequired: false });

    await page.getByRole('button', { name: 'Send test message' }).click();
    await page.getByText('Test message sent to ops@example.test.').waitFor();
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]).toMatchObject({ from: 'rampart@example.test', to: ['ops@example.test'] });
    expect(smtp.received[0]!.raw).toMatch(/Rampart test message/);
    await screenshot(page, 'general-options');
  });
});

describe('configuration backup', () => {
  it('points the configuration backup at a repository, runs it now and shows the last successful backup', async () => {
    const { page, url } = c;
    const folder = path.join(dir, 'config-repo');
    const repositoryId = await addLocalRepository({ t: c.t, token }, backupServerId, folder, { taskLimitEnabled: false, maxTaskCount: 1 }, { name: 'Config repo' });

    await openPage(page, url, '/configuration-backup', 'Configuration backup');
    await page.getByText('No configuration backup has succeeded yet.').waitFor();
    await page.getByLabel('Back up the configuration').check();
    await page.getByLabel('Repository').selectOption(repositoryId);
    await page.getByLabel('Restore points to keep').fill('4');
    // Encryption asked for without a password to use: refused before anything is sent.
    await page.getByLabel('Encrypt the backup').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Encryption password is required.').waitFor();
    await page.getByLabel('Encrypt the backup').uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Configuration backup settings saved').waitFor();
    expect((await c.t.api.get('/api/v1/configBackup', { token })).body).toMatchObject({ isEnabled: true, backupRepositoryId: repositoryId, restorePointsToKeep: 4 });

    await page.getByRole('button', { name: 'Back up now' }).click();
    const dialog = page.getByRole('dialog', { name: 'Configuration backup' });
    await dialog.locator('.session-line .badge-success').waitFor({ timeout: 60_000 });
    await dialog.getByRole('button', { name: 'Close' }).last().click();
    await page.getByText(/^Last successful backup: /).waitFor();
    expect((await c.t.api.get('/api/v1/configBackup', { token })).body.lastSuccessfulBackup.lastSuccessfulTime).toBeTruthy();
  });
});

describe('export and import', () => {
  it('downloads the configuration as one JSON file, refuses a file that is not one, and imports it back with the session log shown', async () => {
    const { page, url } = c;
    const added = await c.t.api.post('/api/v1/credentials', {
      token,
      json: { type: 'Standard', username: 'exported-user', password: 'Exp-Secret-1', description: 'to be exported' },
    });
    expect(added.status).toBe(201);

    await openPage(page, url, '/export-import', 'Export and import');
    const exportCard = page.getByRole('region', { name: 'Export' });
    const downloading = page.waitForEvent('download');
    await exportCard.getByRole('button', { name: 'Download export' }).click();
    const download = await downloading;
    const file = path.join(dir, download.suggestedFilename());
    await download.saveAs(file);
    const exported = JSON.parse(await readFile(file, 'utf8'));
    expect(exported.format).toBe('rampart-console-export-v1');
    const users = exported.sections.credentials.credentials.map((x: { username: string }) => x.username);
    expect(users).toContain('exported-user');
    // Unsealed: the secret is not in the file.
    expect(JSON.stringify(exported)).not.toContain('Exp-Secret-1');

    const importCard = page.getByRole('region', { name: 'Import' });
    const wrong = path.join(dir, 'not-an-export.json');
    await writeFile(wrong, '{"hello": "world"}');
    await importCard.getByLabel('Export file').setInputFiles(wrong);
    await importCard.getByRole('button', { name: 'Import' }).click();
    const fileField = importCard.locator('.field', { has: page.getByLabel('Export file') });
    await expect.poll(() => fileField.locator('.field-error').textContent()).toMatch(/not a Rampart console export/);

    expect((await c.t.api.request('DELETE', `/api/v1/credentials/${added.body.id}`, { token })).status).toBe(204);
    await importCard.getByLabel('Export file').setInputFiles(file);
    await importCard.getByRole('button', { name: 'Import' }).click();
    const log = page.getByRole('region', { name: 'Credentials import', exact: true });
    await log.locator('.session-line .badge').nth(1).waitFor({ timeout: 60_000 });
    await page.getByText('Import finished').waitFor({ timeout: 60_000 });
    await expect(log.getByRole('list', { name: 'Session log' }).textContent()).resolves.toMatch(/exported-user/);
    const back = (await c.t.api.get('/api/v1/credentials?nameFilter=exported-user', { token })).body.data;
    expect(back).toHaveLength(1);
    expect(back[0]).toMatchObject({ type: 'Standard', description: 'to be exported' });
    await screenshot(page, 'export-import');
  });
});

describe('security', () => {
  it('shows the vault and rotates its master key as a session, after a confirmation; says where users and roles are managed', async () => {
    const { page, url } = c;
    const before = (await c.t.api.get('/api/v1/vault', { token })).body;
    await openPage(page, url, '/security', 'Security');
    await expect(page.locator('code.master-key').textContent()).resolves.toBe(before.currentMasterKeyId);
    await page.getByText('npm run rampart -- user list').waitFor();

    // Cancel does nothing.
    await page.getByRole('button', { name: 'Rotate master key' }).click();
    await page.getByRole('dialog', { name: 'Rotate the master key?' }).getByRole('button', { name: 'Cancel' }).click();
    expect((await c.t.api.get('/api/v1/vault', { token })).body.currentMasterKeyId).toBe(before.currentMasterKeyId);

    await page.getByRole('button', { name: 'Rotate master key' }).click();
    await page.getByRole('dialog', { name: 'Rotate the master key?' }).getByRole('button', { name: 'Rotate master key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Master key rotation' });
    await dialog.locator('.session-line .badge-success').waitFor({ timeout: 60_000 });
    await dialog.getByRole('button', { name: 'Close' }).last().click();
    const after = (await c.t.api.get('/api/v1/vault', { token })).body;
    expect(after.currentMasterKeyId).not.toBe(before.currentMasterKeyId);
    await expect(page.locator('code.master-key').textContent()).resolves.toBe(after.currentMasterKeyId);
  });
});
