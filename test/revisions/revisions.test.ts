import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VBR_REVISIONS } from '../../src/http/api-version.js';
import { DOCUMENT_OF } from '../../src/revisions/documents.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * The breaks of issue 13, each through the HTTP API with the client revision that hit it.
 * Every reply here is also checked against Veeam's document of its revision by the test
 * client (test/support/conformance.ts).
 */
const REPOS = '/api/v1/backupInfrastructure/repositories';
const SOBRS = '/api/v1/backupInfrastructure/scaleOutRepositories';

let t: TestServer;
let token: string;
let root: string;
let backupServerId: string;

beforeAll(async () => {
  t = await startTestServer({ RAMPART_REPOSITORY_REFRESH_SECONDS: '0' });
  // Also no reply property outside Veeam's document (test/support/conformance.ts).
  t.api.strict = true;
  token = await t.adminToken();
  root = await mkdtemp(path.join(tmpdir(), 'rampart-revisions-'));
  backupServerId = (await t.server.store.db.selectFrom('settings').select('value').where('key', '=', 'backup_server_id').executeTakeFirstOrThrow()).value;
});
afterAll(async () => {
  await t.cleanup();
  await rm(root, { recursive: true, force: true });
});

/** Every path in `value` that holds null. */
function nullsIn(value: unknown, at = ''): string[] {
  if (value === null) return [at || '(root)'];
  if (Array.isArray(value)) return value.flatMap((v, i) => nullsIn(v, `${at}/${i}`));
  if (typeof value === 'object') return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => nullsIn(v, `${at}/${k}`));
  return [];
}

