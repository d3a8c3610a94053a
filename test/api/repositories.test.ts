import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createTestDatabase, postgresUrl } from '../support/postgres.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, startLocalS3, startSwitchableProxy, type LocalS3, type SwitchableProxy } from '../support/s3.js';

const dialects: [string, () => Promise<Record<string, string>>][] = [['sqlite', async () => ({})]];
if (postgresUrl) dialects.push(['postgres', async () => ({ DATABASE_URL: await createTestDatabase() })]);

const REPOS = '/api/v1/backupInfrastructure/repositories';
const SOBRS = '/api/v1/backupInfrastructure/scaleOutRepositories';
const UNKNOWN = '11111111-2222-4333-8444-555555555555';

describe.each(dialects)('repositories and scale-out repositories on %s', (_kind, env) => {
  let t: TestServer;
  let token: string;
  let root: string;
  let s3: LocalS3;
  let proxy: SwitchableProxy;
  let backupServerId: string;
  let cloudId: string;

  beforeAll(async () => {
    s3 = await startLocalS3(['capacity', 'plain']);
    await s3.putCapacityXml('capacity', { capacity: 8 * 1024 ** 4, available: 3 * 1024 ** 4, used: 5 * 1024 ** 4 });
    proxy = await startSwitchableProxy(s3.port);
    t = await startTestServer({ ...(await env()), RAMPART_REPOSITORY_REFRESH_SECONDS: '0', RAMPART_REPOSITORY_TIMEOUT_MS: '1500' });
    // Also no reply property outside Veeam's document (test/support/conformance.ts).
    t.api.strict = true;
    token = await t.adminToken();
    root = await mkdtemp(path.join(tmpdir(), 'rampart-repos-'));
    backupServerId = (await t.server.store.db.selectFrom('settings').select('value').where('key', '=', 'backup_server_id').executeTakeFirstOrThrow()).value;
    const cloud = await t.api.post('/api/v1/cloudCredentials', { token, json: { type: 'Amazon', accessKey: S3_ACCESS_KEY, secretKey: S3_SECRET_KEY, description: 'local s3' } });
    expect(cloud.status).toBe(201);
    cloudId = cloud.body.id;
  });
  afterAll(async () => {
    await t.cleanup();
    await proxy.stop();
    await s3.stop();
    await rm(root, { recursive: true, force: true });
  });

  async function waitStopped(id: string) {
    for (let i = 0; i < 300; i++) {
      const res = await t.api.get(`/api/v1/sessions/${id}`, { token });
      if (res.body.state === 'Stopped') return res.body;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('session did not stop');
  }
  async function logsOf(id: string): Promise<string> {
    const res = await t.api.get(`/api/v1/sessions/${id}/logs`, { token });
    return res.body.records.map((r: { title: string; description: string; status: string }) => `${r.status} ${r.title} ${r.description}`).join('\n');
  }
  const mountServer = () => ({ mountServerId: backupServerId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false });
  const linuxLocal = (name: string, folder: string, extra: Record<string, unknown> = {}) => ({
    type: 'LinuxLocal',
    name,
    description: `${name} repo`,
    hostId: backupServerId,
    repository: { path: folder, taskLimitEnabled: true, maxTaskCount: 4, ...extra },
    mountServer: mountServer(),
  });
  const s3Spec = (name: string, bucket: string, servicePoint = s3.endpoint, bucketExtra: Record<string, unknown> = {}) => ({
    type: 'S3Compatible',
    name,
    description: 'object',
    account: { servicePoint, regionId: 'us-east-1', credentialsId: cloudId, connectionSettings: { connectionType: 'Direct' } },
    bucket: { bucketName: bucket, folderName: 'veeam', ...bucketExtra },
    mountServer: mountServer(),
  });
  async function add(spec: unknown) {
    const res = await t.api.post(REPOS, { token, json: spec });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ sessionType: 'Infrastructure', state: 'Working', name: 'Infrastructure Item Saving' });
    return { session: await waitStopped(res.body.id), id: res.body.resourceId as string };
  }

  it("adds a LinuxLocal repository on the backup server: folder created, probed, measured; each document's spellings, and kind in 1.1-rev0", async () => {
    const folder = path.join(root, 'local-1');
    const { session, id } = await add(linuxLocal('Local 1', folder));
    expect(session.result.result).toBe('Success');
    const logs = await logsOf(session.id);
    expect(logs).toMatch(/created/);
    expect(logs).toMatch(/Wrote, read back and deleted a probe file/);
    expect(await readdir(folder)).toEqual([]);
    const got = await t.api.get(`${REPOS}/${id}`, { token });
    expect(got.body).toMatchObject({
      id,
      type: 'LinuxLocal',
      kind: 'LocalStorage',
      hostId: backupServerId,
      repository: { path: folder, enableTaskLimit: true, maxTaskCount: 4 },
    });
    expect(got.body.repository).not.toHaveProperty('taskLimitEnabled');
    const v12 = await t.api.get(`${REPOS}/${id}`, { token, version: '1.2-rev1' });
    expect(v12.body).toMatchObject({ id, repository: { path: folder, taskLimitEnabled: true, maxTaskCount: 4 } });
    expect(v12.body).not.toHaveProperty('kind');
    expect(v12.body.repository).not.toHaveProperty('enableTaskLimit');
    const states = await t.api.get(`${REPOS}/states?idFilter=${id}`, { token, version: '1.2-rev1', headers: { 'x-rampart-extras': 'true' } });
    expect(states.body.data[0]).toMatchObject({ id, capacityGB: expect.any(Number), isOnline: true, capacitySource: 'filesystem', path: folder });
    // Rampart's own fields only for clients that ask (strict generated clients refuse unknown fields).
    const plain = await t.api.get(`${REPOS}/states?idFilter=${id}`, { token, version: '1.2-rev1' });
    expect(plain.body.data[0]).not.toHaveProperty('capacitySource');
    expect(plain.body.data[0]).not.toHaveProperty('measuredAt');
    expect(states.body.data[0].capacityGB).toBeGreaterThan(0);
  });

  it('validation errors are 400 before any session, naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ ...linuxLocal('x', '/tmp/x'), hostId: undefined }, /"hostId"/],
      [{ ...linuxLocal('x', '/tmp/x'), hostId: UNKNOWN }, /not a managed server/],
      [{ ...linuxLocal('x', '/tmp/x'), mountServer: { mountServerId: backupServerId } }, /mountServer.writeCacheFolder/],
      [linuxLocal('x', '/tmp/x', { enableTaskLimit: true, taskLimitEnabled: false }), /1.1 and 1.2 names/],
      [{ ...linuxLocal('x', '/tmp/x'), type: 'LinuxHardened' }, /makeRecentBackupsImmutableDays/],
      [linuxLocal('Local 1', path.join(root, 'dup')), /already exists/],
      [{ type: 'Smb', name: 's', description: '', share: { sharePath: '\\\\127.0.0.1\\share' }, repository: {}, mountServer: mountServer() }, /share.credentialsId/],
      [
        { type: 'Smb', name: 's', description: '', share: { sharePath: '\\\\h\\s', credentialsId: UNKNOWN }, repository: {}, mountServer: mountServer() },
        /credentials record .* does not exist/,
      ],
      [
        { type: 'Nfs', name: 'n', description: '', share: { sharePath: 'h:/e', gatewayServer: { autoSelect: false } }, repository: {}, mountServer: mountServer() },
        /gatewayServerIds/,
      ],
      [{ ...s3Spec('o', 'plain'), account: { regionId: 'r', credentialsId: cloudId } }, /account.servicePoint/],
      [{ ...s3Spec('o', 'plain'), account: { servicePoint: 'x', regionId: 'r', credentialsId: UNKNOWN } }, /cloud credentials record .* does not exist/],
      [s3Spec('o', 'plain', s3.endpoint, { immutability: { isEnabled: true } }), /immutability.daysCount/],
      [s3Spec('o', 'plain', s3.endpoint, { storageConsumptionLimit: { isEnabled: true, consumptionLimitCount: 1, consumptionLimitKind: 'GB' } }), /consumptionLimitKind/],
      [
        {
          type: 'AmazonS3',
          name: 'a',
          description: '',
          account: { credentialsId: cloudId, regionType: 'Mars' },
          bucket: { regionId: 'eu-west-1', bucketName: 'b', folderName: 'f' },
          mountServer: mountServer(),
        },
        /regionType/,
      ],
      [
        {
          type: 'AzureBlob',
          name: 'z',
          description: '',
          account: { credentialsId: cloudId, regionType: 'Global', connectionSettings: { connectionType: 'Direct' } },
          container: { containerName: 'c', folderName: 'f' },
          mountServer: mountServer(),
        },
        /AzureStorage cloud credentials/,
      ],
      [
        {
          type: 'AzureArchive',
          name: 'z',
          description: '',
          account: { credentialsId: cloudId, regionType: 'Global', connectionSettings: { connectionType: 'Direct' } },
          container: { containerName: 'c', folderName: 'f' },
        },
        /proxyAppliance/,
      ],
      [{ type: 'DDBoost', name: 'd', description: '' }, /no specification/],
    ];
    for (const [spec, message] of cases) {
      const res = await t.api.post(REPOS, { token, json: spec });
      expect(res.status, JSON.stringify(spec)).toBe(400);
      expect(res.body.message).toMatch(message);
    }
  });

  it('a folder that cannot be created fails the session saying why, and nothing is stored', async () => {
    const blocker = path.join(root, 'blocker');
    await writeFile(blocker, 'x');
    const { session, id } = await add(linuxLocal('Broken', path.join(blocker, 'sub')));
    expect(session.result.result).toBe('Failed');
    expect(session.result.message).toMatch(/Cannot create the folder/);
    expect((await t.api.get(`${REPOS}/${id}`, { token })).status).toBe(404);
  });

  it('S3Compatible: bucket with capacity.xml; bucket without; immutability refused on a bucket without object lock', async () => {
    const a = await add(s3Spec('S3 capacity', 'capacity'));
    expect(a.session.result.result).toBe('Success');
    const extras = { 'x-rampart-extras': 'true' };
    const st = await t.api.get(`${REPOS}/states?idFilter=${a.id}`, { token, headers: extras });
    expect(st.body.data[0]).toMatchObject({ capacityGB: 8192, freeGB: 3072, usedSpaceGB: 5120, capacitySource: 'sosapi', path: 'capacity/veeam' });
    const b = await add(s3Spec('S3 limited', 'plain', s3.endpoint, { storageConsumptionLimit: { isEnabled: true, consumptionLimitCount: 1, consumptionLimitKind: 'TB' } }));
    expect(b.session.result.result).toBe('Success');
    expect((await t.api.get(`${REPOS}/states?idFilter=${b.id}`, { token, headers: extras })).body.data[0]).toMatchObject({ capacityGB: 1024, capacitySource: 'consumptionLimit' });
    const c = await add(s3Spec('S3 immutable', 'plain', s3.endpoint, { immutability: { isEnabled: true, daysCount: 30 } }));
    expect(c.session.result.result).toBe('Failed');
    expect(c.session.result.message).toMatch(/object lock/);
    const d = await add(s3Spec('S3 missing', 'no-such-bucket'));
    expect(d.session.result.message).toMatch(/does not exist/);
    // Filters: type, capacity, online.
    const big = await t.api.get(`${REPOS}/states?capacityFilter=2000&typeFilter=S3Compatible`, { token });
    expect(big.body.data.map((r: { name: string }) => r.name)).toEqual(['S3 capacity']);
    const list = await t.api.get(`${REPOS}?typeFilter=S3Compatible&orderColumn=Name&orderAsc=false`, { token });
    expect(list.body.data.map((r: { name: string }) => r.name)).toEqual(['S3 limited', 'S3 capacity']);
    expect(list.body.data[0]).toMatchObject({ kind: 'ObjectStorage', account: { credentialsId: cloudId } });
  });

  it('the cloud credentials a repository uses cannot be removed', async () => {
    const res = await t.api.request('DELETE', `/api/v1/cloudCredentials/${cloudId}`, { token });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/repository "S3 /);
  });

  it('accessPermissions get/put', async () => {
    const id = (await t.api.get(`${REPOS}?nameFilter=Local*`, { token })).body.data[0].id;
    expect((await t.api.get(`${REPOS}/${id}/accessPermissions`, { token })).body).toMatchObject({ accessPolicy: 'AllowAll', encryptBackups: false });
    const bad = await t.api.request('PUT', `${REPOS}/${id}/accessPermissions`, { token, json: { accessPolicy: 'AllowExplicit', encryptBackups: false } });
    expect(bad.status).toBe(400);
    const ok = await t.api.request('PUT', `${REPOS}/${id}/accessPermissions`, { token, json: { accessPolicy: 'AllowExplicit', accounts: ['CORP\\ops'], encryptBackups: false } });
    expect(ok.status).toBe(200);
    expect((await t.api.get(`${REPOS}/${id}/accessPermissions`, { token })).body.accounts).toEqual(['CORP\\ops']);
    // 1.2-rev1 … 1.3-rev1: encryptionSettings instead of encryptBackups/passwordId; 1.3-rev2: accounts as {name, type}.
    const v12 = await t.api.get(`${REPOS}/${id}/accessPermissions`, { token, version: '1.2-rev1' });
    expect(v12.body).toEqual({ accessPolicy: 'AllowExplicit', accounts: ['CORP\\ops'], encryptionSettings: { isEnabled: false } });
    const v132 = await t.api.get(`${REPOS}/${id}/accessPermissions`, { token, version: '1.3-rev2' });
    expect(v132.body).toEqual({ accessPolicy: 'AllowExplicit', accounts: [{ name: 'CORP\\ops', type: 'ExternalUser' }], encryptionSettings: { isEnabled: false } });
    const password = await t.api.post('/api/v1/encryptionPasswords', { token, json: { password: 'Access-Enc-1', hint: 'access' } });
    const put = await t.api.request('PUT', `${REPOS}/${id}/accessPermissions`, {
      token,
      version: '1.3-rev2',
      json: {
        accessPolicy: 'AllowExplicit',
        accounts: [{ name: 'backup-ops', type: 'InternalGroup' }],
        encryptionSettings: { isEnabled: true, encryptionType: 'ByUserPassword', encryptionPasswordId: password.body.id },
      },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toEqual({
      accessPolicy: 'AllowExplicit',
      accounts: [{ name: 'backup-ops', type: 'InternalGroup' }],
      encryptionSettings: { isEnabled: true, encryptionType: 'ByUserPassword', encryptionPasswordId: password.body.id },
    });
    const v11 = await t.api.get(`${REPOS}/${id}/accessPermissions`, { token });
    expect(v11.body).toEqual({ accessPolicy: 'AllowExplicit', accounts: ['backup-ops'], encryptBackups: true, passwordId: password.body.id });
    const kms = await t.api.request('PUT', `${REPOS}/${id}/accessPermissions`, {
      token,
      version: '1.3-rev2',
      json: { accessPolicy: 'AllowAll', accounts: [], encryptionSettings: { isEnabled: true, encryptionType: 'ByKms' } },
    });
    expect(kms.status).toBe(400);
    expect(kms.body.message).toMatch(/encryptionSettings.encryptionType/);
    const badType = await t.api.request('PUT', `${REPOS}/${id}/accessPermissions`, {
      token,
      version: '1.3-rev2',
      json: { accessPolicy: 'AllowExplicit', accounts: [{ name: 'x', type: 'Robot' }] },
    });
    expect(badType.status).toBe(400);
  });

  it('scale-out: validation, extents modes incl. pending while a rescan uses the extent, evacuation, removal rules', async () => {
    const p1 = await add(linuxLocal('Perf 1', path.join(root, 'perf-1')));
    const p2 = await add(linuxLocal('Perf 2', path.join(root, 'perf-2')));
    const cap = await add(s3Spec('Capacity via proxy', 'plain', `http://127.0.0.1:${proxy.port}`));
    expect(cap.session.result.result).toBe('Success');
    const objectId = (await t.api.get(`${REPOS}?nameFilter=S3 capacity`, { token })).body.data[0].id;

    // Validation.
    const bad: [unknown, RegExp][] = [
      [{ name: 'x', description: '', performanceTier: { performanceExtents: [] } }, /at least one/],
      [{ name: 'x', description: '', performanceTier: { performanceExtents: [{ id: objectId }] } }, /cannot be a performance extent/],
      [{ name: 'x', description: '', performanceTier: { performanceExtents: [{ id: UNKNOWN }] } }, /not a repository/],
      [
        { name: 'x', description: '', performanceTier: { performanceExtents: [{ id: p1.id }] }, capacityTier: { isEnabled: true, extents: [{ id: p2.id }] } },
        /cannot be a capacity tier extent/,
      ],
      [
        {
          name: 'x',
          description: '',
          performanceTier: { performanceExtents: [{ id: p1.id }] },
          capacityTier: { enabled: true, extents: [{ id: cap.id }], encryption: { isEnabled: true, encryptionPasswordIdOrNull: UNKNOWN } },
        },
        /encryption password/,
      ],
      [
        {
          name: 'x',
          description: '',
          performanceTier: { performanceExtents: [{ id: p1.id }] },
          capacityTier: { enabled: true, extents: [{ id: cap.id }], offloadWindow: { days: [{ day: 'monday', hours: '1,1' }] } },
        },
        /24 comma-separated/,
      ],
    ];
    for (const [spec, message] of bad) {
      const res = await t.api.post(SOBRS, { token, json: spec });
      expect(res.status, JSON.stringify(spec)).toBe(400);
      expect(res.body.message).toMatch(message);
    }

    const created = await t.api.post(SOBRS, {
      token,
      json: {
        name: 'SOBR 1',
        description: 'two extents',
        tag: 'sobr-1',
        performanceTier: { performanceExtents: [{ id: p1.id }, { id: p2.id }] },
        placementPolicy: { type: 'DataLocality' },
        capacityTier: { isEnabled: true, extents: [{ id: cap.id }], offloadWindow: { days: [{ day: 'monday', hours: '1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1' }] } },
      },
    });
    expect(created.status).toBe(201);
    expect((await waitStopped(created.body.id)).result.result).toBe('Success');
    const sobrId = created.body.resourceId;
    const model = (await t.api.get(`${SOBRS}/${sobrId}`, { token })).body;
    expect(model).toMatchObject({ name: 'SOBR 1', tag: 'sobr-1', capacityTier: { enabled: true, extents: [{ id: cap.id }] } });
    expect(model).not.toHaveProperty('uniqueId');
    const v12 = (await t.api.get(`${SOBRS}/${sobrId}`, { token, version: '1.2-rev1' })).body;
    expect(v12).toMatchObject({ name: 'SOBR 1', uniqueId: 'sobr-1', capacityTier: { isEnabled: true, extents: [{ id: cap.id }] } });
    expect(v12).not.toHaveProperty('tag');
    expect(v12.capacityTier).not.toHaveProperty('enabled');
    expect(model.performanceTier.performanceExtents).toEqual([
      { id: p1.id, name: 'Perf 1', status: 'Normal' },
      { id: p2.id, name: 'Perf 2', status: 'Normal' },
    ]);

    // An extent of one scale-out repository cannot join another, nor be removed.
    const again = await t.api.post(SOBRS, { token, json: { name: 'SOBR 2', description: '', performanceTier: { performanceExtents: [{ id: p1.id }] } } });
    expect(again.body.message).toMatch(/already an extent of scale-out repository "SOBR 1"/);
    const del = await t.api.request('DELETE', `${REPOS}/${p1.id}`, { token });
    expect(del.status).toBe(400);
    expect(del.body.message).toMatch(/extent of scale-out repository "SOBR 1"/);

    const mode = async (action: string, ids: string[]) => {
      const res = await t.api.post(`${SOBRS}/${sobrId}/${action}`, { token, json: { repositoryIds: ids } });
      expect(res.status).toBe(201);
      return waitStopped(res.body.id);
    };
    const statusOf = async (id: string) =>
      (await t.api.get(`${SOBRS}/${sobrId}`, { token })).body.performanceTier.performanceExtents.find((e: { id: string }) => e.id === id).status;

    // Evacuate requires maintenance first; disabling what is not enabled fails.
    expect((await mode('evacuateBackups', [p1.id])).result.message).toMatch(/maintenance mode before/);
    expect((await mode('disableSealedMode', [p1.id])).result.message).toMatch(/is not sealed/);
    expect((await mode('enableSealedMode', [cap.id])).result.message).toMatch(/not a performance extent/);

    // Sealed, then maintenance overrides it, and sealed shows again afterwards.
    expect((await mode('enableSealedMode', [p1.id])).result.result).toBe('Success');
    expect(await statusOf(p1.id)).toBe('Sealed');
    expect((await mode('enableSealedMode', [p1.id])).result.message).toMatch(/already sealed/);
    expect((await mode('enableMaintenanceMode', [p1.id])).result.result).toBe('Success');
    expect(await statusOf(p1.id)).toBe('Maintenance');
    expect((await mode('disableMaintenanceMode', [p1.id])).result.result).toBe('Success');
    expect(await statusOf(p1.id)).toBe('Sealed');
    expect((await mode('disableSealedMode', [p1.id])).result.result).toBe('Success');

    // Pending: a rescan of the scale-out repository uses every extent; the capacity extent's service point hangs, so it runs for the timeout.
    proxy.hang();
    const rescan = await t.api.post(`${REPOS}/rescan`, { token, version: '1.2-rev1', json: { repositoryIds: [sobrId] } });
    expect(rescan.status).toBe(201);
    const m = await mode('enableMaintenanceMode', [p2.id]);
    expect(await logsOf(m.id)).toMatch(/Pending: pending until 1 running session/);
    expect(await statusOf(p2.id)).toBe('Pending');
    expect((await mode('evacuateBackups', [p2.id])).result.message).toMatch(/sessions still use it/);
    const rescanDone = await waitStopped(rescan.body.id);
    expect(rescanDone.result.result).toBe('Warning');
    expect(await statusOf(p2.id)).toBe('Maintenance');
    proxy.resume();
    const capState = (await t.api.get(`${REPOS}/states?idFilter=${cap.id}`, { token, version: '1.2-rev1', headers: { 'x-rampart-extras': 'true' } })).body.data[0];
    expect(capState).toMatchObject({ isOnline: false, statusMessage: expect.stringMatching(/answer/) });

    // Evacuate moves the backup files to the other (Normal) extent.
    await writeFile(path.join(root, 'perf-2', 'job1.vbk'), 'backup data');
    const ev = await mode('evacuateBackups', [p2.id]);
    expect(ev.sessionType).toBe('RepositoryEvacuate');
    expect(ev.result.result).toBe('Success');
    expect(await readdir(path.join(root, 'perf-1'))).toContain('job1.vbk');
    expect(await readdir(path.join(root, 'perf-2'))).toEqual([]);

    // Aggregated state (Rampart extension).
    const state = (await t.api.get(`${SOBRS}/${sobrId}/state`, { token })).body;
    expect(state.extents).toHaveLength(3);
    expect(state.capacityGB).toBeGreaterThan(0);

    expect((await t.api.request('DELETE', `${SOBRS}/${sobrId}`, { token })).status).toBe(204);
    expect((await t.api.request('DELETE', `${REPOS}/${p1.id}?deleteBackups=false`, { token })).status).toBe(204);
  });
});
