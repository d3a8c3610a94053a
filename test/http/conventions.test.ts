import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { VBR_REVISIONS } from '../../src/http/api-version.js';

let t: TestServer;
let token: string;

beforeAll(async () => {
  t = await startTestServer();
  token = await t.adminToken();
});
afterAll(() => t.cleanup());

describe('x-api-version', () => {
  it('accepts every revision seen in the wild', async () => {
    for (const version of VBR_REVISIONS) {
      const res = await t.api.get('/api/v1/serverTime', { version });
      expect(res.status, version).toBe(200);
    }
  });

  it('accepts the header name in any case', async () => {
    const res = await t.api.get('/api/v1/serverTime', { version: null, headers: { 'X-API-VERSION': '1.1-rev0' } });
    expect(res.status).toBe(200);
  });

  it('answers a request without the header in the default revision (see test/http/api-version.test.ts)', async () => {
    const res = await t.api.get('/api/v1/serverTime', { version: null });
    expect(res.status).toBe(200);
  });

  it('answers an unknown version like Veeam does', async () => {
    const res = await t.api.get('/api/v1/serverInfo', { version: '9.9-rev9', token });
    expect(res.status).toBe(400);
    expect(res.body.errorCode).toBe('NotImplemented');
    expect(res.body.message).toMatch(/^Unsupported RESTAPI version "9\.9-rev9"\. The following versions are supported: v1\.0-rev1, /);
  });

  it('checks the version before the token', async () => {
    const res = await t.api.get('/api/v1/serverInfo', { version: '0.9-rev0' });
    expect(res.status).toBe(400);
    expect(res.body.errorCode).toBe('NotImplemented');
  });
});

describe('paths and bodies', () => {
  it('matches paths case-insensitively', async () => {
    expect((await t.api.get('/API/V1/SERVERTIME')).status).toBe(200);
    expect((await t.api.get('/api/v1/sessions?limit=1', { token })).status).toBe(200);
    expect((await t.api.get('/api/v1/Sessions?limit=1', { token })).status).toBe(200);
  });

  it('labels JSON replies application/json whatever Accept says', async () => {
    for (const accept of ['*/*', 'text/html', 'application/xml']) {
      const res = await t.api.get('/api/v1/serverTime', { headers: { accept } });
      expect(res.headers['content-type']).toMatch(/^application\/json/);
    }
  });

  it('answers malformed JSON with 400 and the error model', async () => {
    const res = await t.api.post('/api/oauth2/token', { rawBody: '{"grant_type": ', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errorCode: 'UnexpectedContent', message: 'The request body is not valid JSON.' });
  });

  it('answers an oversized body with 413 and the error model', async () => {
    const small = await startTestServer({ RAMPART_BODY_LIMIT_BYTES: '2048' });
    try {
      const res = await small.api.post('/api/oauth2/token', { json: { grant_type: 'password', username: 'x'.repeat(4096) }, undocumented: 'Veeam lists no 413' });
      expect(res.status).toBe(413);
      expect(res.body.errorCode).toBe('UnexpectedContent');
      expect(res.body.message).toMatch(/larger than the server accepts \(2048 bytes\)/);
    } finally {
      await small.cleanup();
    }
  });
});

