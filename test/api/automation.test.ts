import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { makePfx, makeSshKeys, type SshKeys } from './vault-fixtures.js';
import { exportFrom, finished, importInto } from './automation-support.js';

const SECRETS = ['Std-Secret-1', 'Lx-Secret-1', 'Root-Secret-1', 'AKIA-SECRET-1', 'Shared-Key-1', 'Client-Secret-1', 'Enc-Secret-1', 'Pfx-Pass-1'];
const PASSPHRASE = 'correct horse battery staple';

/** A configuration with every kind that exists and several types of each. */
async function buildConfiguration(t: TestServer, token: string, keys: SshKeys, pfx: string) {
  const post = async (path: string, json: unknown) => {
    const res = await t.api.post(path, { token, json });
    expect(res.status, res.text).toBe(201);
    return res.body;
  };
  await post('/api/v1/credentials', { type: 'Standard', username: 'CORP\\backup', password: 'Std-Secret-1', description: 'Domain account', tag: 'std-1' });
  await post('/api/v1/credentials', {
    type: 'Linux',
    username: 'root',
    password: 'Lx-Secret-1',
    tag: 'lx-1',
    SSHPort: 2222,
    autoElevated: true,
    addToSudoers: true,
    rootPassword: 'Root-Secret-1',
  });
  await post('/api/v1/credentials', { type: 'Linux', username: 'keyuser', privateKey: keys.opensshEncrypted, passphrase: keys.passphrase, description: 'key' });
  await post('/api/v1/cloudCredentials', { type: 'Amazon', accessKey: 'AKIAEXAMPLE1', secretKey: 'AKIA-SECRET-1', description: 'aws', tag: 'aws-1' });
  await post('/api/v1/cloudCredentials', { type: 'AzureStorage', account: 'storeacct', sharedKey: 'Shared-Key-1' });
  await post('/api/v1/cloudCredentials', {
    type: 'AzureCompute',
    connectionName: 'azure-app',
    creationMode: 'ExistingAccount',
    existingAccount: {
      deployment: { deploymentType: 'MicrosoftAzure', region: 'Global' },
      subscription: { tenantId: 'tenant-1', applicationId: 'app-1', secret: 'Client-Secret-1' },
    },
  });
  await post('/api/v1/cloudCredentials', {
    type: 'AzureCompute',
    connectionName: 'azure-cert',
    creationMode: 'ExistingAccount',
    existingAccount: {
      deployment: { deploymentType: 'MicrosoftAzureStack' },
      subscription: { tenantId: 'tenant-2', applicationId: 'app-2', certificate: { certificate: pfx, formatType: 'pfx', password: 'Pfx-Pass-1' } },
    },
  });
  await post('/api/v1/encryptionPasswords', { password: 'Enc-Secret-1', hint: 'vault hint', tag: 'enc-1' });
}

const KINDS = ['credentials', 'encryptionPasswords', 'cloudcredentials'] as const;

