import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { vcsimSession, type PreparedDisk, type Vcsim } from '../support/vcsim.js';
import { sessionWaiters } from '../support/sessions.js';
import { startVsphereLab, stopVsphereLab } from '../support/vsphere-lab.js';
import { backupJobSpec, NO_GUEST_CREDENTIALS } from '../support/vsphere-specs.js';
import { readDatastoreFile } from '../../src/vsphere/datastore-files.js';
import { retrieveFromContainer, stringValue } from '../../src/vsphere/property-collector.js';
import { child, childText, moref } from '../../src/vsphere/xml.js';
import { rampartMountsUnder } from '../../src/nbd/index.js';

const MiB = 1024 * 1024;
const HOST = '127.0.0.1';
const FCD_11 = '/api/v1/restore/instantRecovery/vmware/fcd';
const FCD_13 = '/api/v1/restore/instantRecovery/vSphere/fcd';

let t: TestServer;
let token: string;
let vcsim: Vcsim;
let disks: PreparedDisk[];
let root: string;
let pointId: string;
/** What the server was started with (its database included), for the restarts. */
let serverEnv: Record<string, string> = {};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const { finished, logText, runSession } = sessionWaiters(() => ({ t, token }));

/** A datastore file's bytes as the simulator serves them (its datastore file API), hashed; undefined when absent. */
async function datastoreFileHash(datastore: string, file: string): Promise<string | undefined> {
  const session = await vcsimSession(vcsim);
  try {
    const { stream } = await readDatastoreFile(session, { datacenter: 'DC0', datastore, path: file });
    const hash = createHash('sha256');
    for await (const part of stream) hash.update(part as Buffer);
    return hash.digest('hex');
  } catch {
    return undefined;
  } finally {
    await session.logout();
  }
}

async function datastores(): Promise<Map<string, string>> {
  const session = await vcsimSession(vcsim);
  try {
    const all = await retrieveFromContainer(session, [{ type: 'Datastore', pathSet: ['name'] }]);
    return new Map(all.map((o) => [stringValue(o.props.get('name')) ?? '', o.obj.value]));
  } finally {
    await session.logout();
  }
}

/** The first-class disk as vCenter knows it (RetrieveVStorageObject): its name and backing file. */
async function retrieveFcd(id: string, datastore: string): Promise<{ name?: string; file?: string } | undefined> {
  const dsRef = (await datastores()).get(datastore);
  if (!dsRef) return undefined;
  const session = await vcsimSession(vcsim);
  try {
    const obj = await session.call('RetrieveVStorageObject', {
      _this: moref(session.content.vStorageObjectManager!),
      id: { id },
      datastore: moref({ type: 'Datastore', value: dsRef }),
    });
    const config = child(obj, 'config');
    return { name: childText(config, 'name'), file: childText(child(config, 'backing'), 'filePath') };
  } catch {
    return undefined;
  } finally {
    await session.logout();
  }
}

beforeAll(async () => {
  const lab = await startVsphereLab({
    name: 'fcd',
    diskBytes: 8 * MiB,
    vcsim: { cbt: true },
    env: { RAMPART_PROBE_TIMEOUT_MS: '5000' },
    repository: { taskLimitEnabled: true, maxTaskCount: 4 },
  });
  ({ vcsim, disks, root, t, token, env: serverEnv } = lab);
  const job = await t.api.post('/api/v1/jobs', {
    token,
    json: backupJobSpec('FCD source', disks[0]!, lab.repositoryId, { description: 'fcd test', restorePoints: 7, guestProcessing: NO_GUEST_CREDENTIALS }),
  });
  expect(job.status, job.text).toBe(201);
  await runSession('POST', `/api/v1/jobs/${job.body.id}/start`, { performActiveFull: false });
  pointId = (await t.api.get('/api/v1/objectRestorePoints', { token })).body.data[0].id;
}, 180_000);

afterAll(() => stopVsphereLab({ t, vcsim, root }));

const cluster = { hostName: HOST, name: 'DC0_C0', type: 'Cluster' };
const mapping = (name: string) => [{ nameInBackup: 'Hard disk 1', mountedDiskName: `${name}.vmdk`, registeredFcdName: name }];

