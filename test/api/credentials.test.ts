import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createTestDatabase, postgresUrl } from '../support/postgres.js';
import { makeSshKeys, type SshKeys } from './vault-fixtures.js';

const dialects: [string, () => Promise<Record<string, string>>][] = [['sqlite', async () => ({})]];
if (postgresUrl) dialects.push(['postgres', async () => ({ DATABASE_URL: await createTestDatabase() })]);

const UNKNOWN = '11111111-2222-4333-8444-555555555555';

describe.each(dialects)('credentials add/list/get/remove on %s', (_kind, env) => {
  let t: TestServer;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer(await env());
    // Also no reply property outside Veeam's document (test/support/conformance.ts).
    t.api.strict = true;
    token = await t.adminToken();
  });
  afterAll(() => t.cleanup());

  it('adds a Standard record: 201 with the 1.1-rev0 model (tag), no secret', async () => {
    const res = await t.api.post('/api/v1/credentials', {
      token,
      json: { type: 'Standard', username: 'CORP\\backup', password: 'Std-Secret-1', description: 'Domain account', tag: 'std-1' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      username: 'CORP\\backup',
      description: 'Domain account',
      type: 'Standard',
      creationTime: expect.stringMatching(/[+-]\d\d:\d\d$/),
      tag: 'std-1',
    });
    expect(res.text).not.toContain('Std-Secret-1');
    const got = await t.api.get(`/api/v1/credentials/${res.body.id}`, { token });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
    expect(await t.server.vault.credentials.secretsFor(res.body.id)).toEqual({ password: 'Std-Secret-1' });
  });

  it('adds a Linux record with the 1.2 spellings; the reply has them and no secret fields at all', async () => {
    const res = await t.api.post('/api/v1/credentials', {
      token,
      version: '1.2-rev1',
      json: {
        type: 'Linux',
        username: 'root',
        password: 'Lx-Secret-1',
        uniqueId: 'lx-1',
        SSHPort: 2222,
        elevateToRoot: true,
        addToSudoers: true,
        useSu: false,
        rootPassword: 'Root-Secret-1',
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      type: 'Linux',
      username: 'root',
      description: '',
      uniqueId: 'lx-1',
      SSHPort: 2222,
      elevateToRoot: true,
      addToSudoers: true,
      useSu: false,
    });
    for (const field of ['tag', 'autoElevated', 'privateKey', 'passphrase', 'authenticationType']) expect(res.body).not.toHaveProperty(field);
    expect(res.body).not.toHaveProperty('password');
    expect(res.body).not.toHaveProperty('rootPassword');
    expect(await t.server.vault.credentials.secretsFor(res.body.id)).toEqual({ password: 'Lx-Secret-1', rootPassword: 'Root-Secret-1' });
  });

  it('lists with paging, order, name, type and creation filters', async () => {
    for (const [u, d] of [
      ['alice', 'zeta'],
      ['Bob', 'alpha'],
      ['carol', 'mid'],
    ]) {
      expect((await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: `list-${u}`, password: 'pw', description: d } })).status).toBe(201);
    }
    const all = await t.api.get('/api/v1/credentials?nameFilter=list-*&orderColumn=Username', { token });
    expect(all.status).toBe(200);
    expect(all.body.data.map((c: any) => c.username)).toEqual(['list-alice', 'list-Bob', 'list-carol']);
    expect(all.body.pagination).toEqual({ total: 3, count: 3, skip: 0, limit: 200 });
    const page = await t.api.get('/api/v1/credentials?nameFilter=list-*&orderColumn=Description&orderAsc=false&skip=1&limit=1', { token });
    expect(page.body.data.map((c: any) => c.description)).toEqual(['mid']);
    expect(page.body.pagination).toEqual({ total: 3, count: 1, skip: 1, limit: 1 });
    // nameFilter matches any parameter: the description too.
    expect((await t.api.get('/api/v1/credentials?nameFilter=ZET*', { token })).body.data.map((c: any) => c.username)).toEqual(['list-alice']);
    const linux = await t.api.get('/api/v1/credentials?typeFilter=Linux', { token, version: '1.2-rev1' });
    expect(linux.body.data.every((c: any) => c.type === 'Linux')).toBe(true);
    expect(linux.body.data.length).toBeGreaterThan(0);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await t.api.get(`/api/v1/credentials?createdAfterFilter=${future}`, { token })).body.pagination.total).toBe(0);
    expect((await t.api.get(`/api/v1/credentials?createdBeforeFilter=${future}`, { token })).body.pagination.total).toBeGreaterThanOrEqual(5);
    const bad = await t.api.get('/api/v1/credentials?orderColumn=Password', { token });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('Username, Description');
    expect((await t.api.get('/api/v1/credentials?typeFilter=Windows', { token })).body.message).toContain('Standard, Linux');
  });

  it('removes with 204 and no body; then 404', async () => {
    const created = await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: 'to-remove', password: 'pw-remove' } });
    const del = await t.api.request('DELETE', `/api/v1/credentials/${created.body.id}`, { token });
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect((await t.api.get(`/api/v1/credentials/${created.body.id}`, { token })).status).toBe(404);
    expect((await t.api.request('DELETE', `/api/v1/credentials/${created.body.id}`, { token })).status).toBe(404);
    const left = await t.server.store.db.selectFrom('vault_secrets').select('owner_id').where('owner_id', '=', created.body.id).execute();
    expect(left).toEqual([]);
  });
});

