import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { makePfx } from './vault-fixtures.js';
import { startAzureStandIn, type AzureStandIn } from './azure-stand-in.js';

const CLIENT_ID = '0f1e2d3c-4b5a-4678-9abc-def012345678';
let t: TestServer;
let token: string;
let azure: AzureStandIn;
let pfx: string;
const PFX_PASSWORD = 'Pfx-Passw0rd!';

beforeAll(async () => {
  azure = await startAzureStandIn(CLIENT_ID);
  t = await startTestServer({ RAMPART_AZURE_AUTHORITY_URL: azure.url, RAMPART_AZURE_GRAPH_URL: azure.url, RAMPART_AZURE_CLIENT_ID: CLIENT_ID });
  // Also no reply property outside Veeam's document (test/support/conformance.ts).
  t.api.strict = true;
  token = await t.adminToken();
  pfx = await makePfx(PFX_PASSWORD);
});
afterAll(async () => {
  await t.cleanup();
  await azure.close();
});

const add = (json: unknown, version?: string) => t.api.post('/api/v1/cloudCredentials', { token, json, version });
const secretsOf = (id: string) => t.server.vault.cloudCredentials.secretsFor(id);

describe('cloud credentials: add and read every type', () => {
  it('Amazon and Google: accessKey shown, secretKey sealed', async () => {
    const amazon = await add({ type: 'Amazon', accessKey: 'AKIAEXAMPLE0001', secretKey: 'aws/Secret+Key/0001', description: 'S3', tag: 'aws-1' });
    expect(amazon.status).toBe(201);
    expect(amazon.body).toEqual({ id: expect.any(String), type: 'Amazon', description: 'S3', tag: 'aws-1', accessKey: 'AKIAEXAMPLE0001' });
    expect(await secretsOf(amazon.body.id)).toEqual({ secretKey: 'aws/Secret+Key/0001' });
    const google = await add({ type: 'Google', accessKey: 'GOOGHMAC0001', secretKey: 'google-hmac-secret-0001' }, '1.2-rev1');
    expect(google.status).toBe(201);
    expect(google.body).toMatchObject({ type: 'Google', accessKey: 'GOOGHMAC0001', description: '', uniqueId: '' });
    expect(google.body).not.toHaveProperty('tag');
    expect((await t.api.get(`/api/v1/cloudCredentials/${google.body.id}`, { token, version: '1.2-rev1' })).body).toEqual(google.body);
  });

  it('AzureStorage: account shown, sharedKey sealed', async () => {
    const res = await add({ type: 'AzureStorage', account: 'contosostore', sharedKey: '0sF53pZ/c8cVk+sEMby1lGZzA4SJez==', uniqueId: 'az-st' }, '1.2-rev1');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), type: 'AzureStorage', description: '', uniqueId: 'az-st', account: 'contosostore' });
    expect(await secretsOf(res.body.id)).toEqual({ sharedKey: '0sF53pZ/c8cVk+sEMby1lGZzA4SJez==' });
  });

  it('AzureCompute, existing application with a client secret: the model never carries it', async () => {
    const res = await add({
      type: 'AzureCompute',
      connectionName: 'Azure prod',
      creationMode: 'ExistingAccount',
      existingAccount: {
        deployment: { deploymentType: 'MicrosoftAzure', region: 'Global' },
        subscription: { tenantId: 'tenant-1', applicationId: 'app-1', secret: 'Client~Secret~0001' },
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      type: 'AzureCompute',
      description: '',
      tag: '',
      connectionName: 'Azure prod',
      deployment: { deploymentType: 'MicrosoftAzure', region: 'Global' },
      subscription: { tenantId: 'tenant-1', applicationId: 'app-1', subscriptions: [] },
    });
    expect(await secretsOf(res.body.id)).toEqual({ secret: 'Client~Secret~0001' });
  });

  it('AzureCompute, existing application with a certificate: the PFX is opened on the way in', async () => {
    const res = await add({
      type: 'AzureCompute',
      connectionName: 'Azure cert',
      creationMode: 'ExistingAccount',
      existingAccount: {
        deployment: { deploymentType: 'MicrosoftAzureStack' },
        subscription: { tenantId: 'tenant-2', applicationId: 'app-2', certificate: { certificate: pfx, formatType: 'pfx', password: PFX_PASSWORD } },
      },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.deployment).toEqual({ deploymentType: 'MicrosoftAzureStack' });
    expect(res.text).not.toContain(pfx.slice(0, 40));
    expect(await secretsOf(res.body.id)).toEqual({ certificate: pfx, certificatePassword: PFX_PASSWORD });
  });

  it.each([
    ['unknown type', { type: 'Oracle' }, /must be one of: AzureStorage, AzureCompute, Amazon, Google/],
    ['Amazon without accessKey', { type: 'Amazon', secretKey: 's' }, /"accessKey"/],
    ['Amazon without secretKey', { type: 'Amazon', accessKey: 'a' }, /"secretKey"/],
    ['Google without secretKey', { type: 'Google', accessKey: 'a' }, /"secretKey"/],
    ['AzureStorage without sharedKey', { type: 'AzureStorage', account: 'a' }, /"sharedKey"/],
    ['AzureStorage without account', { type: 'AzureStorage', sharedKey: 'k' }, /"account"/],
    ['AzureCompute without connectionName', { type: 'AzureCompute', creationMode: 'ExistingAccount' }, /"connectionName"/],
    ['AzureCompute without creationMode', { type: 'AzureCompute', connectionName: 'c' }, /"creationMode"/],
    ['bad creationMode', { type: 'AzureCompute', connectionName: 'c', creationMode: 'Magic' }, /NewAccount, ExistingAccount/],
    ['ExistingAccount without existingAccount', { type: 'AzureCompute', connectionName: 'c', creationMode: 'ExistingAccount' }, /"existingAccount"/],
    ['NewAccount without newAccount', { type: 'AzureCompute', connectionName: 'c', creationMode: 'NewAccount' }, /"newAccount"/],
    [
      'neither secret nor certificate',
      {
        type: 'AzureCompute',
        connectionName: 'c',
        creationMode: 'ExistingAccount',
        existingAccount: { deployment: { deploymentType: 'MicrosoftAzure' }, subscription: { tenantId: 't', applicationId: 'a' } },
      },
      /secret" or .*certificate"/,
    ],
    [
      'wrong PFX password',
      {
        type: 'AzureCompute',
        connectionName: 'c',
        creationMode: 'ExistingAccount',
        existingAccount: {
          deployment: { deploymentType: 'MicrosoftAzure' },
          subscription: { tenantId: 't', applicationId: 'a', certificate: { certificate: 'PFX', formatType: 'pfx', password: 'wrong-pfx-password' } },
        },
      },
      /certificate password is wrong/,
    ],
    [
      'not a PFX',
      {
        type: 'AzureCompute',
        connectionName: 'c',
        creationMode: 'ExistingAccount',
        existingAccount: {
          deployment: { deploymentType: 'MicrosoftAzure' },
          subscription: { tenantId: 't', applicationId: 'a', certificate: { certificate: Buffer.from('hello, not a pfx').toString('base64'), formatType: 'pfx' } },
        },
      },
      /not a PKCS#12/,
    ],
  ])('400 for %s', async (_label, body, message) => {
    const json = JSON.parse(JSON.stringify(body).replace('"PFX"', JSON.stringify(pfx)));
    const res = await add(json);
    expect(res.status, res.text).toBe(400);
    expect(res.body.message).toMatch(message);
    expect(res.text).not.toContain('wrong-pfx-password');
  });

  it('refuses duplicates: same uniqueId, or same type and name without one', async () => {
    expect((await add({ type: 'Amazon', accessKey: 'AKIADUP', secretKey: 's1' })).status).toBe(201);
    const dup = await add({ type: 'Amazon', accessKey: 'akiadup', secretKey: 's2' });
    expect(dup.status).toBe(400);
    expect(dup.body.message).toMatch(/accessKey "akiadup" and no uniqueId/);
    expect((await add({ type: 'Google', accessKey: 'AKIADUP', secretKey: 's2' })).status).toBe(201);
    expect((await add({ type: 'Amazon', accessKey: 'AKIADUP', secretKey: 's2', tag: 'second-account' })).status).toBe(201);
    expect((await add({ type: 'AzureStorage', account: 'x', sharedKey: 'k', tag: 'SECOND-ACCOUNT' })).status).toBe(400);
  });
});