describe('instant recovery of first-class disks', () => {
  let first: any;

  it('mounts a disk of the backup and registers it as a first-class disk whose bytes are the backup’s', async () => {
    const res = await t.api.post(FCD_11, { token, version: '1.1-rev0', json: { objectRestorePointId: pointId, destinationCluster: cluster, disksMapping: mapping('fcd-one') } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.sessionType).toBe('FirstClassDiskInstantRestore');
    const done = await finished(res.body.id);
    expect(done.result.result, `${done.result.message}\n${await logText(res.body.id)}`).toBe('Success');
    const list = await t.api.get(`${FCD_11}?stateFilter=Mounted`, { token, version: '1.1-rev0' });
    expect(list.status, list.text).toBe(200);
    expect(list.body.pagination.total).toBe(1);
    first = list.body.data[0];
    expect(first).toMatchObject({ sessionId: res.body.id, state: 'Mounted', spec: { objectRestorePointId: pointId } });
    expect(first.mountedDisks).toEqual([{ nameInBackup: 'Hard disk 1', mountedDiskName: 'fcd-one.vmdk', registeredFcdName: 'fcd-one', objectId: expect.any(String) }]);
    const datastore = `rampart-ir-${first.id.slice(0, 8)}`;
    const fcd = await retrieveFcd(first.mountedDisks[0].objectId, datastore);
    expect(fcd).toEqual({ name: 'fcd-one', file: `[${datastore}] fcd/fcd-one.vmdk` });
    // The FCD's extent, read through the simulator's datastore file API (NFS-style datastore → symlink → nbdfuse → NBD export → chunks).
    expect(await datastoreFileHash(datastore, 'fcd/fcd-one-flat.vmdk')).toBe(sha(disks[0]!.content));
    const got = await t.api.get(`${FCD_13}/${first.id}`, { token, version: '1.3-rev2' });
    expect(got.status, got.text).toBe(200);
    expect(got.body).toMatchObject({ id: first.id, state: 'Mounted', spec: { restorePointId: pointId } });
  }, 120_000);

  it('dismount leaves nothing: no FCD, no datastore, no FUSE mount, no redo, no folder, no mount', async () => {
    const datastore = `rampart-ir-${first.id.slice(0, 8)}`;
    const res = await t.api.post(`${FCD_11}/${first.id}/dismount`, { token, version: '1.1-rev0' });
    expect(res.status, res.text).toBe(200);
    const done = await finished(res.body.id);
    const log = await logText(res.body.id);
    expect(done.result.result, log).toBe('Success');
    expect(log).toMatch(/Succeeded: Removing first-class disk fcd-one \(/);
    expect((await t.api.get(`${FCD_11}/${first.id}`, { token, version: '1.1-rev0' })).status).toBe(404);
    expect((await datastores()).has(datastore)).toBe(false);
    expect(await rampartMountsUnder(path.join(t.dataDir, 'ir'))).toEqual([]);
    expect(existsSync(path.join(t.dataDir, 'ir', first.id))).toBe(false);
    expect((await readdir(path.join(t.dataDir, 'ir', 'redo'))).filter((f) => f.startsWith(first.id))).toHaveLength(0);
    expect((await t.api.get(FCD_11, { token, version: '1.1-rev0' })).body.pagination.total).toBe(0);
  }, 60_000);

  it('migrate copies the disk (redo on a cache datastore) to a datastore, registers it there and dismounts (1.3 shape)', async () => {
    const res = await t.api.post(FCD_13, {
      token,
      version: '1.3-rev2',
      json: {
        restorePointId: pointId,
        destinationCluster: { ...cluster, platform: 'VSphere' },
        disksMapping: mapping('fcd-two'),
        writeCache: { redirectIsEnabled: true, cacheDatastore: { platform: 'VSphere', hostName: HOST, name: 'LocalDS_0', type: 'Datastore' } },
      },
    });
    expect(res.status, res.text).toBe(201);
    expect((await finished(res.body.id)).result.result, await logText(res.body.id)).toBe('Success');
    const mount = (await t.api.get(FCD_13, { token, version: '1.3-rev2' })).body.data[0];
    expect(mount).toMatchObject({ state: 'Mounted', spec: { writeCache: { redirectIsEnabled: true, cacheDatastore: { name: 'LocalDS_0' } } } });
    // The redo file went to the cache datastore, not to Rampart's own redo folder.
    expect((await readdir(path.join(t.dataDir, 'ir', 'redo'))).filter((f) => f.startsWith(mount.id))).toHaveLength(0);
    const mig = await t.api.post(`${FCD_13}/${mount.id}/migrate`, {
      token,
      version: '1.3-rev2',
      json: { targetDatastore: { platform: 'VSphere', hostName: HOST, name: 'LocalDS_0', type: 'Datastore' } },
    });
    expect(mig.status, mig.text).toBe(200);
    const done = await finished(mig.body.id);
    expect(done.result.result, await logText(mig.body.id)).toBe('Success');
    expect(await datastoreFileHash('LocalDS_0', 'fcd-two-flat.vmdk')).toBe(sha(disks[0]!.content));
    const id = /"fcd-two" \(([^)]+)\)/.exec(done.result.message)?.[1];
    expect(await retrieveFcd(id!, 'LocalDS_0')).toEqual({ name: 'fcd-two', file: '[LocalDS_0] fcd-two.vmdk' });
    expect((await t.api.get(`${FCD_13}/${mount.id}`, { token, version: '1.3-rev2' })).status).toBe(404);
    expect((await datastores()).has(`rampart-ir-${mount.id.slice(0, 8)}`)).toBe(false);
    expect(await rampartMountsUnder(path.join(t.dataDir, 'ir'))).toEqual([]);
  }, 120_000);

  it('refuses bad input with a 400 naming the field, and the other revision’s path with a 404', async () => {
    const post = (json: unknown, url = FCD_11, version = '1.1-rev0') => t.api.post(url, { token, version, json });
    const noCluster = await post({ objectRestorePointId: pointId, disksMapping: mapping('x') });
    expect(noCluster.status).toBe(400);
    expect(noCluster.body.message).toMatch(/destinationCluster/);
    const noName = await post({ objectRestorePointId: pointId, destinationCluster: cluster, disksMapping: [{ nameInBackup: 'Hard disk 1', mountedDiskName: 'a.vmdk' }] });
    expect(noName.status).toBe(400);
    expect(noName.body.message).toMatch(/disksMapping\[0\]\.registeredFcdName/);
    const badDisk = await post({ objectRestorePointId: pointId, destinationCluster: cluster, disksMapping: [{ ...mapping('y')[0], nameInBackup: 'Hard disk 9' }] });
    expect(badDisk.status).toBe(400);
    expect(badDisk.body.message).toMatch(/disksMapping\[0\]\.nameInBackup.*Hard disk 9/);
    const badFile = await post({ objectRestorePointId: pointId, destinationCluster: cluster, disksMapping: [{ ...mapping('z')[0], mountedDiskName: '../z.vmdk' }] });
    expect(badFile.status).toBe(400);
    expect(badFile.body.message).toMatch(/mountedDiskName/);
    expect((await post({ objectRestorePointId: pointId, destinationCluster: cluster, disksMapping: mapping('w') }, FCD_13, '1.1-rev0')).status).toBe(404);
    expect((await t.api.get(FCD_11, { token, version: '1.1-rev0' })).body.pagination.total).toBe(0);
  });

  it('after a restart the Mounted disk is brought back: same FCD, the write made before the restart still there; dismount then leaves nothing', async () => {
    const res = await t.api.post(FCD_11, { token, version: '1.1-rev0', json: { objectRestorePointId: pointId, destinationCluster: cluster, disksMapping: mapping('fcd-three') } });
    expect(res.status, res.text).toBe(201);
    expect((await finished(res.body.id)).result.result, await logText(res.body.id)).toBe('Success');
    const mount = (await t.api.get(`${FCD_11}?nameFilter=fcd-three`, { token, version: '1.1-rev0' })).body.data[0];
    const datastore = `rampart-ir-${mount.id.slice(0, 8)}`;
    const dataDir = t.dataDir;
    // A write through the mounted disk (staging link → FUSE → NBD → redo file), flushed.
    const handle = await open(path.join(dataDir, 'ir', mount.id, datastore, 'fcd', 'fcd-three-flat.vmdk'), 'r+');
    await handle.write(Buffer.alloc(4096, 0x42), 0, 4096, MiB);
    await handle.sync();
    await handle.close();
    const changed = Buffer.from(disks[0]!.content);
    changed.fill(0x42, MiB, MiB + 4096);

    await t.stop();
    t = await startTestServer(serverEnv, dataDir);
    token = await t.adminToken();
    const after = await t.api.get(`${FCD_11}/${mount.id}`, { token, version: '1.1-rev0' });
    expect(after.body).toMatchObject({ state: 'Mounted', mountedDisks: mount.mountedDisks });
    expect(after.body.errorMessage).toBeUndefined();
    const resumed = (await t.api.get(`/api/v1/sessions?nameFilter=${encodeURIComponent('Resuming instant recovery of fcd-three')}`, { token })).body.data;
    expect(resumed).toHaveLength(1);
    expect(resumed[0].result.result, await logText(resumed[0].id)).toBe('Success');
    expect(await retrieveFcd(mount.mountedDisks[0].objectId, datastore)).toEqual({ name: 'fcd-three', file: `[${datastore}] fcd/fcd-three.vmdk` });
    expect(await datastoreFileHash(datastore, 'fcd/fcd-three-flat.vmdk')).toBe(sha(changed));

    const off = await t.api.post(`${FCD_11}/${mount.id}/dismount`, { token, version: '1.1-rev0' });
    expect(off.status, off.text).toBe(200);
    expect((await finished(off.body.id)).result.result, await logText(off.body.id)).toBe('Success');
    expect((await datastores()).has(datastore)).toBe(false);
    expect(await rampartMountsUnder(path.join(dataDir, 'ir'))).toEqual([]);
    expect(existsSync(path.join(dataDir, 'ir', mount.id))).toBe(false);
    expect((await readdir(path.join(dataDir, 'ir', 'redo'))).filter((f) => f.startsWith(mount.id))).toHaveLength(0);
  }, 180_000);
});
