import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../support/server.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ RAMPART_LOGIN_SLOWDOWN_AFTER: '2', RAMPART_LOGIN_LOCKOUT_AFTER: '4', RAMPART_LOGIN_LOCKOUT_SECONDS: '600' });
});
afterAll(() => t.cleanup());

const tokenPath = '/api/oauth2/token';

describe('password grant', () => {
  it('returns a TokenModel with RFC 3339 dates and a working access token', async () => {
    const res = await t.api.post(tokenPath, { form: { grant_type: 'password', username: 'administrator', password: ADMIN_PASSWORD } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(Object.keys(res.body).sort()).toEqual(['.expires', '.issued', 'access_token', 'expires_in', 'refresh_token', 'token_type']);
    expect(res.body.token_type).toBe('bearer');
    expect(res.body.expires_in).toBe(3600);
    expect(res.body['.issued']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/);
    expect(Date.parse(res.body['.expires']) - Date.parse(res.body['.issued'])).toBe(3600_000);
    const info = await t.api.get('/api/v1/serverInfo', { token: res.body.access_token });
    expect(info.status).toBe(200);
  });

  it('compares grant_type case-insensitively and ignores a stale Authorization header', async () => {
    const res = await t.api.post(tokenPath, {
      form: { grant_type: 'Password', username: 'ADMINISTRATOR', password: ADMIN_PASSWORD },
      headers: { authorization: 'Bearer stale.expired.token' },
    });
    expect(res.status).toBe(200);
  });

  it('accepts a JSON body sent without a Content-Type', async () => {
    const res = await t.api.post(tokenPath, { rawBody: JSON.stringify({ grant_type: 'password', username: 'administrator', password: ADMIN_PASSWORD }) });
    expect(res.status).toBe(200);
  });

  it('answers vbr_token and unknown grants with a clear 400', async () => {
    const vbr = await t.api.post(tokenPath, { form: { grant_type: 'vbr_token', vbr_token: 'x' } });
    expect(vbr.status).toBe(400);
    expect(vbr.body.errorCode).toBe('UnexpectedContent');
    expect(vbr.body.message).toMatch(/not supported/);
    const other = await t.api.post(tokenPath, { form: { grant_type: 'client_credentials' } });
    expect(other.status).toBe(400);
    expect(other.body.message).toMatch(/Unknown grant_type/);
    const missing = await t.api.post(tokenPath, { form: { username: 'a' } });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/grant_type/);
  });

  it('gives the same 401 for a wrong password and for an unknown user', async () => {
    const wrong = await t.api.post(tokenPath, { form: { grant_type: 'password', username: 'administrator', password: 'nope-nope' } });
    const unknown = await t.api.post(tokenPath, { form: { grant_type: 'password', username: 'ghost', password: 'nope-nope' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    // A good login clears the user's record, so later tests start fresh.
    await t.api.login('administrator', ADMIN_PASSWORD);
  });
});

describe('refresh tokens', () => {
  it('are single-use, and reusing one revokes the whole login', async () => {
    const first = await t.api.login('administrator', ADMIN_PASSWORD);
    const second = await t.api.post(tokenPath, { form: { grant_type: 'refresh_token', refresh_token: first.refresh_token } });
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect((await t.api.get('/api/v1/serverInfo', { token: second.body.access_token })).status).toBe(200);

    const replay = await t.api.post(tokenPath, { form: { grant_type: 'refresh_token', refresh_token: first.refresh_token } });
    expect(replay.status).toBe(401);
    expect(replay.body.errorCode).toBe('InvalidToken');
    // The family is revoked: the access and refresh tokens from the second answer stop working too.
    const after = await t.api.get('/api/v1/serverInfo', { token: second.body.access_token });
    expect(after.status).toBe(401);
    expect(after.body.errorCode).toBe('InvalidToken');
    const third = await t.api.post(tokenPath, { form: { grant_type: 'refresh_token', refresh_token: second.body.refresh_token } });
    expect(third.status).toBe(401);
  });

  it('refuses an unknown refresh token', async () => {
    const res = await t.api.post(tokenPath, { form: { grant_type: 'refresh_token', refresh_token: 'made-up' } });
    expect(res.status).toBe(401);
    expect(res.body.errorCode).toBe('InvalidToken');
  });

  it('honours use_short_term_refresh (access lifetime + 15 minutes)', async () => {
    const res = await t.api.post(tokenPath, { form: { grant_type: 'password', username: 'administrator', password: ADMIN_PASSWORD, use_short_term_refresh: 'true' } });
    expect(res.status).toBe(200);
    const row = await t.server.store.db.selectFrom('refresh_tokens').selectAll().orderBy('issued_at', 'desc').executeTakeFirstOrThrow();
    expect(Date.parse(row.expires_at) - Date.parse(row.issued_at)).toBe((3600 + 900) * 1000);
  });
});

describe('authorization codes', () => {
  it('are exchanged once for tokens', async () => {
    const token = await t.adminToken();
    const code = await t.api.post('/api/oauth2/authorization_code', { token });
    expect(code.status).toBe(200);
    expect(typeof code.body.code).toBe('string');
    const exchanged = await t.api.post(tokenPath, { form: { grant_type: 'authorization_code', code: code.body.code } });
    expect(exchanged.status).toBe(200);
    expect((await t.api.get('/api/v1/serverInfo', { token: exchanged.body.access_token })).status).toBe(200);
    const again = await t.api.post(tokenPath, { form: { grant_type: 'authorization_code', code: code.body.code } });
    expect(again.status).toBe(401);
    expect(again.body.errorCode).toBe('InvalidToken');
  });

  it('expire', async () => {
    const token = await t.adminToken();
    const code = await t.api.post('/api/oauth2/authorization_code', { token });
    await t.server.store.db
      .updateTable('authorization_codes')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .execute();
    const res = await t.api.post(tokenPath, { form: { grant_type: 'authorization_code', code: code.body.code } });
    expect(res.status).toBe(401);
  });
});

describe('logout', () => {
  it('revokes the access and the refresh token', async () => {
    const login = await t.api.login('administrator', ADMIN_PASSWORD);
    const out = await t.api.post('/api/oauth2/logout', { token: login.access_token });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({});
    const after = await t.api.get('/api/v1/serverInfo', { token: login.access_token });
    expect(after.status).toBe(401);
    expect(after.body.errorCode).toBe('InvalidToken');
    const refresh = await t.api.post(tokenPath, { form: { grant_type: 'refresh_token', refresh_token: login.refresh_token } });
    expect(refresh.status).toBe(401);
  });

  it('takes effect on another node within a second (revocation written to the shared database)', async () => {
    const login = await t.api.login('administrator', ADMIN_PASSWORD);
    expect((await t.api.get('/api/v1/serverInfo', { token: login.access_token })).status).toBe(200);
    // Another node (or the CLI) revokes the login by writing to the database only.
    await t.server.store.db.updateTable('token_families').set({ revoked_at: new Date().toISOString(), revoked_reason: 'test' }).where('revoked_at', 'is', null).execute();
    await new Promise((r) => setTimeout(r, 1000));
    expect((await t.api.get('/api/v1/serverInfo', { token: login.access_token })).status).toBe(401);
  });
});

describe('lockout', () => {
  it('slows down and then locks out a user name, without revealing whether it exists', async () => {
    const attempt = (username: string, password: string) => t.api.post(tokenPath, { form: { grant_type: 'password', username, password } });
    await t.server.users.add('lockme', 'Viewer', 'Lockme-Passw0rd');
    const started = Date.now();
    for (let i = 0; i < 4; i++) expect((await attempt('lockme', 'wrong-password')).status).toBe(401);
    // Attempts 3 and 4 were delayed (250 ms, 500 ms).
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    const locked = await attempt('lockme', 'Lockme-Passw0rd');
    expect(locked.status).toBe(401);
    expect(locked.body.message).toMatch(/Too many failed sign-in attempts/);
    // An unknown name locks out the same way.
    for (let i = 0; i < 4; i++) await attempt('nobody-here', 'wrong-password');
    const ghost = await attempt('nobody-here', 'wrong-password');
    expect(ghost.body).toEqual({ ...locked.body, message: ghost.body.message });
    expect(ghost.body.message).toMatch(/Too many failed sign-in attempts/);
    // After the lockout period the right password works again.
    await t.server.store.db
      .updateTable('login_failures')
      .set({ locked_until: new Date(Date.now() - 1).toISOString(), last_failure_at: new Date(Date.now() - 601_000).toISOString() })
      .execute();
    expect((await attempt('lockme', 'Lockme-Passw0rd')).status).toBe(200);
  });
});

describe('Backup for AWS token endpoints', () => {
  it('log in with RESTLogin and exact YYYY-MM-DDTHH:MM:SS dates, and sign out with 204', async () => {
    const res = await t.api.post('/api/v1/token', { version: '1.0-rev0', form: { grant_type: 'password', username: 'administrator', password: ADMIN_PASSWORD } });
    expect(res.status).toBe(200);
    expect(res.body['.issued']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(res.body['.expires']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(res.body.username).toBe('administrator');
    expect(res.body.roleName).toBe('Portal Administrator');
    expect(res.body.mfa_enabled).toBe(false);
    // The same token works on Backup & Replication routes.
    expect((await t.api.get('/api/v1/serverInfo', { token: res.body.access_token })).status).toBe(200);
    const out = await t.api.request('DELETE', '/api/v1/token', { version: '1.0-rev0', token: res.body.access_token });
    expect(out.status).toBe(204);
    expect(out.text).toBe('');
    expect(out.headers['content-type']).toBeUndefined();
    expect((await t.api.get('/api/v1/serverInfo', { token: res.body.access_token })).status).toBe(401);
  });

  it('answers errors in the problem shape', async () => {
    const res = await t.api.post('/api/v1/token', { version: '1.0-rev0', form: { grant_type: 'password', username: 'administrator', password: 'wrong-wrong' } });
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/json/);
    expect(res.body).toMatchObject({ status: 401, errorCode: 'AccessDenied', title: 'Unauthorized' });
    expect(res.body.type).toMatch(/\/api\/v1\/problems\/accessDenied$/);
    const version = await t.api.post('/api/v1/token', { version: '1.1-rev0x', form: { grant_type: 'password' } });
    expect(version.status).toBe(400);
    expect(version.body.details).toMatch(/v1\.0-rev0/);
    await t.api.login('administrator', ADMIN_PASSWORD);
  });
});
