import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { startSsh2Peer, sshKeyPair, type Peer } from '../support/peers.js';
import { startVcsim, VCSIM_PASSWORD, VCSIM_USER } from '../support/vcsim.js';
import { createTestDatabase, postgresUrl } from '../support/postgres.js';

const BASE = '/api/v1/backupInfrastructure/proxies';
const SERVERS = '/api/v1/backupInfrastructure/managedServers';

let t: TestServer;
let token: string;
const peers: Peer[] = [];

async function finished(id: string) {
  await t.server.runner.settled(id);
  const res = await t.api.get(`/api/v1/sessions/${id}`, { token });
  expect(res.body.state).toBe('Stopped');
  return res.body;
}

async function logText(id: string): Promise<string> {
  const logs = await t.api.get(`/api/v1/sessions/${id}/logs`, { token });
  return logs.body.records.map((r: any) => `${r.status}: ${r.title} ${r.description}`).join('\n');
}

/** POST/PUT answering 201 + SessionModel; waits for the session's end. */
async function session(method: string, url: string, json: unknown, version?: string) {
  const res = await t.api.request(method, url, { token, json, version });
  expect(res.status, res.text).toBe(201);
  const done = await finished(res.body.id);
  return { started: res.body, done, log: await logText(res.body.id), resourceId: res.body.resourceId as string };
}

async function credentials(json: Record<string, unknown>): Promise<string> {
  const res = await t.api.post('/api/v1/credentials', { token, json });
  expect(res.status, res.text).toBe(201);
  return res.body.id;
}

let viHostId: string;
let linuxHostId: string;
let linuxPeer: Peer & { logins: string[] };

beforeAll(async () => {
  // On PostgreSQL when one is given (the automation round trip covers proxies on SQLite).
  t = await startTestServer({ RAMPART_PROBE_TIMEOUT_MS: '3000', ...(postgresUrl ? { DATABASE_URL: await createTestDatabase() } : {}) });
  // Also no reply property outside Veeam's document (test/support/conformance.ts).
  t.api.strict = true;
  token = await t.adminToken();
  // A vCenter (vcsim, which a ViHost must log in to) named "localhost", a Linux stand-in (ssh2) named "127.0.0.1".
  const standard = await credentials({ type: 'Standard', username: VCSIM_USER, password: VCSIM_PASSWORD });
  const vi = await startVcsim({ listen: '::' });
  peers.push({ port: vi.port, close: vi.stop });
  const thumbprint = vi.thumbprint.replace(/:/g, '');
  const addedVi = await session('POST', SERVERS, {
    name: 'localhost',
    description: 'vc',
    type: 'ViHost',
    credentialsId: standard,
    port: vi.port,
    certificateThumbprint: thumbprint,
  });
  expect(addedVi.done.result.result, addedVi.log).toBe('Success');
  viHostId = addedVi.resourceId;

  const hostKey = sshKeyPair();
  linuxPeer = await startSsh2Peer({ hostKeys: [hostKey.private], username: 'backup', password: 'Peer-Pw-1' });
  peers.push(linuxPeer);
  const linux = await credentials({ type: 'Linux', username: 'backup', password: 'Peer-Pw-1', SSHPort: linuxPeer.port, uniqueId: 'peer' });
  const probe = await t.api.post('/api/v1/connectionCertificate', { token, json: { serverName: '127.0.0.1', credentialsId: linux, type: 'LinuxHost', port: linuxPeer.port } });
  const addedLinux = await session('POST', SERVERS, { name: '127.0.0.1', description: 'linux', type: 'LinuxHost', credentialsId: linux, sshFingerprint: probe.body.fingerprint });
  expect(addedLinux.done.result.result, addedLinux.log).toBe('Success');
  linuxHostId = addedLinux.resourceId;
});
afterAll(async () => {
  await Promise.all(peers.map((p) => p.close()));
  await t.cleanup();
});