describe('automation export/import', () => {
  let a: TestServer;
  let b: TestServer;
  let tokenA: string;
  let tokenB: string;
  let keys: SshKeys;
  let pfx: string;
  const exported: Record<string, any> = {};

  beforeAll(async () => {
    [a, b, keys, pfx] = await Promise.all([startTestServer(), startTestServer(), makeSshKeys(), makePfx('Pfx-Pass-1')]);
    [tokenA, tokenB] = await Promise.all([a.adminToken(), b.adminToken()]);
    await buildConfiguration(a, tokenA, keys, pfx);
  });
  afterAll(async () => {
    await Promise.all([a?.cleanup(), b?.cleanup()]);
  });

  it('exports every kind in the documented shapes: no ids, every secret empty, both spellings', async () => {
    for (const kind of KINDS) exported[kind] = await exportFrom(a, tokenA, kind);
    const text = JSON.stringify(exported);
    for (const s of SECRETS) expect(text).not.toContain(s);
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toMatch(/"id"/);
    expect(exported.credentials.credentials).toHaveLength(3);
    expect(exported.credentials.credentials).toContainEqual({
      username: 'root',
      password: '',
      description: '',
      tag: 'lx-1',
      uniqueId: 'lx-1',
      type: 'Linux',
      linuxAdditionalSettings: { SSHPort: 2222, autoElevated: true, elevateToRoot: true, addToSudoers: true, useSu: false, privateKey: '', passphrase: '', rootPassword: '' },
    });
    expect(exported.cloudcredentials.amazon).toEqual([{ type: 'Amazon', description: 'aws', tag: 'aws-1', uniqueId: 'aws-1', accessKey: 'AKIAEXAMPLE1', secretKey: '' }]);
    expect(exported.cloudcredentials.azureCompute).toHaveLength(2);
    expect(exported.cloudcredentials.azureCompute.find((c: any) => c.connectionName === 'azure-cert').existingAccount.subscription.certificate).toEqual({
      certificate: '',
      formatType: 'pfx',
      password: '',
    });
    expect(exported.encryptionPasswords).toEqual({ encryptionPasswords: [{ password: '', hint: 'vault hint', tag: 'enc-1', uniqueId: 'enc-1' }] });
  });

  it('applies the documented export filters', async () => {
    expect((await exportFrom(a, tokenA, 'credentials', { types: ['Linux'] })).credentials.map((c: any) => c.username).sort()).toEqual(['keyuser', 'root']);
    expect((await exportFrom(a, tokenA, 'credentials', { names: ['CORP*'] })).credentials.map((c: any) => c.username)).toEqual(['CORP\\backup']);
    const list = await a.api.get('/api/v1/credentials?nameFilter=root', { token: tokenA });
    expect((await exportFrom(a, tokenA, 'credentials', { ids: [list.body.data[0].id] })).credentials.map((c: any) => c.username)).toEqual(['root']);
    expect((await exportFrom(a, tokenA, 'cloudcredentials', { types: ['Amazon'] })).azureCompute).toEqual([]);
    expect((await exportFrom(a, tokenA, 'cloudcredentials', { names: ['azure-*'] })).azureCompute).toHaveLength(2);
    expect((await exportFrom(a, tokenA, 'encryptionPasswords', { tags: ['ENC-1'] })).encryptionPasswords).toHaveLength(1);
    expect((await exportFrom(a, tokenA, 'encryptionPasswords', { hints: ['other'] })).encryptionPasswords).toHaveLength(0);
    expect((await exportFrom(a, tokenA, 'encryptionPasswords', { modificationTimeFrom: '2999-01-01T00:00:00Z' })).encryptionPasswords).toHaveLength(0);
    expect((await a.api.post('/api/v1/automation/credentials/export', { token: tokenA, json: { types: ['Windows'] } })).status).toBe(400);
  });

  it('round trip: imports into a fresh server with warnings for the empty secrets; exporting again gives the same collections', async () => {
    for (const kind of KINDS) {
      const { session, log } = await importInto(b, tokenB, kind, structuredClone(exported[kind]));
      expect(session).toMatchObject({ sessionType: 'Automation', state: 'Stopped', result: { result: 'Warning' } });
      expect(log.some((r) => r.status === 'Warning' && /without its (password|secret)/.test(r.title))).toBe(true);
      expect(log.filter((r) => r.title.startsWith('Created')).length).toBeGreaterThan(0);
    }
    for (const kind of KINDS) expect(await exportFrom(b, tokenB, kind)).toEqual(exported[kind]);
    const sessions = await b.api.get('/api/v1/automation/sessions', { token: tokenB });
    expect(sessions.body.pagination.total).toBe(3);
    expect((await b.api.get('/api/v1/sessions', { token: tokenB })).body.data.every((s: any) => s.sessionType !== 'Automation')).toBe(true);
  });

  it('sealed round trip restores every secret on the second server; the file holds none in clear', async () => {
    const c = await startTestServer();
    try {
      const tokenC = await c.adminToken();
      const headers = { 'x-rampart-seal-passphrase': PASSPHRASE };
      const sealed: Record<string, any> = {};
      for (const kind of KINDS) sealed[kind] = await exportFrom(a, tokenA, kind, {}, '?seal=true', headers);
      const text = JSON.stringify(sealed);
      for (const s of [...SECRETS, PASSPHRASE, keys.passphrase]) expect(text).not.toContain(s);
      expect(sealed.credentials.rampartSeal).toMatchObject({ format: 'rampart-sealed-export-v1', cipher: 'aes-256-gcm', kdf: { algorithm: 'argon2id', memoryKiB: 65536 } });

      // Wrong passphrase: 400, nothing imported, no session.
      const wrong = await c.api.post('/api/v1/automation/credentials/import', { token: tokenC, json: sealed.credentials, headers: { 'x-rampart-seal-passphrase': 'wrong' } });
      expect(wrong.status).toBe(400);
      expect(wrong.body.message).toMatch(/passphrase does not open/);
      expect((await c.api.post('/api/v1/automation/credentials/import', { token: tokenC, json: sealed.credentials })).status).toBe(400);
      expect((await c.api.get('/api/v1/credentials', { token: tokenC })).body.pagination.total).toBe(0);
      expect((await c.api.get('/api/v1/automation/sessions', { token: tokenC })).body.pagination.total).toBe(0);

      // A secret moved to another record does not open.
      const moved = structuredClone(sealed.credentials);
      const ptrs = Object.keys(moved.rampartSeal.secrets).filter((p) => p.endsWith('/password'));
      [moved.rampartSeal.secrets[ptrs[0]!], moved.rampartSeal.secrets[ptrs[1]!]] = [moved.rampartSeal.secrets[ptrs[1]!], moved.rampartSeal.secrets[ptrs[0]!]];
      expect((await c.api.post('/api/v1/automation/credentials/import', { token: tokenC, json: moved, headers })).status).toBe(400);

      for (const kind of KINDS) {
        const { session, log } = await importInto(c, tokenC, kind, sealed[kind], '', headers);
        expect(session.result.result, JSON.stringify(log)).toBe('Success');
      }
      const creds = (await c.api.get('/api/v1/credentials', { token: tokenC })).body.data;
      const byName = Object.fromEntries(creds.map((x: any) => [x.username, x.id]));
      expect(await c.server.vault.credentials.secretsFor(byName.root)).toEqual({ password: 'Lx-Secret-1', rootPassword: 'Root-Secret-1' });
      expect(await c.server.vault.credentials.secretsFor(byName['CORP\\backup'])).toEqual({ password: 'Std-Secret-1' });
      expect(await c.server.vault.credentials.secretsFor(byName.keyuser)).toEqual({ privateKey: keys.opensshEncrypted, passphrase: keys.passphrase });
      const cloud = (await c.api.get('/api/v1/cloudCredentials', { token: tokenC })).body.data;
      const cloudBy = Object.fromEntries(cloud.map((x: any) => [x.accessKey ?? x.account ?? x.connectionName, x.id]));
      expect(await c.server.vault.cloudCredentials.secretsFor(cloudBy.AKIAEXAMPLE1)).toEqual({ secretKey: 'AKIA-SECRET-1' });
      expect(await c.server.vault.cloudCredentials.secretsFor(cloudBy.storeacct)).toEqual({ sharedKey: 'Shared-Key-1' });
      expect(await c.server.vault.cloudCredentials.secretsFor(cloudBy['azure-app'])).toEqual({ secret: 'Client-Secret-1' });
      expect(await c.server.vault.cloudCredentials.secretsFor(cloudBy['azure-cert'])).toEqual({ certificate: pfx.replace(/\s+/g, ''), certificatePassword: 'Pfx-Pass-1' });
      const enc = (await c.api.get('/api/v1/encryptionPasswords', { token: tokenC })).body.data[0];
      expect(await c.server.vault.encryptionPasswords.verify(enc.id, 'Enc-Secret-1')).toBe(true);
      expect(await c.server.vault.encryptionPasswords.passwordFor(enc.id)).toBe('Enc-Secret-1');
      // Nothing secret in the session logs or the server log.
      for (const id of (await c.api.get('/api/v1/automation/sessions', { token: tokenC })).body.data.map((s: any) => s.id)) {
        const logs = await c.api.get(`/api/v1/automation/sessions/${id}/logs`, { token: tokenC });
        for (const s of [...SECRETS, PASSPHRASE]) expect(logs.text).not.toContain(s);
      }
      for (const s of [...SECRETS, PASSPHRASE]) expect(c.logText()).not.toContain(s);
    } finally {
      await c.cleanup();
    }
  });

  it('conflicts: skip (default) leaves the object alone, overwrite replaces it, fail imports nothing', async () => {
    const changed = structuredClone(exported.credentials);
    changed.credentials.find((x: any) => x.tag === 'std-1').description = 'changed';
    changed.credentials.push({ username: 'newcomer', password: 'New-Secret-1', type: 'Standard', tag: 'new-1' });

    const failed = await importInto(b, tokenB, 'credentials', changed, '?onConflict=fail');
    expect(failed.session.result.result).toBe('Failed');
    expect(failed.log.filter((r) => r.status === 'Failed').length).toBe(3);
    expect((await exportFrom(b, tokenB, 'credentials', { names: ['newcomer'] })).credentials).toEqual([]);

    const dry = await importInto(b, tokenB, 'credentials', changed, '?onConflict=overwrite&dryRun=true');
    expect(dry.session.result.message).toMatch(/Dry run, nothing changed: would create 1, would overwrite 3, would skip 0/);
    expect(dry.log.some((r) => r.title === 'Would overwrite Standard credentials "CORP\\backup" (tag "std-1")')).toBe(true);
    expect((await exportFrom(b, tokenB, 'credentials', { names: ['newcomer'] })).credentials).toEqual([]);

    const skipped = await importInto(b, tokenB, 'credentials', changed);
    expect(skipped.session.result.message).toMatch(/created 1, overwrote 0, skipped 3/);
    expect(skipped.log.some((r) => r.title === 'Skipped Standard credentials "CORP\\backup" (tag "std-1"): it already exists')).toBe(true);
    const std = () => exportFrom(b, tokenB, 'credentials', { names: ['CORP*'] }).then((c) => c.credentials[0]);
    expect((await std()).description).toBe('Domain account');

    changed.credentials.find((x: any) => x.tag === 'std-1').password = 'Overwritten-1';
    const over = await importInto(b, tokenB, 'credentials', changed, '?onConflict=overwrite');
    // The newcomer came in with the skip import, so now all four exist.
    expect(over.session.result.message).toMatch(/created 0, overwrote 4, skipped 0/);
    expect((await std()).description).toBe('changed');
    const id = (await b.api.get('/api/v1/credentials?nameFilter=CORP*', { token: tokenB })).body.data[0].id;
    expect(await b.server.vault.credentials.secretsFor(id)).toEqual({ password: 'Overwritten-1' });
    expect((await b.api.post('/api/v1/automation/credentials/import?onConflict=merge', { token: tokenB, json: changed })).status).toBe(400);
  });

  it('a record its service refuses is logged Failed and the others of its batch land whole', async () => {
    const credentials = [
      { username: 'batch-ok-1', password: 'pw', type: 'Standard', tag: 'batch-1' },
      { username: 'batch-bad', type: 'Linux', tag: 'batch-bad', linuxAdditionalSettings: { privateKey: 'not a key' } },
      { username: 'batch-ok-2', password: 'pw', type: 'Standard', tag: 'batch-2' },
    ];
    const { session, log } = await importInto(b, tokenB, 'credentials', { credentials });
    expect(session.result.result).toBe('Warning');
    expect(session.result.message).toMatch(/created 2, .* 1 failed/);
    expect(log.find((r) => r.status === 'Failed')).toMatchObject({ title: 'Could not import Linux credentials "batch-bad" (tag "batch-bad")' });
    const names = (await exportFrom(b, tokenB, 'credentials', { names: ['batch-*'] })).credentials.map((c: any) => c.username).sort();
    expect(names).toEqual(['batch-ok-1', 'batch-ok-2']);
  });

  it('malformed collections are a 400 before anything is touched', async () => {
    const before = (await b.api.get('/api/v1/automation/sessions', { token: tokenB })).body.pagination.total;
    const good = { username: 'fresh', password: 'x', type: 'Standard', tag: 'fresh' };
    const bad: [string, unknown][] = [
      ['credentials', { credentials: [good, { ...good, tag: 'other', type: 'Windows' }] }],
      ['credentials', { credentials: [good, { ...good, tag: 'other', surprise: 1 }] }],
      ['credentials', { credentials: good }],
      ['credentials', { creds: [good] }],
      ['credentials', [good]],
      ['credentials', { credentials: [{ ...good, linuxAdditionalSettings: { SSHPort: 'x' } }] }],
      ['cloudcredentials', { amazon: [{ type: 'Google', accessKey: 'a', secretKey: '' }] }],
      ['encryptionPasswords', { encryptionPasswords: [{ password: '', tag: 'x' }] }],
    ];
    for (const [kind, body] of bad) {
      const res = await b.api.post(`/api/v1/automation/${kind}/import`, { token: tokenB, json: body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toMatchObject({ errorCode: 'UnexpectedContent', message: expect.any(String) });
    }
    expect((await b.api.get('/api/v1/automation/sessions', { token: tokenB })).body.pagination.total).toBe(before);
    expect((await exportFrom(b, tokenB, 'credentials', { names: ['fresh'] })).credentials).toEqual([]);
  });

  it('needs an administrator', async () => {
    await b.server.users.add('viewer1', 'Viewer', 'Viewer-Passw0rd!');
    const viewer = (await b.api.login('viewer1', 'Viewer-Passw0rd!')).access_token;
    expect((await b.api.post('/api/v1/automation/credentials/export', { token: viewer, json: {} })).status).toBe(403);
    expect((await b.api.post('/api/v1/automation/credentials/import', { token: viewer, json: { credentials: [] } })).status).toBe(403);
    expect((await b.api.get('/api/v1/automation/sessions', { token: viewer })).status).toBe(200);
  });
});

describe('automation limits and stop', () => {
  let t: TestServer;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer({ RAMPART_IMPORT_BODY_LIMIT_BYTES: '200000' });
    token = await t.adminToken();
  });
  afterAll(() => t.cleanup());

  it('a body over the configured import limit is a 413 with the error model', async () => {
    const credentials = Array.from({ length: 3000 }, (_, i) => ({ username: `user-${i}`, password: 'p'.repeat(50), type: 'Standard', tag: `t-${i}` }));
    const res = await t.api.post('/api/v1/automation/credentials/import', { token, json: { credentials }, undocumented: 'Veeam lists no 413' });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ errorCode: 'UnexpectedContent', message: 'The request body is larger than the server accepts (200000 bytes).' });
  });

  it('stop in the middle: what was imported stays, the rest is listed in the log', async () => {
    // Encryption passwords are slow to import (each gets an argon2id verifier): the stop lands mid-way.
    const encryptionPasswords = Array.from({ length: 200 }, (_, i) => ({ password: 'pw', hint: `stop-${String(i).padStart(3, '0')}` }));
    const res = await t.api.post('/api/v1/automation/encryptionPasswords/import', { token, json: { encryptionPasswords } });
    expect(res.status).toBe(201);
    const count = async () => (await t.api.get('/api/v1/encryptionPasswords?limit=0', { token })).body.pagination.total as number;
    while ((await count()) < 5) await new Promise((r) => setTimeout(r, 10));
    expect((await t.api.post(`/api/v1/automation/sessions/${res.body.id}/stop`, { token })).status).toBe(200);
    const { session, log } = await finished(t, token, res.body.id);
    // Like every stopped session in Rampart: Failed and canceled, with who stopped it.
    expect(session.result).toMatchObject({ result: 'Failed', isCanceled: true, message: 'Stopped by administrator.' });
    const imported = await count();
    expect(imported).toBeGreaterThanOrEqual(5);
    expect(imported).toBeLessThan(200);
    expect(log.filter((r) => r.title.startsWith('Created')).length).toBe(imported);
    const stopped = log.find((r) => r.title.startsWith('Stopped:'))!;
    expect(stopped.title).toBe(`Stopped: ${200 - imported} object(s) were not imported`);
    expect(stopped.description.split('\n')).toHaveLength(200 - imported);
    expect(stopped.description).toContain('encryption password "stop-199" (/encryptionPasswords/199)');
  });

  it('an unresolvable section or empty collection is handled', async () => {
    const { session } = await importInto(t, token, 'credentials', { credentials: [] });
    expect(session.result.result).toBe('Success');
  });
});
