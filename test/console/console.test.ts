import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { run, writeSelfSignedCertificate } from '../support/tls.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD } from '../support/server.js';
import { openPage, screenshot, signIn, startConsole, type ConsoleHarness } from './browser.js';

let c: ConsoleHarness;

beforeAll(async () => {
  c = await startConsole({ RAMPART_LOGIN_LOCKOUT_AFTER: '4', RAMPART_LOGIN_SLOWDOWN_AFTER: '10' });
});
afterAll(() => c?.close());

describe('serving', () => {
  it('serves the console at / with a strict Content-Security-Policy, compressed', async () => {
    const res = await c.t.api.request('GET', '/', { version: null, headers: { 'accept-encoding': 'br' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(res.headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
    const script = await c.t.api.request('GET', '/app.js', { version: null, headers: { 'accept-encoding': 'br' } });
    expect(script.headers['content-encoding']).toBe('br');
  });

  it('leaves the API as it was: unknown /api paths are 404 in the error model, swagger still served', async () => {
    const res = await c.t.api.get('/api/v1/nothingHere', { token: await c.t.adminToken() });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ errorCode: 'NotFound' });
    expect((await c.t.api.request('GET', '/swagger/v1.1-rev0/swagger.json', { version: null })).status).toBe(200);
    expect((await c.t.api.request('GET', '/no-such-console-file.js', { version: null })).body).toMatchObject({ errorCode: 'NotFound' });
  });
});

describe('login', () => {
  it('shows the API\u2019s own message for a wrong password, then the lockout, and keeps the token out of URLs and storage', async () => {
    const { page, url } = c;
    await page.goto(url);
    await expect(page.title()).resolves.toMatch(/Sign in/);
    await screenshot(page, 'login');
    // A separate user name for the lockout, so the administrator stays usable.
    for (let i = 0; i < 4; i++) {
      await page.getByLabel('User name').fill('mallory');
      await page.getByLabel('Password').fill(`wrong-${i}`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page
        .getByRole('alert')
        .filter({ hasText: /user name or password|Too many/i })
        .waitFor();
    }
    await page.getByLabel('User name').fill('mallory');
    await page.getByLabel('Password').fill('wrong-again');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/Too many failed sign-in attempts\. Try again in \d+ minute\(s\)\./);

    await signIn(page, url);
    expect(page.url()).not.toMatch(/token|eyJ/);
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
    expect(stored).not.toMatch(/eyJ/);
  });

  it('draws the dashboard: server name and version, repositories, running sessions, failures; the jobs panel from /api/v1/jobs/states', async () => {
    const { page } = c;
    await expect(page.locator('.server-name').textContent()).resolves.toBe(hostname());
    await expect(page.locator('.server-version').textContent()).resolves.toMatch(/\d+\.\d+/);
    for (const name of ['Repositories', 'Running sessions', 'Failures in the last 24 hours']) await page.getByRole('heading', { name }).waitFor();
    await page.getByRole('region', { name: 'Jobs' }).getByText('No jobs yet.').waitFor();
  });

  it('sends a lapsed login to the sign-in page and back to where the user was', async () => {
    // A second administrator in a browser context of its own; its password change signs it out everywhere.
    await c.t.server.users.add('second-admin', 'Administrator', 'Second-Passw0rd!');
    const context = await c.browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    try {
      await page.goto(c.url);
      await page.getByLabel('User name').fill('second-admin');
      await page.getByLabel('Password').fill('Second-Passw0rd!');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
      await page.getByRole('link', { name: 'Encryption passwords' }).click();
      await page.getByRole('heading', { name: 'Encryption passwords' }).waitFor();
      await c.t.server.users.setPassword('second-admin', 'Changed-Passw0rd!');
      await new Promise((r) => setTimeout(r, 1500)); // revocations reach the token check within a second
      await page.getByRole('link', { name: 'Sessions' }).click();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      await page.getByLabel('User name').fill('second-admin');
      await page.getByLabel('Password').fill('Changed-Passw0rd!');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Sessions' }).waitFor();
      expect(page.url()).toMatch(/#\/sessions$/);
    } finally {
      await context.close();
    }
  });
});

describe('keyboard', () => {
  it('opens a dialog from the keyboard, moves focus into it, closes on Escape and gives focus back', async () => {
    const { page, url } = c;
    await openPage(page, url, '/encryption-passwords', 'Encryption passwords');
    const add = page.getByRole('button', { name: 'Add' });
    await add.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Add encryption password' });
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.closest('dialog') !== null)).toBe(true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Add');
    // Sorting is a button in the column header, with aria-sort saying the order.
    await openPage(page, url, '/sessions', 'Sessions');
    await page.getByRole('button', { name: 'Name' }).press('Enter');
    await page.locator('th[aria-sort="ascending"]').waitFor();
  });
});

describe('restores', () => {
  it('lists instant recovery mounts from the API: none on a fresh server', async () => {
    const { page, url } = c;
    await openPage(page, url, '/restores', 'Restores');
    await page.getByRole('cell', { name: 'No VM is running from a backup.' }).waitFor();
  });
});

describe('server certificate', () => {
  it('recreates the certificate from the page, shows the new thumbprint, and keeps working', async () => {
    const { page, url } = c;
    await openPage(page, url, '/certificate', 'Server certificate');
    await page.getByRole('heading', { name: 'Current certificate' }).waitFor();
    const before = await page.getByLabel('SHA-1 thumbprint').textContent();
    await page.getByLabel('Valid until').fill('2031-06-30');
    await page.getByLabel('Key type').selectOption('RSA-2048');
    await page.getByLabel('Names (SANs)').fill('localhost\n127.0.0.1\nconsole.test');
    await page.getByRole('button', { name: 'Recreate certificate' }).click();
    const dialog = page.getByRole('dialog', { name: 'Recreate the server certificate?' });
    await expect(dialog.textContent()).resolves.toMatch(/browser will ask you to trust the new certificate/);
    await dialog.getByRole('button', { name: 'Recreate and switch' }).click();
    const shown = await page.getByLabel('new thumbprint').textContent();
    expect(shown).not.toBe(before);

    // What the server now presents is what the page showed.
    const details = await c.t.api.get('/api/v1/settings/certificates/details', { token: await c.t.adminToken(), version: '1.0-rev0' });
    expect(details.body.thumbprint).toBe(shown);
    expect(details.body.keyType).toBe('RSA');
    expect(details.body.subjectAlternativeNames.dnsNames).toContain('console.test');
    await expect(page.getByLabel('SHA-1 thumbprint').textContent()).resolves.toBe(shown);
    await screenshot(page, 'certificate');

    // The console keeps working after the switch, with the same login.
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await expect(page.locator('.server-name').textContent()).resolves.toBe(hostname());
    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.getByRole('link', { name: 'Certificate Regeneration' }).first().click();
    await page
      .getByRole('list', { name: 'Session log' })
      .getByText(/Now serving the new certificate/)
      .waitFor();
    await expect(page.locator('.session-view').textContent()).resolves.toContain(shown!);
  });
});

describe('server certificate upload', () => {
  it('uploads a PFX with its password: a wrong password is refused in the API\u2019s words, the right one switches', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'rampart-console-pfx-'));
    try {
      const key = path.join(work, 'upload.key');
      const crt = path.join(work, 'upload.crt');
      const pfx = path.join(work, 'upload.pfx');
      await writeSelfSignedCertificate(key, crt, { cn: 'upload.example', san: 'DNS:upload.example,IP:127.0.0.1', days: 30 });
      await run('openssl', ['pkcs12', '-export', '-inkey', key, '-in', crt, '-out', pfx, '-passout', 'pass:Pfx-Passw0rd']);
      const { stdout } = await run('openssl', ['x509', '-in', crt, '-noout', '-fingerprint', '-sha1']);
      const expected = stdout.trim().split('=')[1]!.replace(/:/g, '');

      const { page, url } = c;
      await openPage(page, url, '/certificate', 'Server certificate');
      const upload = page.getByRole('region', { name: 'Upload' });
      await upload.getByLabel(/^Certificate file/).setInputFiles(pfx);
      await upload.getByLabel('Password').fill('not-the-password');
      await upload.getByRole('button', { name: 'Upload certificate' }).click();
      await page.getByRole('dialog', { name: 'Switch to the uploaded certificate?' }).getByRole('button', { name: 'Upload and switch' }).click();
      await upload.getByRole('alert').waitFor();
      await expect(upload.getByRole('alert').textContent()).resolves.toMatch(/password/i);
      expect(await page.locator('main').textContent()).not.toContain('not-the-password');

      await upload.getByLabel(/^Certificate file/).setInputFiles(pfx);
      await upload.getByLabel('Password').fill('Pfx-Passw0rd');
      await upload.getByRole('button', { name: 'Upload certificate' }).click();
      await page.getByRole('dialog', { name: 'Switch to the uploaded certificate?' }).getByRole('button', { name: 'Upload and switch' }).click();
      await expect(page.getByLabel('new thumbprint').textContent()).resolves.toBe(expected);
      await expect(page.getByLabel('SHA-1 thumbprint').textContent()).resolves.toBe(expected);
      await page.getByRole('link', { name: 'Dashboard' }).click();
      await expect(page.locator('.server-name').textContent()).resolves.toBe(hostname());
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe('credentials', () => {
  it('adds a Linux credential; the password is never shown or sent back', async () => {
    const { page, url } = c;
    await openPage(page, url, '/credentials', 'Credentials');
    await page.getByRole('button', { name: 'Add' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add credentials' });
    await dialog.getByLabel('Type').selectOption('Linux');
    await dialog.getByLabel('User name').fill('backup-operator');
    await dialog.getByLabel('Password', { exact: true }).fill('S3cret-Never-Shown!');
    await dialog.getByLabel('Description').fill('repo host');
    await dialog.getByLabel('SSH port').fill('2222');
    const responses: string[] = [];
    page.on(
      'response',
      (r) =>
        void r.text().then(
          (text) => responses.push(text),
          () => undefined,
        ),
    );
    await dialog.getByRole('button', { name: 'Add' }).click();
    await page.getByRole('cell', { name: 'backup-operator', exact: true }).waitFor();
    const html = await page.content();
    expect(html).not.toContain('S3cret-Never-Shown!');
    expect(responses.join('\n')).not.toContain('S3cret-Never-Shown!');

    // A 400 from the API lands next to the field it names.
    await page.getByRole('button', { name: 'Add' }).click();
    const again = page.getByRole('dialog', { name: 'Add credentials' });
    await again.getByLabel('Type').selectOption('Linux');
    await again.getByLabel('User name').fill('another');
    await again.getByLabel('Password', { exact: true }).fill('x');
    await again.getByLabel('SSH port').fill('70000');
    await again.getByRole('button', { name: 'Add' }).click();
    await again.locator('input[name="SSHPort"][aria-invalid="true"]').waitFor();
    const portError = await again.locator('.field-number .field-error').textContent();
    expect(portError).toMatch(/SSHPort/);
    await again.getByRole('button', { name: 'Close' }).click();

    // Change the password: the dialog never shows the old one.
    await page.getByRole('button', { name: 'Change password of backup-operator' }).click();
    const change = page.getByRole('dialog', { name: /Change password/ });
    await expect(change.getByLabel('New password').inputValue()).resolves.toBe('');
    await change.getByLabel('New password').fill('An0ther-Secret!');
    await change.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed').waitFor();
    expect(c.pageErrors).toEqual([]);
  });

  it('adds an encryption password, changes it and removes it after a confirmation; only the hint is shown', async () => {
    const { page, url } = c;
    await openPage(page, url, '/encryption-passwords', 'Encryption passwords');
    await page.getByRole('button', { name: 'Add' }).click();
    const add = page.getByRole('dialog', { name: 'Add encryption password' });
    await add.getByLabel('Password').fill('Encrypt-Me-0nce!');
    await add.getByRole('textbox', { name: 'Hint', exact: true }).fill('the usual one');
    await add.getByRole('button', { name: 'Add' }).click();
    await page.getByRole('cell', { name: 'the usual one', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Change the password with hint the usual one' }).click();
    const change = page.getByRole('dialog', { name: /Change the password/ });
    await change.getByLabel('New password').fill('Encrypt-Me-Tw1ce!');
    await change.getByRole('textbox', { name: 'Hint', exact: true }).fill('the new one');
    await change.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('cell', { name: 'the new one', exact: true }).waitFor();
    expect(await page.content()).not.toMatch(/Encrypt-Me/);
    await page.getByRole('button', { name: 'Remove the new one' }).click();
    await page
      .getByRole('dialog', { name: /Remove/ })
      .getByRole('button', { name: 'Remove' })
      .click();
    await page.getByRole('cell', { name: 'Nothing here yet.' }).waitFor();
    const token = (await c.t.api.login('administrator', ADMIN_PASSWORD)).access_token;
    expect((await c.t.api.get('/api/v1/encryptionPasswords', { token })).body.pagination.total).toBe(0);
  });
});
