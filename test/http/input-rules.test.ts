import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../support/server.js';
import { createTestDatabase, postgresUrl } from '../support/postgres.js';

/** The same requests on both backends: the answers must agree, and none may be a 500. */
function inputRules(name: string, env: () => Promise<Record<string, string>>) {
  describe(name, () => {
    let t: TestServer;
    let token: string;
    beforeAll(async () => {
      t = await startTestServer(await env());
      token = await t.adminToken();
    });
    afterAll(() => t?.cleanup());

    describe('ranges', () => {
      it.each([
        ['/api/v1/services?skip=1e20', 'skip'],
        ['/api/v1/services?limit=1e20', 'limit'],
        ['/api/v1/services?limit=1e309', 'limit'],
        ['/api/v1/sessions?skip=1e20', 'skip'],
        ['/api/v1/sessions?skip=99999999999', 'skip'],
        ['/api/v1/credentials?limit=1e309', 'limit'],
        ['/api/v1/backupInfrastructure/repositories/states?capacityFilter=1e309', 'capacityFilter'],
      ])('%s → 400 naming %s, without echoing the value', async (path, field) => {
        const res = await t.api.get(path, { token });
        expect(res.status).toBe(400);
        expect(res.body.errorCode).toBe('UnexpectedContent');
        expect(res.body.message).toContain(`"${field}"`);
        expect(res.text).not.toMatch(/1e20|1e309|100000000000000000000|Infinity|99999999999/);
      });

      it('keeps ordinary paging working', async () => {
        const res = await t.api.get('/api/v1/sessions?skip=2147483647&limit=5', { token });
        expect(res.status).toBe(200);
        expect(res.body.pagination).toMatchObject({ skip: 2147483647, limit: 5, count: 0 });
      });
    });

    describe('control characters', () => {
      it.each([
        ['a NUL in a credentials user name', 'username', { type: 'Standard', username: 'back\u0000up', password: 'x' }],
        ['a NUL in a description', 'description', { type: 'Standard', username: 'backup', password: 'x', description: 'nul\u0000' }],
        ['an escape character in a tag', 'tag', { type: 'Standard', username: 'backup', password: 'x', tag: '\u001b[31m' }],
        ['a lone surrogate in a user name', 'username', { type: 'Standard', username: 'x\ud800', password: 'x' }],
        ['a NUL in a field name', 'field name', { type: 'Standard', username: 'backup', password: 'x', 'odd\u0000': 1 }],
      ])('%s → 400 naming the field', async (_what, field, json) => {
        const res = await t.api.post('/api/v1/credentials', { token, json });
        expect(res.status).toBe(400);
        expect(res.body.message).toContain(field);
        expect((await t.api.get('/api/v1/credentials', { token })).body.pagination.total).toBe(0);
      });

      it('refuses a NUL in nameFilter and in a path id, and keeps tabs and new lines', async () => {
        const filter = await t.api.get('/api/v1/credentials?nameFilter=a%00b', { token });
        expect(filter.status).toBe(400);
        expect(filter.body.message).toContain('"nameFilter"');
        const id = await t.api.get('/api/v1/credentials/a%00b', { token });
        expect(id.status).toBe(400);
        expect(id.body.message).toContain('"id"');
        const multiline = await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: 'lines', password: 'x', description: 'one\r\ntwo\tthree' } });
        expect(multiline.status).toBe(201);
        expect(multiline.body.description).toBe('one\r\ntwo\tthree');
      });

      it('refuses a NUL in the sign-in form before any lookup', async () => {
        const res = await t.api.post('/api/oauth2/token', { form: { grant_type: 'password', username: 'admin\u0000istrator', password: ADMIN_PASSWORD } });
        expect(res.status).toBe(400);
        expect(res.body.message).toContain('"username"');
      });

      it('refuses a lone surrogate in commonName of certificate regenerate, leaving no session behind', async () => {
        const before = (await t.api.get('/api/v1/sessions', { token })).body.pagination.total;
        const res = await t.api.post('/api/v1/settings/certificates/regenerate', {
          version: '1.0-rev0',
          token,
          json: { validBy: '2099-01-01T00:00:00', commonName: 'host\ud800' },
        });
        expect(res.status).toBe(400);
        expect(res.body.details).toContain('"commonName"');
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
        expect((await t.api.get('/api/v1/sessions', { token })).body.pagination.total).toBe(before);
      });
    });

    describe('type coercion', () => {
      const linux = { type: 'Linux', username: 'root', password: 'Linux-Passw0rd' };
      it.each([
        ['true for a port', 'SSHPort', { ...linux, SSHPort: true }],
        ['a string for a port', 'SSHPort', { ...linux, SSHPort: '22' }],
        ['a number for a flag', 'elevateToRoot', { ...linux, elevateToRoot: 1 }],
        ['a number for a text', 'description', { ...linux, description: 5 }],
        ['a list for a text', 'username', { ...linux, username: ['root'] }],
      ])('refuses %s', async (_what, field, json) => {
        const res = await t.api.post('/api/v1/credentials', { token, json });
        expect(res.status).toBe(400);
        expect(res.body.message).toContain(`"${field}"`);
      });

      it('refuses true for a list (no ["true"])', async () => {
        const res = await t.api.post('/api/v1/settings/certificates/regenerate', {
          version: '1.0-rev0',
          token,
          json: { validBy: '2099-01-01T00:00:00', subjectAlternativeNames: true },
        });
        expect(res.status).toBe(400);
        expect(res.body.details).toContain('"subjectAlternativeNames"');
      });

      it('keeps string booleans in a body (any case) and numbers and booleans in a query', async () => {
        const res = await t.api.post('/api/v1/credentials', { token, json: { ...linux, username: 'flags', elevateToRoot: 'TRUE', addToSudoers: 'false' } });
        expect(res.status).toBe(201);
        // 1.1-rev0 spells it autoElevated (1.2 renamed it elevateToRoot).
        expect(res.body).toMatchObject({ autoElevated: true, addToSudoers: false });
        for (const value of ['true', 'True', 'TRUE', 'false']) {
          const list = await t.api.get(`/api/v1/credentials?orderColumn=Username&orderAsc=${value}&limit=10&skip=0`, { token });
          expect(list.status).toBe(200);
        }
        expect((await t.api.get('/api/v1/credentials?orderAsc=yes', { token })).status).toBe(400);
      });
    });
  });
}

inputRules('input rules on SQLite', async () => ({}));
describe.skipIf(!postgresUrl)('PostgreSQL', () => {
  inputRules('input rules on PostgreSQL', async () => ({ DATABASE_URL: await createTestDatabase() }));
});