async function stopped(id: string, version?: string) {
  for (let i = 0; i < 400; i++) {
    const res = await t.api.get(`/api/v1/sessions/${id}`, { token, version });
    if (res.body.state === 'Stopped') return res.body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('session did not stop');
}

const mountServer = () => ({ mountServerId: backupServerId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false });
const linuxLocal = (name: string, repository: Record<string, unknown> = {}) => ({
  type: 'LinuxLocal',
  name,
  description: `${name} folder`,
  hostId: backupServerId,
  repository: { path: path.join(root, name), ...repository },
  mountServer: mountServer(),
});

async function addRepository(spec: unknown, version?: string) {
  const res = await t.api.post(REPOS, { token, json: spec, version });
  expect(res.status, res.text).toBe(201);
  const done = await stopped(res.body.id, version);
  expect(done.result.result, JSON.stringify(done)).toBe('Success');
  return { session: res.body, done, id: done.resourceId as string };
}

describe('1: an absent optional field is left out, never null', () => {
  it('sessions (Working and Success), Linux credentials, access permissions: no null for 1.2-rev1 and 1.3-rev2 clients', async () => {
    const linux = await t.api.post('/api/v1/credentials', { token, version: '1.2-rev1', json: { type: 'Linux', username: 'nulls', password: 'Nulls-Secret-1' } });
    expect(linux.status).toBe(201);
    expect(nullsIn(linux.body)).toEqual([]);
    expect(linux.body).not.toHaveProperty('privateKey');

    const added = await t.api.post(REPOS, { token, version: '1.2-rev1', json: linuxLocal('nulls') });
    expect(added.status).toBe(201);
    // The 201 carries the session while Working: no endTime, no result.
    expect(added.body.state).toBe('Working');
    expect(nullsIn(added.body)).toEqual([]);
    expect(added.body).not.toHaveProperty('endTime');
    expect(added.body).not.toHaveProperty('result');
    const done = await stopped(added.body.id, '1.3-rev2');
    expect(nullsIn(done)).toEqual([]);
    expect(done.result.result).toBe('Success');
    expect(done).not.toHaveProperty('parentSessionId');
    for (const version of ['1.2-rev1', '1.3-rev2']) {
      const list = await t.api.get('/api/v1/sessions', { token, version });
      expect(nullsIn(list.body)).toEqual([]);
    }
    // passwordId is absent while backups are not encrypted (1.1-rev0 model; 1.2 restructured it, see the README).
    const permissions = await t.api.get(`${REPOS}/${done.resourceId}/accessPermissions`, { token });
    expect(permissions.body).toEqual({ accessPolicy: 'AllowAll', accounts: [], encryptBackups: false });
  });
});

describe('2: the repositories export carries uniqueId and kind', () => {
  it("LinuxLocal items have tag and kind (1.1-rev0 import specs) or uniqueId (1.2 and later), each document's settings spelling", async () => {
    await addRepository({ ...linuxLocal('exported', { taskLimitEnabled: true, maxTaskCount: 2 }), tag: 'exp-1' });
    const v11 = await t.api.post('/api/v1/automation/repositories/export', { token, version: '1.1-rev0', json: { names: ['exported'] } });
    expect(v11.status).toBe(200);
    const [item11] = v11.body.LinuxLocalRepositories;
    expect(item11).toMatchObject({ name: 'exported', tag: 'exp-1', kind: 'LocalStorage', repository: { enableTaskLimit: true, maxTaskCount: 2 } });
    expect(item11).not.toHaveProperty('uniqueId');
    const v12 = await t.api.post('/api/v1/automation/repositories/export', { token, version: '1.2-rev1', json: { names: ['exported'] } });
    const [item12] = v12.body.LinuxLocalRepositories;
    expect(item12).toMatchObject({ name: 'exported', uniqueId: 'exp-1', repository: { taskLimitEnabled: true, maxTaskCount: 2 } });
    expect(item12).not.toHaveProperty('tag');
    expect(item12).not.toHaveProperty('kind');
    expect(item12.mountServer).toEqual({ mountServerName: expect.any(String), writeCacheFolder: '/var/cache', vPowerNFSEnabled: false });
  });

  it('import takes back what export writes, for every document (1.3: the mount server per OS)', async () => {
    await addRepository({ ...linuxLocal('round-trip', { taskLimitEnabled: true, maxTaskCount: 3 }), tag: 'rt-source' });
    const source = (await t.api.get(`${REPOS}?nameFilter=round-trip`, { token, version: '1.2-rev1' })).body.data[0];
    for (const version of ['1.1-rev0', '1.2-rev1', '1.3-rev0', '1.3-rev1', '1.3-rev2']) {
      const exported = await t.api.post('/api/v1/automation/repositories/export', { token, version, json: { names: ['round-trip'] } });
      expect(exported.status).toBe(200);
      const [item] = exported.body.LinuxLocalRepositories;
      if (version.startsWith('1.3')) {
        expect(item.mountServer).toEqual({
          mountServerSettingsType: version === '1.3-rev0' ? 'windows' : 'Windows',
          windows: { mountServerName: expect.any(String), writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
        });
      }
      // The same item under another name, folder and tag, imported under the revision it was exported in.
      const name = `round-trip-${version}`;
      const copy = { ...item, name, repository: { ...item.repository, path: path.join(root, name) }, ...(version === '1.1-rev0' ? { tag: name } : { uniqueId: name }) };
      const imported = await t.api.post('/api/v1/automation/repositories/import', { token, version, json: { LinuxLocalRepositories: [copy] } });
      expect(imported.status, imported.text).toBe(201);
      await t.server.runner.settled(imported.body.id);
      const session = await t.api.get(`/api/v1/automation/sessions/${imported.body.id}`, { token, version });
      expect(session.body.result.result, `${version}: ${JSON.stringify(session.body)}`).toBe('Success');
      const added = (await t.api.get(`${REPOS}?nameFilter=${name}`, { token, version: '1.2-rev1' })).body.data[0];
      expect(added, version).toMatchObject({
        type: 'LinuxLocal',
        uniqueId: name,
        hostId: source.hostId,
        mountServer: source.mountServer,
        repository: { path: path.join(root, name), taskLimitEnabled: true, maxTaskCount: 3 },
      });
    }
  });
});

describe('3: readWriteRate 0 means no limit', () => {
  it('a LinuxLocal repository with readWriteRate 0 is added; a negative rate is still a 400', async () => {
    const { id } = await addRepository(linuxLocal('unlimited', { readWriteRate: 0 }), '1.2-rev1');
    expect((await t.api.get(`${REPOS}/${id}`, { token, version: '1.2-rev1' })).body.repository.readWriteRate).toBe(0);
    const negative = await t.api.post(REPOS, { token, json: linuxLocal('negative', { readWriteRate: -1 }) });
    expect(negative.status).toBe(400);
    expect(negative.body.message).toMatch(/readWriteRate/);
  });
});

describe('4: Backup for AWS certificate dates', () => {
  it('GET /api/v1/settings/certificates sends validFrom/validBy as YYYY-MM-DDTHH:MM:SS (UTC)', async () => {
    const res = await t.api.get('/api/v1/settings/certificates', { token, version: '1.0-rev0' });
    expect(res.status).toBe(200);
    const [certificate] = res.body.data;
    expect(certificate.validFrom).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(certificate.validBy).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(new Date(`${certificate.validBy}Z`).getTime()).toBe(t.server.certificate.current.description.validBy.getTime());
  });
});

describe('5: several credentials records with one user name', () => {
  it('a second Linux "root" without a uniqueId is added; a taken uniqueId is still refused', async () => {
    const first = await t.api.post('/api/v1/credentials', { token, version: '1.2-rev1', json: { type: 'Linux', username: 'root', password: 'Root-1', description: 'web' } });
    const second = await t.api.post('/api/v1/credentials', { token, version: '1.2-rev1', json: { type: 'Linux', username: 'root', password: 'Root-2', description: 'db' } });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.id).not.toBe(first.body.id);
    const roots = await t.api.get('/api/v1/credentials?nameFilter=root', { token, version: '1.2-rev1' });
    expect(roots.body.data.map((c: { description: string }) => c.description).sort()).toEqual(['db', 'web']);
    await t.api.post('/api/v1/credentials', { token, version: '1.2-rev1', json: { type: 'Linux', username: 'root', password: 'x', uniqueId: 'root-tag' } });
    const taken = await t.api.post('/api/v1/credentials', { token, version: '1.2-rev1', json: { type: 'Linux', username: 'other', password: 'x', uniqueId: 'root-tag' } });
    expect(taken.status).toBe(400);
  });
});

describe('6: 1.3 shapes', () => {
  it('accepts 1.3-rev2; serverInfo has veeamRegistration and platform from 1.3, not before', async () => {
    const v13 = await t.api.get('/api/v1/serverInfo', { token, version: '1.3-rev2' });
    expect(v13.status).toBe(200);
    expect(v13.body).toMatchObject({ veeamRegistration: { isRegistered: false }, platform: 'Linux' });
    const v12 = await t.api.get('/api/v1/serverInfo', { token, version: '1.2-rev1' });
    expect(v12.body).not.toHaveProperty('veeamRegistration');
  });

  it('repository states: isOutOfDate from 1.3, isOnline from 1.2, neither in 1.1', async () => {
    const { id } = await addRepository(linuxLocal('stated'));
    const state = async (version: string) => (await t.api.get(`${REPOS}/states?idFilter=${id}`, { token, version })).body.data[0];
    expect(await state('1.3-rev1')).toMatchObject({ id, isOnline: true, isOutOfDate: false });
    const v12 = await state('1.2-rev1');
    expect(v12.isOnline).toBe(true);
    expect(v12).not.toHaveProperty('isOutOfDate');
    const v11 = await state('1.1-rev0');
    expect(v11).not.toHaveProperty('isOnline');
  });

  it('scale-out performance extents: status is a string until 1.2, an array from 1.3', async () => {
    const a = await addRepository(linuxLocal('extent-a'));
    const b = await addRepository(linuxLocal('extent-b'));
    const added = await t.api.post(SOBRS, { token, json: { name: 'sobr', description: '', performanceTier: { performanceExtents: [{ id: a.id }, { id: b.id }] } } });
    expect(added.status, added.text).toBe(201);
    const done = await stopped(added.body.id);
    expect(done.result.result).toBe('Success');
    const extents = async (version: string) => (await t.api.get(`${SOBRS}/${done.resourceId}`, { token, version })).body.performanceTier.performanceExtents;
    expect((await extents('1.2-rev1')).map((e: { status: unknown }) => e.status)).toEqual(['Normal', 'Normal']);
    expect((await extents('1.3-rev0')).map((e: { status: unknown }) => e.status)).toEqual([['Normal'], ['Normal']]);
    const list = await t.api.get(SOBRS, { token, version: '1.3-rev2' });
    expect(list.body.data[0].performanceTier.performanceExtents[0].status).toEqual(['Normal']);
  });

  it('changeSecretKey answers 201 until 1.2-rev1 and 200 from 1.3-rev0', async () => {
    const cloud = await t.api.post('/api/v1/cloudCredentials', { token, json: { type: 'Amazon', accessKey: 'AKIAREVISIONS01', secretKey: 'first/secret' } });
    expect(cloud.status).toBe(201);
    const change = (version: string) => t.api.post(`/api/v1/cloudCredentials/${cloud.body.id}/changeSecretKey`, { token, version, json: { newSecretKey: `secret-${version}` } });
    expect((await change('1.1-rev0')).status).toBe(201);
    expect((await change('1.2-rev1')).status).toBe(201);
    const v13 = await change('1.3-rev0');
    expect(v13.status).toBe(200);
    expect(v13.body).toMatchObject({ id: cloud.body.id, accessKey: 'AKIAREVISIONS01' });
    expect((await change('1.3-rev2')).status).toBe(200);
    expect(await t.server.vault.cloudCredentials.secretsFor(cloud.body.id)).toEqual({ secretKey: 'secret-1.3-rev2' });
  });

  it('GET /api/v1/backupInfrastructure/proxies/states is served (not read as an id)', async () => {
    const res = await t.api.get('/api/v1/backupInfrastructure/proxies/states', { token, version: '1.3-rev1' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ data: [], pagination: { total: 0, count: 0, skip: 0, limit: 200 } });
  });
});

describe('7: an OpenAPI document per accepted revision', () => {
  it('serves /swagger/v{revision}/swagger.json for every revision, describing the shapes served under it', async () => {
    for (const revision of VBR_REVISIONS) {
      const res = await t.api.get(`/swagger/v${revision}/swagger.json`, { version: null });
      expect(res.status, revision).toBe(200);
      expect(res.body.info.version).toBe(revision);
      expect(res.body.info.description).toContain(`Veeam's ${DOCUMENT_OF[revision]} document`);
    }
    const credentials = (doc: any) => doc.paths['/api/v1/credentials/{id}'].get.responses['200'].content['application/json'].schema.properties;
    const v11 = (await t.api.get('/swagger/v1.1-rev0/swagger.json', { version: null })).body;
    const v13 = (await t.api.get('/swagger/v1.3-rev1/swagger.json', { version: null })).body;
    expect(credentials(v11)).toHaveProperty('tag');
    expect(credentials(v11)).not.toHaveProperty('uniqueId');
    expect(credentials(v13)).toHaveProperty('uniqueId');
    expect(credentials(v13)).toHaveProperty('authenticationType');
    const secretKey = (doc: any) => Object.keys(doc.paths['/api/v1/cloudCredentials/{id}/changeSecretKey'].post.responses).filter((s) => s.startsWith('2'));
    expect(secretKey(v11)).toEqual(['201']);
    expect(secretKey(v13)).toEqual(['200']);
    const transport = (doc: any) =>
      doc.paths['/api/v1/backupInfrastructure/proxies/{id}'].get.responses['200'].content['application/json'].schema.properties.server.properties.transportMode.enum;
    expect(transport(v11)).toContain('auto');
    expect(transport(v13)).toEqual(['Auto', 'DirectAccess', 'VirtualAppliance', 'Network']);
    const jobState = (doc: any) => doc.paths['/api/v1/jobs/states'].get.responses['200'].content['application/json'].schema.properties.data.items.properties;
    expect(jobState(v11).status.enum).toEqual(['running', 'inactive', 'disabled']);
    expect(jobState(v11).type.enum).toEqual(['Backup']);
    expect(jobState(v11)).not.toHaveProperty('progressPercent');
    expect(jobState(v13).status.enum).toEqual(['Running', 'Inactive', 'Disabled']);
    expect(jobState(v13).type.enum).toEqual(['VSphereBackup']);
    expect(jobState(v13)).toHaveProperty('progressPercent');
  });
});
