import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let t: TestServer;
let token: string;
beforeAll(async () => {
  t = await startTestServer();
  // Also no reply property outside Veeam's document (test/support/conformance.ts).
  t.api.strict = true;
  token = await t.adminToken();
});
afterAll(() => t.cleanup());

const add = (json: unknown, version?: string) => t.api.post('/api/v1/encryptionPasswords', { token, json, version });
const service = () => t.server.vault.encryptionPasswords;

describe('encryption passwords', () => {
  it('adds (201 model, no password), keeps a verifier and a sealed copy', async () => {
    const res = await add({ password: 'Enc-Passw0rd-1', hint: 'Standard Password', tag: 'internal' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      hint: 'Standard Password',
      modificationTime: expect.stringMatching(/[+-]\d\d:\d\d$/),
      tag: 'internal',
    });
    // Each document's spelling only: 1.2-rev1 calls the tag uniqueId.
    const v12 = await t.api.get(`/api/v1/encryptionPasswords/${res.body.id}`, { token, version: '1.2-rev1' });
    expect(v12.body).toMatchObject({ uniqueId: 'internal' });
    expect(v12.body).not.toHaveProperty('tag');
    expect(res.text).not.toContain('Enc-Passw0rd-1');
    expect(await service().verify(res.body.id, 'Enc-Passw0rd-1')).toBe(true);
    expect(await service().verify(res.body.id, 'enc-passw0rd-1')).toBe(false);
    expect(await service().passwordFor(res.body.id)).toBe('Enc-Passw0rd-1');
    const row = await t.server.store.db.selectFrom('encryption_passwords').select('verifier').where('id', '=', res.body.id).executeTakeFirstOrThrow();
    expect(row.verifier).toMatch(/^\$argon2id\$/);
    expect((await t.api.get(`/api/v1/encryptionPasswords/${res.body.id}`, { token })).body).toEqual(res.body);
  });

  it('lists with Hint and ModificationTime order', async () => {
    for (const hint of ['b hint', 'A hint', 'c hint']) expect((await add({ password: `pw-${hint}`, hint }, '1.2-rev1')).status).toBe(201);
    const byHint = await t.api.get('/api/v1/encryptionPasswords?orderColumn=Hint', { token });
    const hints = byHint.body.data.map((p: any) => p.hint);
    expect(hints.slice(0, 3)).toEqual(['A hint', 'b hint', 'c hint']);
    expect(byHint.body.pagination).toMatchObject({ total: 4, count: 4, skip: 0, limit: 200 });
    const newest = await t.api.get('/api/v1/encryptionPasswords?orderColumn=ModificationTime&orderAsc=false&limit=1', { token });
    expect(newest.body.data.map((p: any) => p.hint)).toEqual(['c hint']);
    expect((await t.api.get('/api/v1/encryptionPasswords?orderColumn=Name', { token })).status).toBe(400);
  });

  it('edits the hint and the tag only; the password stays', async () => {
    const created = await add({ password: 'Edit-Enc-1', hint: 'to edit' });
    const put = await t.api.request('PUT', `/api/v1/encryptionPasswords/${created.body.id}`, {
      token,
      json: { ...created.body, hint: 'edited hint', uniqueId: 'ed-1', password: 'ignored-pw' },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: created.body.id, hint: 'edited hint', tag: 'ed-1' });
    expect(put.body).not.toHaveProperty('uniqueId');
    expect(await service().verify(created.body.id, 'Edit-Enc-1')).toBe(true);
    expect(await service().passwordFor(created.body.id)).toBe('Edit-Enc-1');
  });

  it('1.2 changepassword sets a new password and hint', async () => {
    const created = await add({ password: 'Change-Enc-1', hint: 'to change' });
    const res = await t.api.post(`/api/v1/encryptionPasswords/${created.body.id}/changepassword`, {
      token,
      version: '1.2-rev1',
      json: { password: 'Change-Enc-2', hint: 'changed' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    expect(await service().verify(created.body.id, 'Change-Enc-2')).toBe(true);
    expect(await service().passwordFor(created.body.id)).toBe('Change-Enc-2');
  });

  it.each([
    ['missing password', { hint: 'h' }, /"password"/],
    ['missing hint', { password: 'p' }, /"hint"/],
    ['empty password', { password: '', hint: 'h2' }, /password/],
  ])('400 for %s', async (_l, body, message) => {
    const res = await add(body);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(message);
  });

  it('refuses duplicates (same uniqueId, or same hint without one), removes with 204, refuses removal in use', async () => {
    expect((await add({ password: 'x1', hint: 'Dup Hint' })).status).toBe(201);
    const dup = await add({ password: 'x2', hint: 'dup hint' });
    expect(dup.status).toBe(400);
    expect(dup.body.message).toMatch(/hint "dup hint" and no uniqueId/);
    expect(dup.text).not.toContain('x2"');
    const tagged = await add({ password: 'x3', hint: 'dup hint', tag: 'other' });
    expect(tagged.status).toBe(201);
    const unregister = t.server.vault.references.register('encryptionPasswords', async (_db, id) =>
      id === tagged.body.id ? [{ kind: 'backup job', id: 'j-1', name: 'Nightly' }] : [],
    );
    const refused = await t.api.request('DELETE', `/api/v1/encryptionPasswords/${tagged.body.id}`, { token });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('backup job "Nightly"');
    unregister();
    const del = await t.api.request('DELETE', `/api/v1/encryptionPasswords/${tagged.body.id}`, { token });
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect((await t.api.get(`/api/v1/encryptionPasswords/${tagged.body.id}`, { token })).status).toBe(404);
    expect((await t.api.get('/api/v1/encryptionPasswords/123', { token })).status).toBe(400);
  });

  it('Viewer reads, 403 on writes', async () => {
    await t.server.users.add('encviewer', 'Viewer', 'Viewer-Passw0rd');
    const viewer = (await t.api.login('encviewer', 'Viewer-Passw0rd')).access_token;
    const list = await t.api.get('/api/v1/encryptionPasswords', { token: viewer });
    expect(list.status).toBe(200);
    const id = list.body.data[0].id;
    expect(
      (await add({ password: 'p', hint: 'viewer' }).then(() => t.api.post('/api/v1/encryptionPasswords', { token: viewer, json: { password: 'p', hint: 'v2' } }))).status,
    ).toBe(403);
    expect((await t.api.request('PUT', `/api/v1/encryptionPasswords/${id}`, { token: viewer, json: list.body.data[0] })).status).toBe(403);
    expect((await t.api.request('DELETE', `/api/v1/encryptionPasswords/${id}`, { token: viewer })).status).toBe(403);
    expect((await t.api.post(`/api/v1/encryptionPasswords/${id}/changepassword`, { token: viewer, json: { password: 'p', hint: 'h' } })).status).toBe(403);
  });
});