describe('error model for each status', () => {
  it('401: missing, invalid and expired tokens are told apart by errorCode', async () => {
    const missing = await t.api.get('/api/v1/serverInfo');
    expect(missing.status).toBe(401);
    expect(missing.body.errorCode).toBe('AccessDenied');
    const invalid = await t.api.get('/api/v1/serverInfo', { token: 'not-a-jwt' });
    expect(invalid.status).toBe(401);
    expect(invalid.body.errorCode).toBe('InvalidToken');
    const tampered = await t.api.get('/api/v1/serverInfo', { token: token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA') });
    expect(tampered.body.errorCode).toBe('InvalidToken');
    // A token signed with the server's key but already past its expiry.
    const { SignJWT } = await import('jose');
    const { readFile } = await import('node:fs/promises');
    const key = Buffer.from((await readFile(`${t.dataDir}/token-signing.key`, 'utf8')).trim(), 'base64');
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ unique_name: 'administrator', role: 'Administrator', fid: 'f' })
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('u')
      .setAudience('access')
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(key);
    const res = await t.api.get('/api/v1/serverInfo', { token: expired });
    expect(res.status).toBe(401);
    expect(res.body.errorCode).toBe('ExpiredToken');
  });

  it('404 for an unknown route and for an unknown id', async () => {
    const route = await t.api.get('/api/v1/nothingHere', { token });
    expect(route.status).toBe(404);
    expect(route.body.errorCode).toBe('NotFound');
    const id = await t.api.get('/api/v1/sessions/6f0f8c2e-8f5a-4d2b-9a55-0c1d2e3f4a5b', { token });
    expect(id.status).toBe(404);
    expect(id.body).toEqual({ errorCode: 'NotFound', message: expect.stringContaining('was not found'), resourceId: '6f0f8c2e-8f5a-4d2b-9a55-0c1d2e3f4a5b' });
    const html = await t.api.get('/no/such/page', { headers: { accept: 'text/html' } });
    expect(html.status).toBe(404);
    expect(html.headers['content-type']).toMatch(/json/);
  });

  it('400 for a malformed id', async () => {
    const res = await t.api.get('/api/v1/sessions/not-a-uuid', { token });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/path parameter "id"/);
  });

  it('405 for a known path with the wrong method', async () => {
    const res = await t.api.request('DELETE', '/api/v1/serverTime');
    expect(res.status).toBe(405);
    expect(res.body.errorCode).toBe('MethodNotAllowed');
    expect(res.headers.allow).toBe('GET');
  });

  it('403 when the role does not allow the operation', async () => {
    await t.server.users.add('viewer1', 'Viewer', 'Viewer-Passw0rd');
    const viewer = await t.api.login('viewer1', 'Viewer-Passw0rd');
    const res = await t.api.post('/api/v1/sessions/6f0f8c2e-8f5a-4d2b-9a55-0c1d2e3f4a5b/stop', { token: viewer.access_token });
    expect(res.status).toBe(403);
    expect(res.body.errorCode).toBe('AccessDenied');
    expect(res.body.message).toMatch(/needs the Operator role/);
    // Reading is allowed.
    expect((await t.api.get('/api/v1/sessions', { token: viewer.access_token })).status).toBe(200);
  });

  it('never answers with a stack trace or HTML', async () => {
    const res = await t.api.get('/api/v1/sessions?skip=-1', { token });
    expect(res.status).toBe(400);
    expect(res.text).not.toMatch(/at .*\.ts:\d+|<html/i);
  });
});

describe('OpenAPI', () => {
  it('serves the generated document and the interactive docs', async () => {
    const doc = await t.api.get('/swagger/v1.1-rev0/swagger.json', { version: null });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(doc.body.paths['/api/v1/sessions']).toBeDefined();
    expect(doc.body.paths['/api/oauth2/token']).toBeDefined();
    const ui = await t.api.get('/swagger/ui/index.html', { version: null });
    expect([200, 302]).toContain(ui.status);
    const page = await t.api.get('/swagger/ui/', { version: null });
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/swagger/i);
  });
});

describe('logs', () => {
  it('write one line per request with method, route, status, duration and user, and never a token or password', async () => {
    await t.api.get('/api/v1/serverInfo', { token });
    const lines = t
      .logText()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const line = lines.find((l) => l.msg === 'request' && l.path === '/api/v1/serverInfo' && l.status === 200);
    expect(line).toMatchObject({ method: 'GET', route: '/api/v1/serverInfo', user: 'administrator' });
    expect(typeof line.durationMs).toBe('number');
    expect(t.logText()).not.toContain(token);
    expect(t.logText()).not.toContain('Admin-Passw0rd!');
  });
});