describe('proxies', () => {
  let viProxy: string;
  let linuxProxy: string;

  it('adds a proxy on a ViHost: a session probes the pinned certificate; named after the server, with Veeam defaults in both spellings', async () => {
    const { started, done, log, resourceId } = await session('POST', BASE, { description: 'VMware proxy', type: 'ViProxy', server: { hostId: viHostId } });
    expect(started).toMatchObject({ name: 'Infrastructure Item Saving', sessionType: 'Infrastructure' });
    expect(done.result.result, log).toBe('Success');
    expect(log).toMatch(/presents certificate/);
    expect(log).toMatch(/certificate thumbprint matches the pin/);
    viProxy = resourceId;
    const model = (await t.api.get(`${BASE}/${viProxy}`, { token })).body;
    expect(model).toEqual({
      id: viProxy,
      name: 'localhost',
      description: 'VMware proxy',
      type: 'ViProxy',
      server: {
        hostId: viHostId,
        transportMode: 'auto',
        failoverToNetwork: true,
        hostToProxyEncryption: false,
        connectedDatastores: { autoSelect: true, datastores: [] },
        maxTaskCount: 2,
      },
    });
  });

  it('adds a proxy on a LinuxHost with every field (1.2 spellings): the session probes the pinned SSH key', async () => {
    const server = {
      hostId: linuxHostId,
      transportMode: 'network',
      failoverToNetwork: false,
      hostToProxyEncryption: true,
      connectedDatastores: {
        autoSelectEnabled: false,
        datastores: [{ datastore: { platform: 'VMware', hostName: 'vc.test', name: 'ds1', type: 'Datastore', objectId: 'datastore-11' }, vmCount: 3 }],
      },
      maxTaskCount: 4,
    };
    const { done, log, resourceId } = await session('POST', BASE, { description: 'Linux proxy', type: 'ViProxy', server }, '1.2-rev1');
    expect(done.result.result, log).toBe('Success');
    expect(log).toMatch(/presents SSH host key SHA256:/);
    expect(log).toMatch(/SSH host key fingerprint matches the pin/);
    linuxProxy = resourceId;
    const model = (await t.api.get(`${BASE}/${linuxProxy}`, { token, version: '1.2-rev1' })).body;
    expect(model.name).toBe('127.0.0.1');
    expect(model.server).toEqual(server);
    // 1.1-rev0 spells it autoSelect and has no datastore platform.
    const older = (await t.api.get(`${BASE}/${linuxProxy}`, { token })).body;
    expect(older.server.connectedDatastores).toEqual({
      autoSelect: false,
      datastores: [{ datastore: { hostName: 'vc.test', name: 'ds1', type: 'Datastore', objectId: 'datastore-11' }, vmCount: 3 }],
    });
  });

  it('1.3: transportMode as each document spells it (Auto from 1.3-rev1), either spelling accepted, and proxy states', async () => {
    expect((await t.api.get(`${BASE}/${viProxy}`, { token, version: '1.3-rev0' })).body.server.transportMode).toBe('auto');
    expect((await t.api.get(`${BASE}/${viProxy}`, { token, version: '1.3-rev1' })).body.server.transportMode).toBe('Auto');
    const list = await t.api.get(BASE, { token, version: '1.3-rev2' });
    expect(list.body.data.map((p: any) => p.server.transportMode).sort()).toEqual(['Auto', 'Network']);
    const model = (await t.api.get(`${BASE}/${linuxProxy}`, { token, version: '1.3-rev1' })).body;
    const edited = await session('PUT', `${BASE}/${linuxProxy}`, { ...model, server: { ...model.server, transportMode: 'DirectAccess' } }, '1.3-rev1');
    expect(edited.done.result.result, edited.log).toBe('Success');
    expect((await t.api.get(`${BASE}/${linuxProxy}`, { token })).body.server.transportMode).toBe('directAccess');
    expect((await t.api.get(`${BASE}/${linuxProxy}`, { token, version: '1.3-rev1' })).body.server.transportMode).toBe('DirectAccess');

    const states = await t.api.get(`${BASE}/states?orderColumn=Name`, { token, version: '1.3-rev1' });
    expect(states.status, states.text).toBe(200);
    expect(states.body.pagination).toMatchObject({ total: 2, count: 2 });
    expect(states.body.data[0]).toEqual({
      id: linuxProxy,
      name: '127.0.0.1',
      description: 'Linux proxy',
      type: 'ViProxy',
      hostId: linuxHostId,
      hostName: '127.0.0.1',
      isDisabled: false,
      isOnline: true,
      isOutOfDate: false,
    });
    expect((await t.api.get(`${BASE}/states?isOnlineFilter=false`, { token, version: '1.3-rev1' })).body.data).toEqual([]);
    expect((await t.api.get(`${BASE}/states?isDisabledFilter=true`, { token, version: '1.3-rev1' })).body.pagination.total).toBe(0);
    expect((await t.api.get(`${BASE}/states?hostIdFilter=${viHostId}`, { token, version: '1.3-rev1' })).body.data.map((p: any) => p.id)).toEqual([viProxy]);
  });

  it('lists with typeFilter, hostIdFilter, nameFilter and order', async () => {
    const all = await t.api.get(`${BASE}?orderColumn=Name&orderAsc=false`, { token });
    expect(all.body.data.map((p: any) => p.name)).toEqual(['localhost', '127.0.0.1']);
    expect(all.body.pagination).toEqual({ total: 2, count: 2, skip: 0, limit: 200 });
    expect((await t.api.get(`${BASE}?hostIdFilter=${linuxHostId}`, { token })).body.data.map((p: any) => p.id)).toEqual([linuxProxy]);
    expect((await t.api.get(`${BASE}?nameFilter=local*`, { token })).body.data.map((p: any) => p.id)).toEqual([viProxy]);
    expect((await t.api.get(`${BASE}?typeFilter=ViProxy&orderColumn=Description`, { token })).body.data.map((p: any) => p.id)).toEqual([linuxProxy, viProxy]);
    expect((await t.api.get(`${BASE}?typeFilter=HvProxy`, { token })).status).toBe(400);
  });

  it('edits with the model (PUT → 201 + session); the server of a proxy cannot change', async () => {
    const model = (await t.api.get(`${BASE}/${viProxy}`, { token })).body;
    const edited = await session('PUT', `${BASE}/${viProxy}`, { ...model, description: 'edited', server: { ...model.server, maxTaskCount: 8, transportMode: 'virtualAppliance' } });
    expect(edited.done.result.result, edited.log).toBe('Success');
    expect((await t.api.get(`${BASE}/${viProxy}`, { token })).body).toMatchObject({
      description: 'edited',
      server: { maxTaskCount: 8, transportMode: 'virtualAppliance', failoverToNetwork: true },
    });
    const moved = await t.api.request('PUT', `${BASE}/${viProxy}`, { token, json: { ...model, server: { ...model.server, hostId: linuxHostId } } });
    expect(moved.status).toBe(400);
    expect(moved.body.message).toMatch(/cannot be changed/);
  });

  it('refuses bad specs with a 400 before any session', async () => {
    const before = (await t.api.get('/api/v1/sessions', { token })).body.pagination.total;
    const cases: [unknown, RegExp][] = [
      [{ description: '', type: 'ViProxy', server: { hostId: '11111111-2222-4333-8444-555555555555' } }, /not a managed server/],
      [{ description: '', type: 'ViProxy', server: { hostId: viHostId } }, /already a backup proxy/],
      [{ description: '', type: 'HvProxy', server: { hostId: viHostId } }, /ViProxy/],
      [{ description: '', type: 'ViProxy' }, /server/],
      [{ type: 'ViProxy', server: { hostId: viHostId } }, /description/],
      [{ description: '', type: 'ViProxy', server: { hostId: viHostId, transportMode: 'san' } }, /auto, directAccess, virtualAppliance, network/],
      [{ description: '', type: 'ViProxy', server: { hostId: viHostId, maxTaskCount: 0 } }, /maxTaskCount/],
    ];
    for (const [json, message] of cases) {
      const res = await t.api.post(BASE, { token, json });
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(res.body.errorCode).toBe('UnexpectedContent');
      expect(res.body.message).toMatch(message);
    }
    // The two spellings of one field disagree (an edit would take the one that differs from the stored value).
    const clash = await t.api.post(BASE, {
      token,
      json: { description: '', type: 'ViProxy', server: { hostId: viHostId, connectedDatastores: { autoSelect: true, autoSelectEnabled: false } } },
    });
    expect(clash.status).toBe(400);
    expect(clash.body.message).toMatch(/autoSelect/);
    expect((await t.api.get('/api/v1/sessions', { token })).body.pagination.total).toBe(before);
    expect((await t.api.get(`${BASE}/11111111-2222-4333-8444-555555555555`, { token })).status).toBe(404);
  });

  it('a proxy keeps its server from being removed; removing the proxy (204) frees it', async () => {
    const refused = await session('DELETE', `${SERVERS}/${linuxHostId}`, undefined);
    expect(refused.done.result.result).toBe('Failed');
    expect(refused.done.result.message).toContain(`backup proxy "127.0.0.1" (${linuxProxy})`);
    const del = await t.api.request('DELETE', `${BASE}/${linuxProxy}`, { token });
    expect(del.status).toBe(204);
    expect((await t.api.request('DELETE', `${BASE}/${linuxProxy}`, { token })).status).toBe(404);
    const removed = await session('DELETE', `${SERVERS}/${linuxHostId}`, undefined);
    expect(removed.done.result.result, removed.log).toBe('Success');
  });

  it('a server that no longer answers fails the session and changes nothing', async () => {
    await Promise.all(peers.map((p) => p.close()));
    peers.length = 0;
    const model = (await t.api.get(`${BASE}/${viProxy}`, { token })).body;
    const failed = await session('PUT', `${BASE}/${viProxy}`, { ...model, description: 'never saved' });
    expect(failed.done.result.result).toBe('Failed');
    expect(failed.log).toMatch(/Failed: Connecting to/);
    expect((await t.api.get(`${BASE}/${viProxy}`, { token })).body.description).toBe('edited');
  });

  it('Viewer reads; writes need an Administrator', async () => {
    await t.server.users.add('proxyviewer', 'Viewer', 'Viewer-Passw0rd!');
    const viewer = (await t.api.login('proxyviewer', 'Viewer-Passw0rd!')).access_token;
    expect((await t.api.get(BASE, { token: viewer })).status).toBe(200);
    expect((await t.api.get(`${BASE}/${viProxy}`, { token: viewer })).status).toBe(200);
    expect((await t.api.post(BASE, { token: viewer, json: { description: '', type: 'ViProxy', server: { hostId: viHostId } } })).status).toBe(403);
    expect((await t.api.request('PUT', `${BASE}/${viProxy}`, { token: viewer, json: {} })).status).toBe(403);
    expect((await t.api.request('DELETE', `${BASE}/${viProxy}`, { token: viewer })).status).toBe(403);
  });
});