describe('cloud credentials: list, edit, change secrets, remove', () => {
  it('lists with typeFilter, Name order and nameFilter', async () => {
    const amazon = await t.api.get('/api/v1/cloudCredentials?typeFilter=Amazon&orderColumn=Name', { token });
    expect(amazon.status).toBe(200);
    expect(amazon.body.data.length).toBeGreaterThan(0);
    expect(amazon.body.data.every((c: any) => c.type === 'Amazon')).toBe(true);
    const names = amazon.body.data.map((c: any) => c.accessKey.toLowerCase());
    expect(names).toEqual([...names].sort());
    // Case-insensitive path as one widely used module sends it.
    const filtered = await t.api.get('/api/v1/cloudcredentials?nameFilter=contoso*', { token });
    expect(filtered.body.data.map((c: any) => c.account)).toEqual(['contosostore']);
    expect((await t.api.get('/api/v1/cloudCredentials?typeFilter=Oracle', { token })).status).toBe(400);
    const desc = await t.api.get('/api/v1/cloudCredentials?orderColumn=Description&orderAsc=false&limit=2', { token });
    expect(desc.body.pagination).toMatchObject({ count: 2, limit: 2, skip: 0 });
  });

  it('PUT edits non-secret fields only', async () => {
    const created = await add({
      type: 'AzureCompute',
      connectionName: 'to-edit',
      creationMode: 'ExistingAccount',
      existingAccount: { deployment: { deploymentType: 'MicrosoftAzure' }, subscription: { tenantId: 't', applicationId: 'a', secret: 'Keep~This~Secret' } },
    });
    const id = created.body.id;
    const put = await t.api.request('PUT', `/api/v1/cloudCredentials/${id}`, {
      token,
      json: {
        ...created.body,
        connectionName: 'edited',
        description: 'd',
        uniqueId: 'az-edited',
        deployment: { deploymentType: 'MicrosoftAzure', region: 'Government' },
        subscription: { tenantId: 't2', applicationId: 'a2', secret: 'ignored' },
      },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({
      connectionName: 'edited',
      description: 'd',
      tag: 'az-edited',
      deployment: { region: 'Government' },
      subscription: { tenantId: 't2', applicationId: 'a2' },
    });
    expect(put.body.subscription).not.toHaveProperty('secret');
    expect(await secretsOf(id)).toEqual({ secret: 'Keep~This~Secret' });
    expect((await t.api.request('PUT', `/api/v1/cloudCredentials/${id}`, { token, json: { ...put.body, type: 'Amazon' } })).status).toBe(400);
  });

  it('changeSecretKey answers 201 with the model, for each type', async () => {
    const amazon = await add({ type: 'Amazon', accessKey: 'AKIACHANGE', secretKey: 'old-secret' });
    const res = await t.api.post(`/api/v1/cloudCredentials/${amazon.body.id}/changeSecretKey`, { token, json: { newSecretKey: 'new-secret-key' } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual(amazon.body);
    expect(await secretsOf(amazon.body.id)).toEqual({ secretKey: 'new-secret-key' });
    const storage = await add({ type: 'AzureStorage', account: 'changer', sharedKey: 'old-shared' });
    expect((await t.api.post(`/api/v1/cloudCredentials/${storage.body.id}/changeSecretKey`, { token, json: { newSecretKey: 'new-shared' } })).status).toBe(201);
    expect(await secretsOf(storage.body.id)).toEqual({ sharedKey: 'new-shared' });
    expect((await t.api.post(`/api/v1/cloudCredentials/${storage.body.id}/changeSecretKey`, { token, json: {} })).status).toBe(400);
  });

  it('changeCertificate opens the PFX, answers 201 with the model, and replaces a client secret', async () => {
    const created = await add({
      type: 'AzureCompute',
      connectionName: 'cert-change',
      creationMode: 'ExistingAccount',
      existingAccount: { deployment: { deploymentType: 'MicrosoftAzure' }, subscription: { tenantId: 't', applicationId: 'a', secret: 'Before~Cert' } },
    });
    const id = created.body.id;
    const wrong = await t.api.post(`/api/v1/cloudCredentials/${id}/changeCertificate`, { token, json: { certificate: pfx, formatType: 'pfx', password: 'not-the-password' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toMatch(/password is wrong/);
    expect((await t.api.post(`/api/v1/cloudCredentials/${id}/changeCertificate`, { token, json: { certificate: 'bm90IGEgcGZ4', formatType: 'pfx' } })).body.message).toMatch(
      /not a PKCS#12/,
    );
    expect((await t.api.post(`/api/v1/cloudCredentials/${id}/changeCertificate`, { token, json: { certificate: pfx, formatType: 'pem' } })).body.message).toMatch(
      /must be one of: pfx/,
    );
    const res = await t.api.post(`/api/v1/cloudCredentials/${id}/changeCertificate`, { token, json: { certificate: pfx, formatType: 'pfx', password: PFX_PASSWORD } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual(created.body);
    expect(await secretsOf(id)).toEqual({ certificate: pfx, certificatePassword: PFX_PASSWORD });
    // And back to a client secret: the certificate goes.
    expect((await t.api.post(`/api/v1/cloudCredentials/${id}/changeSecretKey`, { token, json: { newSecretKey: 'After~Cert' } })).status).toBe(201);
    expect(await secretsOf(id)).toEqual({ secret: 'After~Cert' });
    const amazon = await add({ type: 'Amazon', accessKey: 'AKIANOCERT', secretKey: 's' });
    expect(
      (await t.api.post(`/api/v1/cloudCredentials/${amazon.body.id}/changeCertificate`, { token, json: { certificate: pfx, formatType: 'pfx', password: PFX_PASSWORD } })).body
        .message,
    ).toMatch(/only AzureCompute/);
  });

  it('removes with 204; refuses while in use, naming the user', async () => {
    const created = await add({ type: 'Google', accessKey: 'GOOGREMOVE', secretKey: 's' });
    const unregister = t.server.vault.references.register('cloudCredentials', async (_db, target) =>
      target === created.body.id ? [{ kind: 'repository', id: 'r-1', name: 'Google bucket repo' }] : [],
    );
    const refused = await t.api.request('DELETE', `/api/v1/cloudCredentials/${created.body.id}`, { token });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('repository "Google bucket repo"');
    unregister();
    const del = await t.api.request('DELETE', `/api/v1/cloudCredentials/${created.body.id}`, { token });
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect((await t.api.get(`/api/v1/cloudCredentials/${created.body.id}`, { token })).status).toBe(404);
    expect((await t.api.get('/api/v1/cloudCredentials/nope', { token })).status).toBe(400);
  });

  it('Viewer reads but gets 403 on every write', async () => {
    await t.server.users.add('cloudviewer', 'Viewer', 'Viewer-Passw0rd');
    const viewer = (await t.api.login('cloudviewer', 'Viewer-Passw0rd')).access_token;
    const list = await t.api.get('/api/v1/cloudCredentials', { token: viewer });
    expect(list.status).toBe(200);
    expect(list.text).not.toMatch(/Secret|secret":"/);
    const id = list.body.data[0].id;
    for (const [method, path, json] of [
      ['POST', '/api/v1/cloudCredentials', { type: 'Amazon', accessKey: 'a', secretKey: 's' }],
      ['PUT', `/api/v1/cloudCredentials/${id}`, list.body.data[0]],
      ['DELETE', `/api/v1/cloudCredentials/${id}`, undefined],
      ['POST', `/api/v1/cloudCredentials/${id}/changeSecretKey`, { newSecretKey: 'x' }],
      ['POST', `/api/v1/cloudCredentials/${id}/changeCertificate`, { certificate: 'x', formatType: 'pfx' }],
      ['POST', '/api/v1/cloudCredentials/appRegistration', { type: 'AzureCompute', region: 'Global' }],
      ['POST', '/api/v1/cloudCredentials/appRegistration/RMP00001', undefined],
    ] as const) {
      expect((await t.api.request(method, path, { token: viewer, json })).status, `${method} ${path}`).toBe(403);
    }
  });
});

describe('Azure application registration (device code) against a stand-in', () => {
  it('gets a verification code, then registers an application and shows its secret once', async () => {
    const code = await t.api.post('/api/v1/cloudCredentials/appRegistration', { token, json: { type: 'AzureCompute', region: 'Global' } });
    expect(code.status).toBe(201);
    expect(code.body).toEqual({
      type: 'AzureCompute',
      url: 'https://microsoft.com/devicelogin',
      verificationCode: expect.stringMatching(/^RMP\d+$/),
      expirationTime: expect.stringMatching(/[+-]\d\d:\d\d$/),
    });
    expect(Date.parse(code.body.expirationTime) - Date.now()).toBeGreaterThan(14 * 60_000);
    const registered = await t.api.post(`/api/v1/cloudCredentials/appRegistration/${code.body.verificationCode}`, { token });
    expect(registered.status, registered.text).toBe(201);
    expect(registered.body).toEqual({ type: 'AzureCompute', applicationId: expect.any(String), secret: azure.issuedSecrets.at(-1), tenantId: azure.tenantId });
    const paths = azure.calls.map((c) => `${c.method} ${c.path}`);
    expect(paths).toEqual(
      expect.arrayContaining(['POST /organizations/oauth2/v2.0/devicecode', 'GET /v1.0/organization', 'POST /v1.0/applications', 'POST /v1.0/servicePrincipals']),
    );
    expect(paths.filter((p) => p === 'POST /organizations/oauth2/v2.0/token').length).toBeGreaterThanOrEqual(3);
    // The code is single-use.
    const again = await t.api.post(`/api/v1/cloudCredentials/appRegistration/${code.body.verificationCode}`, { token });
    expect(again.status).toBe(400);
    expect(again.body.message).toMatch(/unknown or expired/);
  });

  it('creates an AzureCompute record with creationMode NewAccount: the new secret is sealed, never shown', async () => {
    const code = await t.api.post('/api/v1/cloudCredentials/appRegistration', { token, json: { type: 'AzureCompute', region: 'Government' } });
    const res = await add({
      type: 'AzureCompute',
      connectionName: 'new app',
      creationMode: 'NewAccount',
      newAccount: { region: 'Government', verificationCode: code.body.verificationCode },
    });
    expect(res.status, res.text).toBe(201);
    const secret = azure.issuedSecrets.at(-1)!;
    expect(res.text).not.toContain(secret);
    expect(res.body).toMatchObject({
      connectionName: 'new app',
      deployment: { deploymentType: 'MicrosoftAzure', region: 'Government' },
      subscription: { tenantId: azure.tenantId },
    });
    expect(res.body.subscription).not.toHaveProperty('secret');
    expect(await secretsOf(res.body.id)).toEqual({ secret });
  });

  it('a declined sign-in or an unknown code is a 400 that says so; secrets never reach the log', async () => {
    const code = await t.api.post('/api/v1/cloudCredentials/appRegistration', { token, json: { type: 'AzureCompute', region: 'Global' } });
    azure.declined.add(code.body.verificationCode);
    const res = await t.api.post(`/api/v1/cloudCredentials/appRegistration/${code.body.verificationCode}`, { token });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/declined/);
    expect((await t.api.post('/api/v1/cloudCredentials/appRegistration/NOSUCHCODE', { token })).body.message).toMatch(/unknown or expired/);
    expect((await t.api.post('/api/v1/cloudCredentials/appRegistration', { token, json: { type: 'Amazon', region: 'Global' } })).status).toBe(400);
    expect((await t.api.post('/api/v1/cloudCredentials/appRegistration', { token, json: { type: 'AzureCompute', region: 'Mars' } })).body.message).toMatch(
      /China, Germany, Global, Government/,
    );
    const log = t.logText();
    for (const secret of azure.issuedSecrets) expect(log).not.toContain(secret);
    for (const call of azure.calls) if (call.body.device_code) expect(log).not.toContain(String(call.body.device_code));
  });
});
