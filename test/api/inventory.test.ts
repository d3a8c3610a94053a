import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCountingForwarder, startSilentPeer, type Peer } from '../support/peers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { haveGo, startVcsim, VCSIM_PASSWORD, VCSIM_USER, type Vcsim } from '../support/vcsim.js';

const HOSTS = '/api/v1/inventory/vmware/hosts';
const SERVERS = '/api/v1/backupInfrastructure/managedServers';
const PROBE_TIMEOUT_MS = 1500;

let t: TestServer;
let token: string;
let vcsim: Vcsim;
let doomed: Vcsim;
let silent: Peer;

async function addViHost(name: string, sim: Vcsim, credentialsId: string): Promise<string> {
  const res = await t.api.post(SERVERS, { token, json: { name, description: '', type: 'ViHost', credentialsId, port: sim.port, certificateThumbprint: sim.thumbprint } });
  expect(res.status, res.text).toBe(201);
  for (let i = 0; i < 300; i++) {
    const s = await t.api.get(`/api/v1/sessions/${res.body.id}`, { token });
    if (s.body.state === 'Stopped') {
      expect(s.body.result.result, JSON.stringify(s.body.result)).toBe('Success');
      return res.body.resourceId;
    }
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error('the add session did not end');
}

const objects = async (query: string, version?: string) => {
  const res = await t.api.get(`${HOSTS}/127.0.0.1${query}`, { token, version });
  expect(res.status, res.text).toBe(200);
  return res.body as { data: any[]; pagination: { total: number; count: number; skip: number; limit: number } };
};
const names = (body: { data: any[] }) => body.data.map((e) => e.inventoryObject.name);

describe.skipIf(!haveGo)('VMware inventory through the HTTP API, against vcsim', () => {
  beforeAll(async () => {
    t = await startTestServer({ RAMPART_PROBE_TIMEOUT_MS: String(PROBE_TIMEOUT_MS) });
    // Also no reply property outside Veeam's document (test/support/conformance.ts).
    t.api.strict = true;
    token = await t.adminToken();
    // One simulator for the listings, one on :: to be stopped (reached as 127.0.0.2), a peer that never speaks TLS.
    [vcsim, doomed, silent] = await Promise.all([startVcsim(), startVcsim({ listen: '::' }), startSilentPeer('::')]);
    const credentials = await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: VCSIM_USER, password: VCSIM_PASSWORD } });
    expect(credentials.status).toBe(201);
    await addViHost('127.0.0.1', vcsim, credentials.body.id);
    await addViHost('127.0.0.2', doomed, credentials.body.id);
  });
  afterAll(async () => {
    await Promise.all([vcsim?.stop(), doomed?.stop(), silent?.close()]);
    await t?.cleanup();
  });

  it('lists the vSphere servers in each revision’s shape, with name filter, order and paging', async () => {
    const v11 = await t.api.get(`${HOSTS}?orderColumn=Name&orderAsc=false`, { token });
    expect(v11.status).toBe(200);
    expect(v11.body.pagination).toEqual({ total: 2, count: 2, skip: 0, limit: 200 });
    expect(v11.body.data[0]).toEqual({ inventoryObject: { type: 'vCenterServer', hostName: '127.0.0.2', name: '127.0.0.2', objectId: expect.any(String) }, size: 'N/A' });
    const v12 = await t.api.get(`${HOSTS}?nameFilter=*0.1&limit=1`, { token, version: '1.2-rev1' });
    expect(v12.body.data).toEqual([{ platform: 'VMware', type: 'vCenterServer', hostName: '127.0.0.1', name: '127.0.0.1', objectId: expect.any(String), size: 'N/A' }]);
    const v13 = await t.api.get(`${HOSTS}?skip=1`, { token, version: '1.3-rev1' });
    expect(v13.body.data).toEqual([expect.objectContaining({ platform: 'VSphere', name: '127.0.0.2' })]);
    expect(v13.body.pagination).toEqual({ total: 2, count: 1, skip: 1, limit: 200 });
    expect((await t.api.get(`${HOSTS}?orderColumn=ObjectId`, { token })).status).toBe(400);
  });

  it('lists what a vCenter holds: datacenter, cluster, hosts, VMs, datastore, networks, with vSphere’s own ids', async () => {
    const all = await objects('?limit=1000');
    const byName = new Map(all.data.map((e) => [e.inventoryObject.name, e]));
    expect(byName.get('DC0')).toEqual({
      inventoryObject: { type: 'Datacenter', hostName: '127.0.0.1', name: 'DC0', objectId: expect.stringMatching(/^datacenter-/) },
      size: 'N/A',
    });
    expect(byName.get('DC0_C0')?.inventoryObject.type).toBe('Cluster');
    expect(byName.get('DC0_H0')?.inventoryObject.type).toBe('Host');
    expect(byName.get('LocalDS_0')?.inventoryObject.type).toBe('Datastore');
    // 1.1 has no DVSNetwork: distributed port groups are Networks there; 1.2 names them.
    expect(byName.get('DC0_DVPG0')?.inventoryObject.type).toBe('Network');
    const dvpg = await objects('?nameFilter=DC0_DVPG0', '1.2-rev1');
    expect(dvpg.data).toEqual([
      { platform: 'VMware', type: 'DVSNetwork', hostName: '127.0.0.1', name: 'DC0_DVPG0', objectId: expect.stringMatching(/^dvportgroup-/), size: 'N/A' },
    ]);
    const vm = byName.get('DC0_H0_VM0');
    expect(vm.inventoryObject).toEqual({ type: 'VirtualMachine', hostName: '127.0.0.1', name: 'DC0_H0_VM0', objectId: expect.stringMatching(/^vm-/) });
    expect(vm.size).toMatch(/^\d+(\.\d)? (B|KB|MB|GB|TB)$/);
    // The hidden parts of vSphere's tree (root folder, vm/host/datastore/network folders, root pools) are not listed.
    expect([...byName.keys()]).not.toContain('vm');
    expect([...byName.keys()]).not.toContain('Resources');
    expect(all.pagination.total).toBe(all.data.length);
  });

  it('filters by type, name, objectId, hierarchy and parent container; orders and pages', async () => {
    const vms = await objects('?typeFilter=VirtualMachine&orderColumn=Name');
    expect(names(vms)).toEqual(['DC0_C0_RP0_VM0', 'DC0_C0_RP0_VM1', 'DC0_H0_VM0', 'DC0_H0_VM1']);
    expect(names(await objects('?typeFilter=VirtualMachine,Host&nameFilter=DC0_C0*&orderColumn=Name&orderAsc=false'))).toEqual([
      'DC0_C0_RP0_VM1',
      'DC0_C0_RP0_VM0',
      'DC0_C0_H2',
      'DC0_C0_H1',
      'DC0_C0_H0',
    ]);
    const id = vms.data[2].inventoryObject.objectId;
    expect(names(await objects(`?objectIdFilter=${id}`))).toEqual(['DC0_H0_VM0']);
    const hostsAndClusters = await objects('?hierarchyTypeFilter=HostsAndClusters&limit=1000');
    const types = new Set(hostsAndClusters.data.map((e) => e.inventoryObject.type));
    expect([...types].sort()).toEqual(['Cluster', 'Datacenter', 'Host', 'VirtualMachine']);
    const network = await objects('?hierarchyTypeFilter=Network&limit=1000');
    expect(new Set(network.data.map((e) => e.inventoryObject.type))).toEqual(new Set(['Datacenter', 'Network']));
    expect(names(await objects('?parentContainerNameFilter=DC0_C0&orderColumn=Name'))).toEqual(['DC0_C0_H0', 'DC0_C0_H1', 'DC0_C0_H2']);
    expect(names(await objects('?hierarchyTypeFilter=HostsAndClusters&typeFilter=VirtualMachine&parentContainerNameFilter=DC0_H0&orderColumn=Name'))).toEqual([
      'DC0_H0_VM0',
      'DC0_H0_VM1',
    ]);
    const page = await objects('?typeFilter=VirtualMachine&orderColumn=ObjectId&skip=1&limit=2');
    expect(page.pagination).toEqual({ total: 4, count: 2, skip: 1, limit: 2 });
    const sortedIds = vms.data.map((e) => e.inventoryObject.objectId).sort();
    expect(page.data.map((e) => e.inventoryObject.objectId)).toEqual(sortedIds.slice(1, 3));
  });

  it('answers bad filters with 400 naming them, an unknown server with 404', async () => {
    const badType = await t.api.get(`${HOSTS}/127.0.0.1?typeFilter=Spaceship`, { token });
    expect(badType.status).toBe(400);
    expect(badType.body.message).toContain('typeFilter');
    const badHierarchy = await t.api.get(`${HOSTS}/127.0.0.1?hierarchyTypeFilter=Flat`, { token });
    expect(badHierarchy.status).toBe(400);
    expect(badHierarchy.body.message).toContain('hierarchyTypeFilter');
    const unknown = await t.api.get(`${HOSTS}/vcenter.nowhere.test`, { token });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ errorCode: 'NotFound', message: expect.stringContaining('vcenter.nowhere.test') });
  });

  it('reads a vCenter once per refresh: paging within the cache window opens no new connection', async () => {
    const forwarder = await startCountingForwarder(vcsim.port);
    try {
      const credentialsId = (await t.api.get('/api/v1/credentials', { token })).body.data[0].id;
      await addViHost('127.0.0.3', { ...vcsim, port: forwarder.port }, credentialsId);
      const before = forwarder.connections();
      const first = await t.api.get(`${HOSTS}/127.0.0.3?limit=2`, { token });
      const second = await t.api.get(`${HOSTS}/127.0.0.3?skip=2&limit=2`, { token });
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(first.body.pagination.total).toBe(second.body.pagination.total);
      // One login, one container view, one RetrievePropertiesEx, one logout: one keep-alive connection.
      expect(forwarder.connections() - before).toBe(1);
    } finally {
      await forwarder.close();
    }
  });

  it('finds objects and resolves VMs for the jobs section, through the same cache', async () => {
    const inventory = t.server.inventory;
    const vm = (await objects('?typeFilter=VirtualMachine&nameFilter=DC0_H0_VM1')).data[0].inventoryObject;
    expect(await inventory.findObject({ hostName: '127.0.0.1', type: 'VirtualMachine', objectId: vm.objectId })).toMatchObject({ name: 'DC0_H0_VM1', type: 'VirtualMachine' });
    expect(await inventory.findObject({ hostName: '127.0.0.1', type: 'Host', objectId: vm.objectId })).toBeUndefined();
    expect(await inventory.findObject({ hostName: '127.0.0.1', type: 'VirtualMachine', objectId: 'vm-999999' })).toBeUndefined();
    expect(await inventory.findObject({ hostName: 'nowhere.test', type: 'VirtualMachine', objectId: vm.objectId })).toBeUndefined();
    expect(await inventory.findObject({ hostName: '127.0.0.1', type: 'vCenterServer', name: '127.0.0.1' })).toMatchObject({ type: 'vCenterServer' });
    const resolved = await inventory.resolveVm('127.0.0.1', vm.objectId);
    expect(resolved?.vm).toMatchObject({ name: 'DC0_H0_VM1', moref: { type: 'VirtualMachine', value: vm.objectId } });
    expect(resolved?.access.credentials.username).toBe(VCSIM_USER);
    const session = await inventory.session('127.0.0.1');
    try {
      expect(await session.isActive()).toBe(true);
    } finally {
      await session.logout();
    }
  });

  it('an unreachable vCenter is a clear 503 within the probe timeout, never a hang', async () => {
    await doomed.stop();
    const undocumented = 'an unreachable vCenter is a 503, which Veeam lists for no operation (README: Choices where Veeam is silent)';
    const refused = await t.api.get(`${HOSTS}/127.0.0.2`, { token, undocumented });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({
      errorCode: 'ServiceUnavailable',
      message: expect.stringMatching(/^Cannot read the inventory of "127.0.0.2": Cannot reach 127.0.0.2:\d+: the connection was refused/),
    });

    // A host that accepts the connection and then says nothing.
    await t.server.store.db.updateTable('managed_servers').set({ port: silent.port }).where('name_key', '=', '127.0.0.2').execute();
    const started = Date.now();
    const silentReply = await t.api.get(`${HOSTS}/127.0.0.2`, { token, undocumented });
    const took = Date.now() - started;
    expect(silentReply.status).toBe(503);
    expect(silentReply.body.message).toMatch(/did not complete a TLS handshake/);
    expect(took).toBeGreaterThanOrEqual(PROBE_TIMEOUT_MS - 100);
    expect(took).toBeLessThan(PROBE_TIMEOUT_MS + 1500);
  });
});