describe('credentials: every operation and bad input', () => {
  let t: TestServer;
  let token: string;
  let keys: SshKeys;
  beforeAll(async () => {
    t = await startTestServer();
    // Also no reply property outside Veeam's document (test/support/conformance.ts).
    t.api.strict = true;
    token = await t.adminToken();
    keys = await makeSshKeys();
  });
  afterAll(() => t.cleanup());

  const add = (json: unknown, version?: string) => t.api.post('/api/v1/credentials', { token, json, version });

  it.each([
    ['OpenSSH, encrypted', () => ({ privateKey: keys.opensshEncrypted, passphrase: keys.passphrase })],
    ['PEM, plain', () => ({ privateKey: keys.pemPlain })],
    ['PEM, encrypted', () => ({ privateKey: keys.pemEncrypted, passphrase: keys.passphrase })],
    ['PuTTY, plain', () => ({ privateKey: keys.puttyPlain })],
    ['PuTTY, encrypted', () => ({ privateKey: keys.puttyEncrypted, passphrase: keys.puttyPassphrase })],
  ])('accepts a Linux private key: %s', async (label, key) => {
    const res = await add({ type: 'Linux', username: `key-${label}`, autoElevated: true, ...key() });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ autoElevated: true, SSHPort: 22 });
    expect(res.body).not.toHaveProperty('privateKey');
    expect(res.body).not.toHaveProperty('passphrase');
    const opened = await t.server.vault.credentials.secretsFor(res.body.id);
    expect(opened.privateKey).toBe(key().privateKey);
  });

  it.each([
    ['missing username', { type: 'Standard', password: 'x' }, /missing the required field "username"/],
    ['missing type', { username: 'u', password: 'x' }, /missing the required field "type"/],
    ['unknown type', { type: 'Windows', username: 'u', password: 'x' }, /must be one of: Standard, Linux/],
    ['Standard without password', { type: 'Standard', username: 'u' }, /"password"/],
    ['Linux without password or key', { type: 'Linux', username: 'u' }, /"password" or "privateKey"/],
    ['Linux field on Standard', { type: 'Standard', username: 'u', password: 'x', SSHPort: 22 }, /Linux credentials only/],
    ['bad SSH port', { type: 'Linux', username: 'u', password: 'x', SSHPort: 70000 }, /SSHPort/],
    ['unreadable key', { type: 'Linux', username: 'u', privateKey: 'not a key at all' }, /cannot be read: give an OpenSSH, PEM or PuTTY/],
    ['wrong passphrase', { type: 'Linux', username: 'u', privateKey: 'KEY:opensshEncrypted', passphrase: 'wrong-one' }, /wrong passphrase/],
    ['wrong PuTTY passphrase', { type: 'Linux', username: 'u', privateKey: 'KEY:puttyEncrypted', passphrase: 'wrong-one' }, /wrong passphrase/],
    ['encrypted key without passphrase', { type: 'Linux', username: 'u', privateKey: 'KEY:pemEncrypted' }, /encrypted: give its passphrase/],
    ['public key', { type: 'Linux', username: 'u', privateKey: 'KEY:publicKey' }, /public key/],
    ['tag and uniqueId differ', { type: 'Standard', username: 'u', password: 'x', tag: 'a', uniqueId: 'b' }, /"tag" and "uniqueId"/],
    ['autoElevated and elevateToRoot differ', { type: 'Linux', username: 'u', password: 'x', autoElevated: true, elevateToRoot: false }, /"autoElevated" and "elevateToRoot"/],
  ])('400 for %s, with a message that says so and no secret', async (_label, body, message) => {
    const json: Record<string, unknown> = { ...body };
    if (typeof json.privateKey === 'string' && json.privateKey.startsWith('KEY:')) json.privateKey = keys[json.privateKey.slice(4) as keyof SshKeys];
    const res = await add(json);
    expect(res.status).toBe(400);
    expect(res.body.errorCode).toBe('UnexpectedContent');
    expect(res.body.message).toMatch(message);
    for (const secret of [json.password, json.passphrase, json.privateKey]) if (typeof secret === 'string' && secret.length > 3) expect(res.text).not.toContain(secret);
  });

  it('400 for a bad uuid and 404 for an unknown one, on every {id} route', async () => {
    for (const [method, suffix, json] of [
      ['GET', '', undefined],
      ['PUT', '', { type: 'Standard', username: 'u' }],
      ['DELETE', '', undefined],
      ['POST', '/changepassword', { password: 'x' }],
      ['POST', '/changeprivatekey', { privateKey: 'x' }],
      ['POST', '/changerootpassword', { password: 'x' }],
    ] as const) {
      const bad = await t.api.request(method, `/api/v1/credentials/not-a-uuid${suffix}`, { token, json });
      expect(bad.status, `${method} ${suffix}`).toBe(400);
      expect(bad.body.message).toMatch(/"id".*uuid/);
      expect((await t.api.request(method, `/api/v1/credentials/${UNKNOWN}${suffix}`, { token, json })).status, `${method} ${suffix}`).toBe(404);
    }
  });

  it('allows several records with one user name; refuses only a uniqueId that is taken', async () => {
    const first = await add({ type: 'Standard', username: 'dup-user', password: 'x' });
    expect(first.status).toBe(201);
    // Veeam keeps several records for one user name, told apart by their description.
    const again = await add({ type: 'Standard', username: 'DUP-USER', password: 'y', description: 'second' });
    expect(again.status, again.text).toBe(201);
    expect(again.body.id).not.toBe(first.body.id);
    expect((await add({ type: 'Standard', username: 'dup-user', password: 'y', tag: 'second' })).status).toBe(201);
    const sameTag = await add({ type: 'Linux', username: 'other', password: 'z', uniqueId: 'SECOND' }, '1.2-rev1');
    expect(sameTag.status).toBe(400);
    expect(sameTag.body.message).toMatch(/uniqueId \(tag\) "SECOND"/);
    expect((await add({ type: 'Linux', username: 'dup-user', password: 'x' })).status).toBe(201);
    // Racing adds of one tag: one wins, the others get the same 400.
    const racing = await Promise.all(Array.from({ length: 6 }, () => add({ type: 'Standard', username: 'race-user', password: 'x', tag: 'race' })));
    expect(racing.map((r) => r.status).sort()).toEqual([201, 400, 400, 400, 400, 400]);
  });

  it('edits with PUT (the model): non-secret fields change, secrets do not, type cannot', async () => {
    const created = await add({ type: 'Linux', username: 'edit-me', password: 'Edit-Secret-1', SSHPort: 22 });
    const id = created.body.id;
    const put = await t.api.request('PUT', `/api/v1/credentials/${id}`, {
      token,
      json: {
        ...created.body,
        username: 'edited',
        description: 'now described',
        tag: 'edited-tag',
        SSHPort: 2022,
        autoElevated: true,
        useSu: true,
        password: 'ignored',
        privateKey: null,
      },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      id,
      username: 'edited',
      description: 'now described',
      tag: 'edited-tag',
      SSHPort: 2022,
      autoElevated: true,
      useSu: true,
    });
    expect(put.body).not.toHaveProperty('privateKey');
    expect(put.body.creationTime).toBe(created.body.creationTime);
    expect((await t.api.get(`/api/v1/credentials/${id}`, { token })).body).toEqual(put.body);
    expect(await t.server.vault.credentials.secretsFor(id)).toEqual({ password: 'Edit-Secret-1' });
    const retype = await t.api.request('PUT', `/api/v1/credentials/${id}`, { token, json: { ...put.body, type: 'Standard' } });
    expect(retype.status).toBe(400);
    expect(retype.body.message).toMatch(/type .* cannot be changed/);
    expect((await t.api.request('PUT', `/api/v1/credentials/${id}`, { token, json: { ...put.body, id: UNKNOWN } })).status).toBe(400);
  });

  it('changepassword, changeprivatekey, changerootpassword (lowercase paths, 200 {})', async () => {
    const created = await add({ type: 'Linux', username: 'changer', password: 'Old-Secret-1', privateKey: keys.pemPlain });
    const id = created.body.id;
    const pw = await t.api.post(`/api/v1/credentials/${id}/changepassword`, { token, json: { password: 'New-Secret-2' } });
    expect(pw.status).toBe(200);
    expect(pw.body).toEqual({});
    const key = await t.api.post(`/api/v1/credentials/${id}/changeprivatekey`, { token, json: { privateKey: keys.opensshEncrypted, passphrase: keys.passphrase } });
    expect(key.status).toBe(200);
    const root = await t.api.post(`/api/v1/credentials/${id}/changerootpassword`, { token, json: { password: 'Root-Secret-3' } });
    expect(root.status).toBe(200);
    expect(await t.server.vault.credentials.secretsFor(id)).toEqual({
      password: 'New-Secret-2',
      privateKey: keys.opensshEncrypted,
      passphrase: keys.passphrase,
      rootPassword: 'Root-Secret-3',
    });
    const wrong = await t.api.post(`/api/v1/credentials/${id}/changeprivatekey`, { token, json: { privateKey: keys.opensshEncrypted, passphrase: 'nope-nope' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toMatch(/wrong passphrase/);
    // A new key without a passphrase clears the old passphrase.
    expect((await t.api.post(`/api/v1/credentials/${id}/changeprivatekey`, { token, json: { privateKey: keys.puttyPlain } })).status).toBe(200);
    expect(await t.server.vault.credentials.secretsFor(id)).not.toHaveProperty('passphrase');
    const std = await add({ type: 'Standard', username: 'std-changer', password: 'x' });
    expect((await t.api.post(`/api/v1/credentials/${std.body.id}/changeprivatekey`, { token, json: { privateKey: keys.pemPlain } })).body.message).toMatch(/only Linux/);
    expect((await t.api.post(`/api/v1/credentials/${std.body.id}/changerootpassword`, { token, json: { password: 'x' } })).status).toBe(400);
    expect((await t.api.post(`/api/v1/credentials/${std.body.id}/changepassword`, { token, json: {} })).body.message).toMatch(/"password"/);
  });

  it('refuses to remove a record that something uses, naming the user; nothing is removed', async () => {
    const created = await add({ type: 'Standard', username: 'in-use', password: 'In-Use-Secret' });
    const id = created.body.id;
    const unregister = t.server.vault.references.register('credentials', async (_db, target) =>
      target === id ? [{ kind: 'managed server', id: 'aaaaaaaa-0000-4000-8000-000000000001', name: 'linux01.example.com' }] : [],
    );
    try {
      const res = await t.api.request('DELETE', `/api/v1/credentials/${id}`, { token });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('managed server "linux01.example.com"');
      expect(res.body.resourceId).toBe(id);
      expect((await t.api.get(`/api/v1/credentials/${id}`, { token })).status).toBe(200);
      expect(await t.server.vault.credentials.secretsFor(id)).toEqual({ password: 'In-Use-Secret' });
    } finally {
      unregister();
    }
    expect((await t.api.request('DELETE', `/api/v1/credentials/${id}`, { token })).status).toBe(204);
  });

  it('Viewer reads records but never a secret, and gets 403 on every write', async () => {
    await t.server.users.add('viewer1', 'Viewer', 'Viewer-Passw0rd');
    await t.server.users.add('operator1', 'Operator', 'Operator-Passw0rd');
    const viewer = (await t.api.login('viewer1', 'Viewer-Passw0rd')).access_token;
    const operator = (await t.api.login('operator1', 'Operator-Passw0rd')).access_token;
    const created = await add({ type: 'Linux', username: 'viewed', password: 'Viewed-Secret-1', privateKey: keys.pemPlain });
    const list = await t.api.get('/api/v1/credentials', { token: viewer });
    expect(list.status).toBe(200);
    expect(list.text).not.toContain('Viewed-Secret-1');
    expect(list.text).not.toContain('PRIVATE KEY');
    const one = await t.api.get(`/api/v1/credentials/${created.body.id}`, { token: viewer });
    expect(one.body).not.toHaveProperty('privateKey');
    expect(one.body).not.toHaveProperty('passphrase');
    for (const who of [viewer, operator]) {
      for (const [method, path, json] of [
        ['POST', '/api/v1/credentials', { type: 'Standard', username: 'x', password: 'x' }],
        ['PUT', `/api/v1/credentials/${created.body.id}`, created.body],
        ['DELETE', `/api/v1/credentials/${created.body.id}`, undefined],
        ['POST', `/api/v1/credentials/${created.body.id}/changepassword`, { password: 'x' }],
        ['POST', `/api/v1/credentials/${created.body.id}/changeprivatekey`, { privateKey: 'x' }],
        ['POST', `/api/v1/credentials/${created.body.id}/changerootpassword`, { password: 'x' }],
      ] as const) {
        const res = await t.api.request(method, path, { token: who, json });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(res.body.errorCode).toBe('AccessDenied');
      }
    }
    expect(await t.server.vault.credentials.secretsFor(created.body.id)).toMatchObject({ password: 'Viewed-Secret-1' });
  });

  it('answers every revision clients use, and paths in any case', async () => {
    for (const version of ['1.0-rev1', '1.1-rev0', '1.2-rev1', '1.3-rev1']) {
      expect((await t.api.get('/api/v1/credentials?limit=1', { token, version })).status).toBe(200);
    }
    const created = await add({ type: 'Standard', username: 'case-paths', password: 'x' });
    expect((await t.api.post(`/api/v1/Credentials/${created.body.id}/ChangePassword`, { token, json: { password: 'y' } })).status).toBe(200);
  });
});
