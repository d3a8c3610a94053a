import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { addLocalRepository } from '../support/repositories.js';
import { startSmtpServer, type SmtpServer } from '../support/smtp.js';

const hexBytes = (text: string) =>
  Buffer.from(
    text.replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8');
/** The Subject header, unfolded and with RFC 2047 encoded words decoded (nodemailer uses them for long subjects). */
const subjectOf = (raw: string) => {
  const header = /^Subject: (.*)$/m.exec(raw.replace(/\r?\n[ \t]+/g, ' '))?.[1] ?? '';
  return header.replace(/=\?UTF-8\?Q\?([^?]*)\?=\s*/gi, (_, q: string) => hexBytes(q.replace(/_/g, ' ')));
};
/** The text body, quoted-printable decoded. */
const bodyOf = (raw: string) => hexBytes(raw.slice(raw.indexOf('\r\n\r\n') + 4).replace(/=\r\n/g, ''));

let t: TestServer;
let token: string;
let dir: string;
let smtp: SmtpServer;
let credentialsId: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rampart-smtp-'));
  smtp = await startSmtpServer(dir, { credentials: { username: 'mailer', password: 'Smtp-Secret-9' } });
  t = await startTestServer({ RAMPART_SMTP_CA_FILE: smtp.cert, RAMPART_REPOSITORY_REFRESH_SECONDS: '0' });
  // Also no reply property outside Veeam's document (test/support/conformance.ts).
  t.api.strict = true;
  token = await t.adminToken();
  // A serving certificate inside the (default 30) warning days: the expiry notice is due as soon as mail can go out.
  const validBy = new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10) + 'T00:00:00';
  expect((await t.api.post('/api/v1/settings/certificates/regenerate', { version: '1.0-rev0', token, json: { validBy } })).status).toBe(202);
  const cred = await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: 'mailer', password: 'Smtp-Secret-9', description: 'SMTP account' } });
  expect(cred.status).toBe(201);
  credentialsId = cred.body.id;
});
afterAll(async () => {
  await t?.cleanup();
  await smtp?.close();
  await rm(dir, { recursive: true, force: true });
});

const emailSettings = (extra: Record<string, unknown> = {}) => ({
  isEnabled: true,
  smtpServerName: '127.0.0.1',
  advancedSmtpOptions: { port: smtp.port, timeoutMs: 10_000, SSLEnabled: true, authRequired: true, credentialsId },
  from: 'rampart@example.test',
  to: 'ops@example.test; backup-admins@example.test',
  subject: '[%JobResult%] %JobName% (%ObjectCount% objects) %Issues%',
  sendDailyReportsAt: '2024-01-01T22:00:00+00:00',
  notifyOnSuccess: true,
  notifyOnWarning: true,
  notifyOnFailure: true,
  notifyOnLastRetry: true,
  ...extra,
});

