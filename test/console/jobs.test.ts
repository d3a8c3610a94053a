import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareDisks, startVcsim, type PreparedDisk, type Vcsim } from '../support/vcsim.js';
import { openPage, screenshot, signIn, startConsole, type ConsoleHarness } from './browser.js';

const MiB = 1024 * 1024;

/** Picks the option of an inventory select whose label starts with `prefix` (labels add the server and object ID). */
async function pick(select: Locator, prefix: string): Promise<void> {
  const value = await select.locator('option').filter({ hasText: prefix }).first().getAttribute('value');
  await select.selectOption(value!);
}

let c: ConsoleHarness;
let vcsim: Vcsim;
let disks: PreparedDisk[];
let folder: string;
let token: string;

beforeAll(async () => {
  vcsim = await startVcsim({ cbt: true });
  disks = await prepareDisks(vcsim, { sizeBytes: 8 * MiB });
  folder = await mkdtemp(path.join(tmpdir(), 'rampart-console-jobs-'));
  c = await startConsole({ RAMPART_PROBE_TIMEOUT_MS: '5000' });
  token = await c.t.adminToken();
  await signIn(c.page, c.url);
}, 120_000);
afterAll(async () => {
  await c?.close();
  await vcsim?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe('infrastructure for a job, through the console', () => {
  it('adds the vSphere server (vcsim) after comparing its TLS thumbprint, a repository and an encryption password', async () => {
    const { page, url } = c;
    await openPage(page, url, '/credentials', 'Credentials');
    await page.getByRole('button', { name: 'Add' }).click();
    const creds = page.getByRole('dialog', { name: 'Add credentials' });
    await creds.getByLabel('Type').selectOption('Standard');
    await creds.getByLabel('User name').fill(vcsim.username);
    await creds.getByLabel('Password', { exact: true }).fill(vcsim.password);
    await creds.getByRole('button', { name: 'Add' }).click();
    await page.getByRole('cell', { name: vcsim.username, exact: true }).waitFor();

    await openPage(page, url, '/managed-servers', 'Managed servers');
    await page.getByRole('button', { name: 'Add server' }).click();
    const wizard = page.getByRole('dialog', { name: 'Add managed server' });
    await wizard.getByLabel('Type').selectOption('ViHost');
    await wizard.getByLabel('DNS name or IP address').fill('127.0.0.1');
    await wizard.getByLabel('Port').fill(String(vcsim.port));
    await wizard.getByRole('button', { name: 'Connect and show identity' }).click();
    // The API writes the SHA-1 thumbprint without separators; the test compares the digits.
    const shown = await wizard.locator('code.presented').textContent();
    expect(shown?.replace(/:/g, '')).toBe(vcsim.thumbprint.replace(/:/g, ''));
    await wizard.getByLabel('I compared it and trust this host').check();
    await wizard.getByRole('button', { name: 'Add server' }).click();
    await wizard.locator('.session-line .badge-success').waitFor({ timeout: 60_000 });
    await wizard.getByRole('button', { name: 'Close' }).last().click();

    await openPage(page, url, '/repositories', 'Repositories');
    await page.getByRole('button', { name: 'Add repository' }).click();
    const repo = page.getByRole('dialog', { name: 'Add repository' });
    await repo.getByLabel('Kind').selectOption('local');
    await repo.getByRole('textbox', { name: 'Name', exact: true }).fill('Backups');
    await repo.getByRole('textbox', { name: 'Folder', exact: true }).fill(path.join(folder, 'repo'));
    await repo.getByRole('button', { name: 'Add repository' }).click();
    await repo.locator('.session-line .badge-success').waitFor({ timeout: 30_000 });
    await repo.getByRole('button', { name: 'Close' }).last().click();

    await openPage(page, url, '/encryption-passwords', 'Encryption passwords');
    await page.getByRole('button', { name: 'Add' }).click();
    const pw = page.getByRole('dialog', { name: 'Add encryption password' });
    await pw.getByLabel('Password').fill('Console-Job-Secret-1');
    await pw.getByRole('textbox', { name: 'Hint', exact: true }).fill('console job key');
    await pw.getByRole('button', { name: 'Add' }).click();
    await page.getByRole('cell', { name: 'console job key', exact: true }).waitFor();
  }, 120_000);
});

describe('jobs', () => {
  it('creates a job by picking a VM from the inventory tree; the API’s own 400 is shown when none is picked', async () => {
    const { page, url } = c;
    await openPage(page, url, '/jobs', 'Jobs');
    await page.getByRole('cell', { name: 'Nothing here yet.' }).waitFor();
    await page.getByRole('button', { name: 'Create job' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create backup job' });
    await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill('Nightly');
    await dialog.getByLabel('Description').fill('VMs of the lab');
    await dialog.getByLabel('Repository').selectOption({ label: 'Backups' });
    await dialog.getByLabel('How many').fill('3');
    await dialog.getByLabel('Encryption password').selectOption({ label: 'console job key' });
    // Nothing picked: the server refuses, in its words, and nothing is stored.
    await dialog.getByRole('button', { name: 'Create job' }).click();
    await dialog.getByText('a backup job needs at least one object').waitFor();
    expect((await c.t.api.get('/api/v1/jobs', { token })).body.pagination.total).toBe(0);

    await dialog.getByText('127.0.0.1').click();
    await dialog.getByLabel(disks[0]!.vm, { exact: true }).check();
    await dialog.getByText('1 VM(s) selected').waitFor();
    await screenshot(page, 'job-create');
    await dialog.getByRole('button', { name: 'Create job' }).click();
    await page
      .getByRole('cell', { name: /Nightly/ })
      .first()
      .waitFor();

    const job = (await c.t.api.get('/api/v1/jobs?nameFilter=Nightly', { token })).body.data[0];
    expect(job.virtualMachines.includes).toEqual([{ inventoryObject: { hostName: '127.0.0.1', name: disks[0]!.vm, type: 'VirtualMachine', objectId: disks[0]!.vmRef.value } }]);
    expect(job.storage.retentionPolicy).toEqual({ type: 'RestorePoints', quantity: 3 });
    expect(job.storage.advancedSettings.storageData.encryption).toMatchObject({ isEnabled: true });
    expect(job.schedule.runAutomatically).toBe(false);
  }, 60_000);

  it('runs it with an active full: the session log streams live, the list shows Success', async () => {
    const { page } = c;
    await page.getByRole('button', { name: 'Start Nightly' }).click();
    const dialog = page.getByRole('dialog', { name: 'Start Nightly' });
    await dialog.getByLabel(/Active full backup/).check();
    await dialog.getByRole('button', { name: 'Start', exact: true }).click();
    const log = dialog.getByRole('list', { name: 'Session log' });
    // The log draws while the session still works (records appear before the end).
    await log.getByText(/Creating snapshot/).waitFor({ timeout: 60_000 });
    await dialog.locator('.session-line .badge-success').waitFor({ timeout: 90_000 });
    await expect(log.textContent()).resolves.toMatch(/Hard disk 1 \(8 MiB\)/);
    await screenshot(page, 'job-run');
    await dialog.getByRole('button', { name: 'Close' }).last().click();
    await page.getByRole('link', { name: 'Last session of Nightly' }).getByText('Success').waitFor();
    const state = (await c.t.api.get('/api/v1/jobs/states?nameFilter=Nightly', { token })).body.data[0];
    expect(state).toMatchObject({ lastResult: 'Success', status: 'inactive', objectsCount: 1, repositoryName: 'Backups' });
    await page.getByRole('cell', { name: 'Backups', exact: true }).waitFor();
    await screenshot(page, 'jobs');
  }, 120_000);

  it('edits the schedule, disables and enables the job', async () => {
    const { page } = c;
    await page.getByRole('button', { name: 'Edit Nightly' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit job Nightly' });
    await expect(dialog.getByLabel(disks[0]!.vm, { exact: true }).isChecked()).resolves.toBe(true);
    await dialog.getByLabel('Run automatically every day').check();
    await dialog.getByLabel('At (server time)').fill('25:00');
    await dialog.getByRole('button', { name: 'Save' }).click();
    // The API names the field; the console puts its message next to it.
    await expect(dialog.locator('[aria-invalid="true"]').getAttribute('name')).resolves.toBe('schedule.daily.localTime');
    await dialog.getByLabel('At (server time)').fill('21:30');
    // From now on unencrypted: restores read points without asking for a password.
    await dialog.getByLabel('Encryption password').selectOption({ label: 'Not encrypted' });
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    const next = (await c.t.api.get('/api/v1/jobs/states?nameFilter=Nightly', { token })).body.data[0].nextRun;
    expect(new Date(next).getHours()).toBe(21);
    await page.getByRole('button', { name: 'Disable Nightly' }).click();
    await page.getByRole('button', { name: 'Enable Nightly' }).waitFor();
    expect((await c.t.api.get('/api/v1/jobs/states?nameFilter=Nightly', { token })).body.data[0].status).toBe('disabled');
    await page.getByRole('button', { name: 'Enable Nightly' }).click();
    await page.getByRole('button', { name: 'Disable Nightly' }).waitFor();
    const job = (await c.t.api.get('/api/v1/jobs?nameFilter=Nightly', { token })).body.data[0];
    expect(job.storage.advancedSettings.storageData.encryption).toEqual({ isEnabled: false });

    await page.getByRole('button', { name: 'Start Nightly' }).click();
    const run = page.getByRole('dialog', { name: 'Start Nightly' });
    await run.getByLabel(/Active full backup/).check();
    await run.getByRole('button', { name: 'Start', exact: true }).click();
    await run.locator('.session-line .badge-success').waitFor({ timeout: 90_000 });
    await run.getByRole('button', { name: 'Close' }).last().click();
  }, 120_000);

  it('shows the job on the dashboard with its last result', async () => {
    const { page, url } = c;
    await openPage(page, url, '/', 'Dashboard');
    const panel = page.getByRole('region', { name: 'Jobs' });
    await panel.getByRole('cell', { name: 'Nightly' }).waitFor();
    await panel.getByText('Success').waitFor();
  });
});

describe('backups and restore points', () => {
  it('browses backups → objects → restore points → disks', async () => {
    const { page, url } = c;
    await openPage(page, url, '/backups', 'Backups');
    await page.getByRole('link', { name: 'Nightly' }).click();
    await page.getByRole('heading', { name: 'Backup Nightly' }).waitFor();
    await page.getByRole('link', { name: disks[0]!.vm }).click();
    await page.getByRole('heading', { name: disks[0]!.vm }).waitFor();
    await page
      .getByRole('link', { name: new RegExp(`^${disks[0]!.vm} · `) })
      .first()
      .click();
    await page.getByRole('heading', { name: `Restore point of ${disks[0]!.vm}` }).waitFor();
    const row = page.getByRole('row', { name: /Hard disk 1/ });
    await expect(row.textContent()).resolves.toMatch(/Hard disk 1\s*Vi\s*8 MiB\s*Processed/);
    await screenshot(page, 'restore-point');

    await openPage(page, url, '/restore-points', 'Restore points');
    await page.getByRole('link', { name: disks[0]!.vm }).first().waitFor();
    const total = (await c.t.api.get('/api/v1/objectRestorePoints', { token })).body.pagination.total;
    await page.getByText(`1–${total} of ${total}`).waitFor();
  });

  it('restores the entire VM from the point to a new VM, the session log streaming into the dialog', async () => {
    const { page } = c;
    await page.getByRole('link', { name: disks[0]!.vm }).first().click();
    await page.getByRole('button', { name: 'Restore entire VM' }).click();
    const dialog = page.getByRole('dialog', { name: `Restore ${disks[0]!.vm}`, exact: true });
    await dialog.getByLabel('Restore to').selectOption('Customized');
    await dialog.getByLabel('Restored VM name').fill('restored-console');
    await pick(dialog.getByLabel('Destination host'), 'DC0_H0 (');
    await pick(dialog.getByLabel('Datastore'), 'LocalDS_0 (');
    await dialog.getByRole('button', { name: 'Restore' }).click();
    const confirm = page.getByRole('dialog', { name: `Restore ${disks[0]!.vm}?`, exact: true });
    await confirm.getByText('A new VM restored-console is created').waitFor();
    await confirm.getByRole('button', { name: 'Restore' }).click();
    // Stopped, or the form's error: either way the dialog's words say what happened.
    await dialog.locator('.session-line .badge-stopped, .form-error .notice').first().waitFor({ timeout: 90_000 });
    expect(await dialog.locator('.session-line .badge-success').count(), (await dialog.textContent()) ?? '').toBe(1);
    const sessions = (await c.t.api.get('/api/v1/sessions?typeFilter=RestoreVm', { token })).body.data;
    expect(sessions).toHaveLength(1);
    expect(sessions[0].result.result).toBe('Success');
    await screenshot(page, 'restore');
    await dialog.getByRole('button', { name: 'Close' }).last().click();
  }, 120_000);

  it('starts an instant recovery, lists the mount on the Restores page and unmounts it after confirmation', async () => {
    const { page, url } = c;
    await page.getByRole('button', { name: 'Instant recovery' }).click();
    const dialog = page.getByRole('dialog', { name: `Instant recovery of ${disks[0]!.vm}` });
    await dialog.getByLabel('Recover to').selectOption('Customized');
    await dialog.getByLabel('Recovered VM name').fill('ir-console');
    await pick(dialog.getByLabel('Destination host'), 'DC0_H0 (');
    await dialog.getByRole('button', { name: 'Start instant recovery' }).click();
    await dialog.locator('.session-line .badge-stopped, .form-error .notice').first().waitFor({ timeout: 90_000 });
    expect(await dialog.locator('.session-line .badge-success').count(), (await dialog.textContent()) ?? '').toBe(1);
    await dialog.getByRole('button', { name: 'Close' }).last().click();

    await openPage(page, url, '/restores', 'Restores');
    const row = page.getByRole('row', { name: /ir-console/ });
    await row.getByText('Mounted').waitFor();
    await screenshot(page, 'restores');
    await page.getByRole('button', { name: 'Unmount ir-console' }).click();
    await page.getByRole('dialog', { name: 'Unmount ir-console?' }).getByRole('button', { name: 'Unmount' }).click();
    const unmount = page.getByRole('dialog', { name: 'Unmount ir-console' });
    await unmount.locator('.session-line .badge-success').waitFor({ timeout: 60_000 });
    await unmount.getByRole('button', { name: 'Close' }).last().click();
    await page.getByRole('cell', { name: 'No VM is running from a backup.' }).waitFor();
    expect((await c.t.api.get('/api/v1/restore/instantRecovery/vmware/vm', { token })).body.pagination.total).toBe(0);
  }, 150_000);

  it('deletes the job after confirmation; its backup stays', async () => {
    const { page, url } = c;
    await openPage(page, url, '/jobs', 'Jobs');
    await page.getByRole('button', { name: 'Delete Nightly' }).click();
    await page.getByRole('dialog', { name: 'Remove Job Nightly?' }).getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('cell', { name: 'Nothing here yet.' }).waitFor();
    expect((await c.t.api.get('/api/v1/backups', { token })).body.pagination.total).toBe(1);
    expect(c.pageErrors).toEqual([]);
  });
});
