import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../support/server.js';
import { DEFAULT_REVISION, VBR_REVISIONS } from '../../src/http/api-version.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.cleanup());

/** serverInfo's buildVersion is the Veeam build of the revision a request is answered in. */
async function buildVersionFor(version: string | null, token: string): Promise<string> {
  const res = await t.api.get('/api/v1/serverInfo', { version, token });
  expect(res.status, res.text).toBe(200);
  return res.body.buildVersion;
}

describe('an unsupported x-api-version', () => {
  it('answers 400 NotImplemented listing every supported revision (Backup & Replication)', async () => {
    for (const version of ['9.9-rev9', '1.4-rev0', '1.1', 'latest']) {
      const res = await t.api.get('/api/v1/serverTime', { version });
      expect(res.status, version).toBe(400);
      expect(res.body).toEqual({
        errorCode: 'NotImplemented',
        message: `Unsupported RESTAPI version "${version}". The following versions are supported: ${VBR_REVISIONS.map((r) => `v${r}`).join(', ')}.`,
      });
    }
  });

  it('answers the token request the same way, before reading the form', async () => {
    const res = await t.api.post('/api/oauth2/token', { version: '2.0-rev0', form: { grant_type: 'password', username: 'administrator', password: ADMIN_PASSWORD } });
    expect(res.status).toBe(400);
    expect(res.body.errorCode).toBe('NotImplemented');
    expect(res.body.message).toContain('v1.1-rev0');
  });

  it('answers in the problem shape with errorCode NotImplemented on Backup for AWS routes', async () => {
    const res = await t.api.post('/api/v1/token', { version: '0.9-rev0', form: { grant_type: 'password', username: 'administrator', password: ADMIN_PASSWORD } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: 400, errorCode: 'NotImplemented', title: 'Bad Request' });
    expect(res.body.type).toMatch(/\/api\/v1\/problems\/notImplemented$/);
    expect(res.body.details).toMatch(/The following versions are supported: v1\.0-rev0, /);
  });
});

describe('a request without x-api-version', () => {
  it('is answered in the newest revision Rampart follows', () => {
    expect(DEFAULT_REVISION.vbr).toBe(VBR_REVISIONS[VBR_REVISIONS.length - 1]);
    expect(DEFAULT_REVISION.vba).toBe('1.0-rev0');
  });

  it('works for a client that never sends it: token request, then calls, as the VBR 13 jobs CLI does', async () => {
    const login = await t.api.post('/api/oauth2/token', { version: null, form: { grant_type: 'password', username: 'administrator', password: ADMIN_PASSWORD } });
    expect(login.status, login.text).toBe(200);
    const token = login.body.access_token as string;
    expect(token).toBeTruthy();

    // Answered exactly as if the default revision had been asked for, and unlike an older one.
    const without = await buildVersionFor(null, token);
    expect(without).toBe(await buildVersionFor(DEFAULT_REVISION.vbr, token));
    expect(without).not.toBe(await buildVersionFor('1.1-rev0', token));

    const sessions = await t.api.get('/api/v1/sessions?limit=1', { version: null, token });
    expect(sessions.status).toBe(200);
    expect(sessions.body.pagination.limit).toBe(1);

    const refreshed = await t.api.post('/api/oauth2/token', { version: null, form: { grant_type: 'refresh_token', refresh_token: login.body.refresh_token } });
    expect(refreshed.status, refreshed.text).toBe(200);
  });

  it('treats an empty header like a missing one', async () => {
    const res = await t.api.get('/api/v1/serverTime', { version: null, headers: { 'x-api-version': ' ' } });
    expect(res.status).toBe(200);
  });

  it('still needs a token where the route needs one', async () => {
    const res = await t.api.get('/api/v1/serverInfo', { version: null });
    expect(res.status).toBe(401);
    expect(res.body.errorCode).toBe('AccessDenied');
  });

  it('works on the Backup for AWS token route too', async () => {
    const res = await t.api.post('/api/v1/token', { version: null, form: { grant_type: 'password', username: 'administrator', password: ADMIN_PASSWORD } });
    expect(res.status, res.text).toBe(200);
    const certificates = await t.api.get('/api/v1/settings/certificates', { version: null, token: res.body.access_token });
    expect(certificates.status).toBe(200);
    expect(certificates.body.data.length).toBe(1);
  });
});