describe('general options', () => {
  it("answers the defaults in each document's shape", async () => {
    const v11 = await t.api.get('/api/v1/generalOptions', { token, version: '1.1-rev0' });
    expect(v11.status).toBe(200);
    expect(v11.body.emailSettings).toMatchObject({ isEnabled: false, advancedSmtpOptions: { port: 25, SSLEnabled: false, authRequired: false } });
    expect(v11.body).not.toHaveProperty('notificationEnabled');
    expect(v11.body).not.toHaveProperty('siemIntegration');
    expect(v11.body.emailSettings.advancedSmtpOptions).not.toHaveProperty('credentialsId');
    const v12 = await t.api.get('/api/v1/generalOptions', { token, version: '1.2-rev1' });
    expect(v12.body.siemIntegration).toEqual({ SNMPEventsEnabled: false, SyslogEventsEnabled: false });
    const v13 = await t.api.get('/api/v1/generalOptions', { token, version: '1.3-rev0' });
    expect(v13.body.notificationEnabled).toBe(false);
    expect(v13.body.emailSettings).not.toHaveProperty('isEnabled');
    expect(v13.body.notifications).toMatchObject({ storageSpaceThresholdEnabled: true, storageSpaceThreshold: 10 });
  });

  it('refuses bad settings naming the field, and writes nothing', async () => {
    const before = await t.api.get('/api/v1/generalOptions', { token, version: '1.3-rev0' });
    const noTo = await t.api.request('PUT', '/api/v1/generalOptions', { token, json: { emailSettings: emailSettings({ to: '' }) } });
    expect(noTo.status).toBe(400);
    expect(noTo.body.message).toContain('emailSettings.to');
    const noCred = await t.api.request('PUT', '/api/v1/generalOptions', {
      token,
      json: { emailSettings: emailSettings({ advancedSmtpOptions: { port: 25, timeoutMs: 1000, SSLEnabled: false, authRequired: true } }) },
    });
    expect(noCred.status).toBe(400);
    expect(noCred.body.message).toContain('credentialsId');
    const unknownCred = await t.api.request('PUT', '/api/v1/generalOptions', {
      token,
      json: {
        emailSettings: emailSettings({
          advancedSmtpOptions: { port: 25, timeoutMs: 1000, SSLEnabled: false, authRequired: true, credentialsId: '3fa85f64-5717-4562-b3fc-2c963f66afa6' },
        }),
      },
    });
    expect(unknownCred.status).toBe(400);
    const badPort = await t.api.request('PUT', '/api/v1/generalOptions', {
      token,
      json: { emailSettings: emailSettings({ advancedSmtpOptions: { port: 0, timeoutMs: 1, SSLEnabled: false, authRequired: false } }) },
    });
    expect(badPort.status).toBe(400);
    expect(badPort.body.message).toContain('port');
    const threshold = await t.api.request('PUT', '/api/v1/generalOptions', {
      token,
      version: '1.3-rev0',
      json: { notifications: { ...before.body.notifications, storageSpaceThreshold: 101 } },
    });
    expect(threshold.status).toBe(400);
    expect((await t.api.get('/api/v1/generalOptions', { token, version: '1.3-rev0' })).body).toEqual(before.body);
    expect(smtp.received).toHaveLength(0);
  });

  it('saves STARTTLS + authentication with a vault-sealed password, sends a test message and the certificate expiry notice', async () => {
    const put = await t.api.request('PUT', '/api/v1/generalOptions', { token, version: '1.1-rev0', json: { emailSettings: emailSettings() } });
    expect(put.status).toBe(200);
    expect(put.body.emailSettings).toMatchObject({ isEnabled: true, smtpServerName: '127.0.0.1', advancedSmtpOptions: { credentialsId, authRequired: true, SSLEnabled: true } });
    expect(put.text).not.toContain('Smtp-Secret-9');
    const stored = await t.server.store.db.selectFrom('settings').select('value').where('key', '=', 'generalOptions').executeTakeFirstOrThrow();
    expect(stored.value).not.toContain('Smtp-Secret-9');
    expect((await t.api.get('/api/v1/generalOptions', { token, version: '1.3-rev0' })).body.notificationEnabled).toBe(true);

    await t.server.notifications.settled();
    const expiry = smtp.received.find((m) => /server certificate expires/.test(subjectOf(m.raw)));
    expect(expiry).toBeDefined();
    expect(bodyOf(expiry!.raw)).toContain(t.server.certificate.current.description.thumbprint);

    const test = await t.api.post('/api/v1/generalOptions/emailSettings/testMessage', { token, version: '1.3-rev2' });
    expect(test.status).toBe(204);
    const message = smtp.received.find((m) => subjectOf(m.raw) === 'Rampart test message');
    expect(message).toMatchObject({ from: 'rampart@example.test', to: ['ops@example.test', 'backup-admins@example.test'], user: 'mailer', secure: true });
    expect(smtp.auths.every((a) => a.ok)).toBe(true);
    // The SMTP account is in use: its removal is refused.
    const removal = await t.api.request('DELETE', `/api/v1/credentials/${credentialsId}`, { token });
    expect(removal.status).toBeGreaterThanOrEqual(400);
    expect(removal.body.message).toMatch(/general options/);
  });

  it('reports an SMTP refusal as a 400 without the password', async () => {
    await t.api.post('/api/v1/credentials/' + credentialsId + '/changepassword', { token, json: { password: 'Wrong-Secret-1' } });
    const test = await t.api.post('/api/v1/generalOptions/emailSettings/testMessage', { token, version: '1.3-rev2' });
    expect(test.status).toBe(400);
    expect(test.body.message).toMatch(/did not take the message/);
    expect(test.text).not.toMatch(/Secret/);
    await t.api.post('/api/v1/credentials/' + credentialsId + '/changepassword', { token, json: { password: 'Smtp-Secret-9' } });
  });

  it('mails job results by the notifyOn flags with the subject variables filled', async () => {
    const count = smtp.received.length;
    // A job session as the jobs section starts it (the runner and the notification path are the real ones).
    const session = await t.server.runner.start({ name: 'Nightly VMs', type: 'Job', resourceId: '11111111-2222-3333-4444-555555555555' }, async (ctx) => {
      await ctx.log('Processing vm-1', 'Failed', 'disk unreadable');
      return { result: 'Failed', message: '1 of 2 VM(s) failed; vm-1: disk unreadable' };
    });
    await t.server.runner.settled(session.id);
    await t.server.notifications.settled();
    const mail = smtp.received.slice(count).find((m) => subjectOf(m.raw).startsWith('[Failed] Nightly VMs'));
    expect(mail).toBeDefined();
    expect(subjectOf(mail!.raw)).toContain('(1 issue(s))');
    expect(bodyOf(mail!.raw)).toContain('vm-1: disk unreadable');

    // notifyOnSuccess off: a successful run sends nothing.
    await t.api.request('PUT', '/api/v1/generalOptions', { token, version: '1.1-rev0', json: { emailSettings: emailSettings({ notifyOnSuccess: false }) } });
    const quiet = smtp.received.length;
    const ok = await t.server.runner.start({ name: 'Quiet job', type: 'Job', resourceId: '11111111-2222-3333-4444-555555555556' }, async () => ({ result: 'Success' }));
    await t.server.runner.settled(ok.id);
    await t.server.notifications.settled();
    expect(smtp.received.slice(quiet).filter((m) => subjectOf(m.raw).includes('Quiet job'))).toHaveLength(0);
  });

  it('mails once when a repository measured by the refresher is below the free-space threshold', async () => {
    const backupServerId = (await t.server.store.db.selectFrom('settings').select('value').where('key', '=', 'backup_server_id').executeTakeFirstOrThrow()).value;
    const folder = path.join(dir, 'repo');
    const repoId = await addLocalRepository({ t, token }, backupServerId, folder, { taskLimitEnabled: false, maxTaskCount: 1 }, { name: 'Nearly full', description: 'threshold' });
    const current = (await t.api.get('/api/v1/generalOptions', { token, version: '1.3-rev0' })).body;
    // 100 %: any real filesystem has less free space than its capacity.
    expect(
      (await t.api.request('PUT', '/api/v1/generalOptions', { token, version: '1.3-rev0', json: { notifications: { ...current.notifications, storageSpaceThreshold: 100 } } }))
        .status,
    ).toBe(200);
    const count = smtp.received.length;
    await t.server.repositories.refresher.refresh([repoId]);
    await t.server.repositories.refresher.refresh([repoId]);
    await t.server.notifications.settled();
    const low = smtp.received.slice(count).filter((m) => subjectOf(m.raw).includes('"Nearly full" is low on free space'));
    expect(low).toHaveLength(1);
    expect(bodyOf(low[0]!.raw)).toMatch(/below the 100 % threshold/);
    expect(low[0]!.secure).toBe(true);
  });
});
