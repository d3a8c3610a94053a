import { createHash, X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeTlsMaterial } from '../support/peers.js';
import { loadConfig } from '../../src/config.js';
import { datastoreNames, vcsimSession, vmDiskHashes, type PreparedDisk, type Vcsim } from '../support/vcsim.js';
import { sessionWaiters } from '../support/sessions.js';
import { startVsphereLab } from '../support/vsphere-lab.js';
import { backupJobSpec, instantRecoverySpec, NO_GUEST_CREDENTIALS, vmRestoreSpec } from '../support/vsphere-specs.js';
import { localFolderBackend, openChunkStore, readRestorePoint } from '../../src/chunkstore/index.js';
import { readDiskIndex } from '../../src/chunkstore/restore-point-reader.js';
import { digestAt, isZeroDigest } from '../../src/chunkstore/fixed-index.js';
import { chunkKey } from '../../src/chunkstore/layout.js';
import { writeDatastoreFile } from '../../src/vsphere/datastore-files.js';
import { retrieveFromContainer, stringValue } from '../../src/vsphere/property-collector.js';
import { destroyEntity, powerOffVm, unregisterVm } from '../../src/vsphere/vm-lifecycle.js';
import { moref, toMoref } from '../../src/vsphere/xml.js';
import { rampartMountsUnder } from '../../src/nbd/index.js';
import { openDisk } from '../../src/chunkstore/index.js';

const MiB = 1024 * 1024;
const HOST = '127.0.0.1';

let t: TestServer;
let token: string;
let vcsim: Vcsim;
let disks: PreparedDisk[];
let root: string;
let repositoryId: string;
/** What the server was started with (its database included), for the restarts. */
let serverEnv: Record<string, string> = {};
let tinyFolder: string | undefined;
let tinyMounted = false;

const { finished, logText, runSession } = sessionWaiters(() => ({ t, token }));

/** A job over one VM, run once per call: the first run is a full, the next ones incrementals. */
async function backUp(jobId: string): Promise<string> {
  await runSession('POST', `/api/v1/jobs/${jobId}/start`, { performActiveFull: false });
  const points = await t.api.get(`/api/v1/objectRestorePoints?orderColumn=CreationTime&orderAsc=false`, { token });
  return points.body.data[0].id;
}

async function createJob(name: string, disk: PreparedDisk, advancedSettings?: unknown): Promise<string> {
  const json = backupJobSpec(name, disk, repositoryId, {
    description: 'restore test',
    restorePoints: 7,
    storage: advancedSettings ? { advancedSettings } : {},
    guestProcessing: NO_GUEST_CREDENTIALS,
  });
  const res = await t.api.post('/api/v1/jobs', { token, json });
  expect(res.status, res.text).toBe(201);
  return res.body.id;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  const lab = await startVsphereLab({
    name: 'restore',
    diskBytes: 8 * MiB,
    vcsim: { cbt: true },
    env: { RAMPART_PROBE_TIMEOUT_MS: '5000' },
    repository: { taskLimitEnabled: true, maxTaskCount: 4 },
  });
  ({ vcsim, disks, root, t, token, repositoryId, env: serverEnv } = lab);
}, 180_000);

afterAll(async () => {
  await t?.cleanup();
  await vcsim?.stop();
  await rm(root, { recursive: true, force: true });
  if (tinyMounted) await promisify(execFile)('umount', ['-l', tinyFolder!]);
  if (tinyFolder) await rm(tinyFolder, { recursive: true, force: true });
});

let fullId: string;

describe('entire VM restore', () => {
  let incrementId: string;
  let changed: Buffer;

  it('restores a full and an incremental restore point to new VMs, byte for byte', async () => {
    const jobId = await createJob('Restore source', disks[0]!);
    fullId = await backUp(jobId);
    changed = Buffer.from(disks[0]!.content);
    changed.fill(0x5a, 3 * MiB, 3 * MiB + 4096);
    const session = await vcsimSession(vcsim);
    try {
      await writeDatastoreFile(session, disks[0]!.file, changed, changed.length);
    } finally {
      await session.logout();
    }
    incrementId = await backUp(jobId);
    expect(incrementId).not.toBe(fullId);

    const full = await runSession('POST', '/api/v1/restore/vmRestore/vmware/', vmRestoreSpec(fullId, 'restored-full'), '1.1-rev0');
    expect(full).toMatchObject({ sessionType: 'RestoreVm', resourceId: fullId });
    const fullLog = await logText(full.id);
    expect(fullLog).toMatch(/Created VM "restored-full"/);
    expect(fullLog).toMatch(/Hard disk 1 \(8 MiB\): restored to \[LocalDS_0\] /);
    expect(fullLog).toMatch(/Powering on "restored-full"/);
    expect(await vmDiskHashes(vcsim, 'restored-full')).toEqual([sha(disks[0]!.content)]);

    // 1.2 spelling: restorePointId, diskMappings, the vSphere path.
    const inc = await runSession(
      'POST',
      '/api/v1/restore/vmRestore/vSphere',
      {
        restorePointId: incrementId,
        type: 'Customized',
        folder: { vmName: 'restored-inc', folder: { platform: 'VMware', hostName: HOST, name: 'vm', type: 'Folder' } },
        datastore: { diskMappings: [{ diskName: 'Hard disk 1', datastore: { platform: 'VMware', hostName: HOST, name: 'LocalDS_0', type: 'Datastore' }, diskType: 'Source' }] },
      },
      '1.2-rev1',
    );
    expect(inc.sessionType).toBe('RestoreVm');
    expect(await vmDiskHashes(vcsim, 'restored-inc')).toEqual([sha(changed)]);
    const progress = await t.api.get(`/api/v1/sessions/${inc.id}`, { token });
    expect(progress.body.progressPercent).toBe(100);
  }, 180_000);

  it('restores an encrypted restore point with the password the vault holds, byte for byte', async () => {
    const password = await t.api.post('/api/v1/encryptionPasswords', { token, json: { password: 'Restore-Encrypt-Passw0rd', hint: 'restore test' } });
    expect(password.status, password.text).toBe(201);
    const jobId = await createJob('Encrypted restore source', disks[0]!, {
      backupModeType: 'Incremental',
      storageData: { encryption: { isEnabled: true, encryptionPasswordIdOrNull: password.body.id } },
    });
    const before = await vmDiskHashes(vcsim, disks[0]!.vm);
    const pointId = await backUp(jobId);
    // runSession waits for the session and expects Success.
    await runSession('POST', '/api/v1/restore/vmRestore/vmware/', vmRestoreSpec(pointId, 'restored-encrypted'), '1.1-rev0');
    expect(await vmDiskHashes(vcsim, 'restored-encrypted')).toEqual(before);
  }, 180_000);

  it('OriginalLocation with quickRollback writes the point back over the VM and says how many chunks differed', async () => {
    const session = await vcsimSession(vcsim);
    try {
      const damaged = Buffer.from(changed);
      damaged.fill(0x11, 6 * MiB, 6 * MiB + 100);
      await writeDatastoreFile(session, disks[0]!.file, damaged, damaged.length);
    } finally {
      await session.logout();
    }
    const res = await runSession('POST', '/api/v1/restore/vmRestore/vmware/', { objectRestorePointId: fullId, type: 'OriginalLocation', quickRollback: true, powerUp: true });
    const log = await logText(res.id);
    // The full point differs from the damaged disk in the chunk at 3 MiB (the incremental's change) and the one at 6 MiB.
    expect(log).toMatch(/quick rollback: 2 of 8 chunk\(s\) differ/);
    expect(log).toMatch(/Powering off|Powering on/);
    expect(await vmDiskHashes(vcsim, disks[0]!.vm)).toEqual([sha(disks[0]!.content)]);

    const again = await runSession('POST', '/api/v1/restore/vmRestore/vmware/', { objectRestorePointId: fullId, type: 'OriginalLocation', quickRollback: 'true' });
    expect(await logText(again.id)).toMatch(/quick rollback: 0 of 8 chunk\(s\) differ, nothing written/);
  }, 120_000);

  it('refuses bad input with a 400 naming the field, and the other revision’s path with a 404', async () => {
    const missing = '11111111-2222-3333-4444-555555555555';
    const cases: [string, unknown, RegExp][] = [
      ['1.1-rev0', { type: 'OriginalLocation' }, /objectRestorePointId/],
      ['1.1-rev0', { type: 'OriginalLocation', objectRestorePointId: missing }, /objectRestorePointId.*no restore point/],
      ['1.1-rev0', { type: 'Sideways', objectRestorePointId: fullId }, /type/],
      ['1.1-rev0', vmRestoreSpec(fullId, 'x', { powerUp: 'maybe' }), /powerUp/],
      ['1.1-rev0', vmRestoreSpec(fullId, 'x', { datastore: { datastore: { name: 'LocalDS_0' } } }), /datastore\.datastore\.hostName/],
      ['1.1-rev0', vmRestoreSpec(fullId, 'x', { datastore: { diskType: 'Wobbly' } }), /datastore\.diskType/],
      ['1.2-rev1', { type: 'OriginalLocation', restorePointId: missing }, /restorePointId/],
    ];
    for (const [version, json, pattern] of cases) {
      const url = version === '1.1-rev0' ? '/api/v1/restore/vmRestore/vmware/' : '/api/v1/restore/vmRestore/vSphere';
      const res = await t.api.post(url, { token, json, version });
      expect(res.status, res.text).toBe(400);
      expect(res.body.errorCode).toBe('UnexpectedContent');
      expect(res.body.message).toMatch(pattern);
    }
    expect((await t.api.post('/api/v1/restore/vmRestore/vSphere', { token, json: { type: 'OriginalLocation', restorePointId: fullId }, version: '1.1-rev0' })).status).toBe(404);
    expect((await t.api.post('/api/v1/restore/vmRestore/vmware', { token, json: { type: 'OriginalLocation', restorePointId: fullId }, version: '1.3-rev2' })).status).toBe(404);
    // A destination that is not there fails the session, naming it, and leaves no VM.
    const res = await t.api.post('/api/v1/restore/vmRestore/vmware/', {
      token,
      json: vmRestoreSpec(fullId, 'nowhere', { datastore: { datastore: { hostName: HOST, name: 'NoSuchDS', type: 'Datastore' } } }),
    });
    expect(res.status).toBe(201);
    const done = await finished(res.body.id);
    expect(done.result.result).toBe('Failed');
    expect(done.result.message).toMatch(/datastore: Datastore "NoSuchDS" was not found/);
    expect(await vmDiskHashes(vcsim, 'nowhere')).toBeUndefined();
  }, 60_000);

  it('a stopped restore leaves no VM behind', async () => {
    for (const delayMs of [0, 30, 80]) {
      const name = `restored-stopped-${delayMs}`;
      const res = await t.api.post('/api/v1/restore/vmRestore/vmware/', { token, json: vmRestoreSpec(fullId, name) });
      expect(res.status, res.text).toBe(201);
      await new Promise((r) => setTimeout(r, delayMs));
      await t.api.post(`/api/v1/sessions/${res.body.id}/stop`, { token });
      const done = await finished(res.body.id);
      // Either the stop came first (nothing left to undo) or the restore had finished: then the VM is complete, never half-made.
      const hashes = await vmDiskHashes(vcsim, name);
      if (done.result.result === 'Success') expect(hashes).toEqual([sha(disks[0]!.content)]);
      else expect(hashes, await logText(res.body.id)).toBeUndefined();
    }
  }, 120_000);

  it('a corrupt chunk fails the restore naming disk and offset, and the half-made VM is removed', async () => {
    const jobId = await createJob('Corrupt source', disks[1]!);
    const pointId = await backUp(jobId);
    const point = (await t.api.get(`/api/v1/objectRestorePoints/${pointId}`, { token })).body;
    const repo = path.join(root, 'repo');
    const store = await openChunkStore(localFolderBackend(repo));
    const rp = await readRestorePoint(store, { backupId: point.backupId, objectId: disks[1]!.vmRef.value, restorePointId: pointId });
    const index = await readDiskIndex(store, rp, rp.manifest.disks[0]!.key);
    // The third chunk (offset 2 MiB) gets one flipped byte.
    const digest = digestAt(index, 2);
    expect(isZeroDigest(digest)).toBe(false);
    const file = path.join(repo, chunkKey(digest));
    const blob = await readFile(file);
    blob[blob.length - 5] ^= 0xff;
    await writeFile(file, blob);

    const res = await t.api.post('/api/v1/restore/vmRestore/vmware/', { token, json: vmRestoreSpec(pointId, 'restored-corrupt') });
    expect(res.status, res.text).toBe(201);
    const done = await finished(res.body.id);
    const log = await logText(res.body.id);
    expect(done.result.result, log).toBe('Failed');
    expect(done.result.message).toMatch(/Hard disk 1/);
    expect(done.result.message).toMatch(/offset 2097152/);
    expect(log).toMatch(/Removed the partially restored VM "restored-corrupt"/);
    expect(await vmDiskHashes(vcsim, 'restored-corrupt')).toBeUndefined();
  }, 120_000);

  it('a Customized restore to a datastore without the space fails before anything is created, saying how much is needed and free', async () => {
    // A 4 MiB tmpfs as a vcsim datastore (vcsim reports a local datastore's free space from statfs); the disk is 8 MiB.
    tinyFolder = await mkdtemp(path.join(tmpdir(), 'rampart-tinyds-'));
    await promisify(execFile)('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0755', 'tmpfs', tinyFolder]);
    tinyMounted = true;
    const session = await vcsimSession(vcsim);
    try {
      const hosts = await retrieveFromContainer(session, [{ type: 'HostSystem', pathSet: ['name', 'configManager.datastoreSystem'] }]);
      const host = hosts.find((o) => stringValue(o.props.get('name')) === 'DC0_H0')!;
      const system = toMoref(host.props.get('configManager.datastoreSystem'))!;
      await session.call('CreateLocalDatastore', { _this: moref(system), name: 'TinyDS', path: tinyFolder });
    } finally {
      await session.logout();
    }
    const res = await t.api.post('/api/v1/restore/vmRestore/vmware/', {
      token,
      json: vmRestoreSpec(fullId, 'restored-tiny', { datastore: { datastore: { hostName: HOST, name: 'TinyDS', type: 'Datastore' }, diskType: 'Thin' } }),
    });
    expect(res.status, res.text).toBe(201);
    const done = await finished(res.body.id);
    const log = await logText(res.body.id);
    expect(done.result.result, log).toBe('Failed');
    expect(done.result.message).toMatch(/Datastore TinyDS has 4 MiB free; the restored disks need 8 MiB\. Nothing was created\./);
    expect(log).not.toMatch(/Creating VM/);
    expect(await vmDiskHashes(vcsim, 'restored-tiny')).toBeUndefined();
    expect(await readdir(tinyFolder)).toEqual([]);
  }, 60_000);
});

const IR_11 = '/api/v1/restore/instantRecovery/vmware/vm';
const IR_13 = '/api/v1/restore/instantRecovery/vSphere/vm';

describe('instant VM recovery', () => {
  let first: any;
  let second: any;

  it('mounts a restore point as a running VM whose disk is read from the backup; writes go to a redo file', async () => {
    const res = await t.api.post(IR_11, {
      token,
      version: '1.1-rev0',
      json: instantRecoverySpec(fullId, 'ir-one'),
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.sessionType).toBe('InstantRecovery');
    const done = await finished(res.body.id);
    const log = await logText(res.body.id);
    expect(done.result.result, `${done.result.message}\n${log}`).toBe('Success');
    expect(log).toMatch(/Mounting datastore rampart-ir-/);
    expect(log).toMatch(/Powering on "ir-one"/);
    const list = await t.api.get(`${IR_11}?stateFilter=Mounted`, { token, version: '1.1-rev0' });
    expect(list.body.pagination.total).toBe(1);
    first = list.body.data[0];
    expect(first).toMatchObject({ sessionId: res.body.id, state: 'Mounted', vmName: 'ir-one', spec: { objectRestorePointId: fullId } });
    expect(first.hostName).toBeUndefined();
    expect(first.errorMessage).toBeUndefined();
    // The VM's disk, read through the simulator's datastore API (NFS-style datastore → symlink → nbdfuse → Rampart's NBD export → chunks).
    expect(await vmDiskHashes(vcsim, 'ir-one')).toEqual([sha(disks[0]!.content)]);

    // A write lands in the redo file; the restore point is untouched.
    const staging = path.join(t.dataDir, 'ir', first.id, `rampart-ir-${first.id.slice(0, 8)}`);
    const flat = path.join(
      'ir-one',
      (await readdir(path.join(staging, 'ir-one'))).find((f) => f.endsWith('-flat.vmdk'))!,
    );
    const handle = await open(path.join(staging, flat), 'r+');
    await handle.write(Buffer.alloc(4096, 0x77), 0, 4096, 0);
    await handle.sync();
    await handle.close();
    const changed = Buffer.from(disks[0]!.content);
    changed.fill(0x77, 0, 4096);
    expect(await vmDiskHashes(vcsim, 'ir-one')).toEqual([sha(changed)]);
    const redo = path.join(t.dataDir, 'ir', 'redo');
    expect((await readdir(redo)).filter((f) => f.startsWith(first.id))).toHaveLength(1);
    const store = await openChunkStore(localFolderBackend(path.join(root, 'repo')));
    const point = (await t.api.get(`/api/v1/objectRestorePoints/${fullId}`, { token })).body;
    const rp = await readRestorePoint(store, { backupId: point.backupId, objectId: disks[0]!.vmRef.value, restorePointId: fullId });
    const reader = await openDisk(store, rp, rp.manifest.disks[0]!.key);
    expect(Buffer.from(await reader.read(0, 4096)).equals(disks[0]!.content.subarray(0, 4096))).toBe(true);
  }, 120_000);

  it('mounts the same point twice (1.3 shape, redo redirected to a cache datastore): separate redo files', async () => {
    const res = await t.api.post(IR_13, {
      token,
      version: '1.3-rev2',
      json: {
        restorePointId: fullId,
        type: 'Customized',
        secureRestore: { antivirusScanEnabled: false },
        destination: {
          restoredVmName: 'ir-two',
          destinationHost: { platform: 'VSphere', hostName: HOST, name: 'DC0_H0', type: 'Host' },
          folder: { platform: 'VSphere', hostName: HOST, name: 'vm', type: 'Folder' },
        },
        datastore: { redirectEnabled: true, cacheDatastore: { platform: 'VSphere', hostName: HOST, name: 'LocalDS_0', type: 'Datastore' } },
      },
    });
    expect(res.status, res.text).toBe(201);
    const done = await finished(res.body.id);
    expect(done.result.result, await logText(res.body.id)).toBe('Success');
    second = (await t.api.get(`${IR_13}?vmNameFilter=ir-two`, { token, version: '1.3-rev2' })).body.data[0];
    expect(second).toMatchObject({ state: 'Mounted', vmName: 'ir-two', hostName: HOST, jobName: expect.any(String), restorePointDate: expect.any(String) });
    expect((await t.api.get(`${IR_11}/${first.id}`, { token, version: '1.1-rev0' })).body.state).toBe('Mounted');
    expect(await vmDiskHashes(vcsim, 'ir-two')).toEqual([sha(disks[0]!.content)]);
    expect((await readdir(path.join(t.dataDir, 'ir', 'redo'))).filter((f) => f.startsWith(second.id))).toHaveLength(0);
    expect(await datastoreNames(vcsim)).toEqual(expect.arrayContaining([`rampart-ir-${first.id.slice(0, 8)}`, `rampart-ir-${second.id.slice(0, 8)}`]));
  }, 120_000);

  it('unmount leaves nothing behind: no VM, no datastore, no FUSE mount, no export, no redo, no folder', async () => {
    const res = await t.api.post(`${IR_11}/${first.id}/unmount`, { token, version: '1.1-rev0' });
    expect(res.status, res.text).toBe(200);
    const done = await finished(res.body.id);
    expect(done.result.result, await logText(res.body.id)).toBe('Success');
    expect((await t.api.get(`${IR_11}/${first.id}`, { token, version: '1.1-rev0' })).status).toBe(404);
    expect(await vmDiskHashes(vcsim, 'ir-one')).toBeUndefined();
    expect(await datastoreNames(vcsim)).not.toContain(`rampart-ir-${first.id.slice(0, 8)}`);
    expect(await rampartMountsUnder(path.join(t.dataDir, 'ir', first.id))).toEqual([]);
    expect(existsSync(path.join(t.dataDir, 'ir', first.id))).toBe(false);
    expect((await readdir(path.join(t.dataDir, 'ir', 'redo'))).filter((f) => f.startsWith(first.id))).toHaveLength(0);
    const socket = path.join(t.dataDir, 'ir', 'nbd.sock');
    await expect(promisify(execFile)('nbdinfo', [`nbd+unix:///ir-${first.id}-${disks[0]!.key}?socket=${socket}`])).rejects.toThrow();
    // The other mount still runs.
    expect(await vmDiskHashes(vcsim, 'ir-two')).toEqual([sha(disks[0]!.content)]);
  }, 60_000);

  it('quick migration copies the live disk to a datastore, runs the VM there and unmounts the recovery', async () => {
    const res = await t.api.post(`${IR_13}/${second.id}/migrate`, {
      token,
      version: '1.3-rev2',
      json: {
        destinationHost: { platform: 'VSphere', hostName: HOST, name: 'DC0_H0', type: 'Host' },
        datastore: { defaultDatastore: { platform: 'VSphere', hostName: HOST, name: 'LocalDS_0', type: 'Datastore' } },
      },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.sessionType).toBe('QuickMigration');
    const done = await finished(res.body.id);
    expect(done.result.result, await logText(res.body.id)).toBe('Success');
    expect(await vmDiskHashes(vcsim, 'ir-two')).toEqual([sha(disks[0]!.content)]);
    expect(await datastoreNames(vcsim)).not.toContain(`rampart-ir-${second.id.slice(0, 8)}`);
    expect((await t.api.get(`${IR_13}/${second.id}`, { token, version: '1.3-rev2' })).status).toBe(404);
    expect(await rampartMountsUnder(path.join(t.dataDir, 'ir'))).toEqual([]);
  }, 120_000);

  it('after a restart Mounted mounts are brought back with the guest’s writes (datastore and VM made again if gone); one whose redo file is gone is cleaned and Failed', async () => {
    const mountVm = async (vmName: string) => {
      const res = await t.api.post(IR_11, {
        token,
        json: instantRecoverySpec(fullId, vmName),
      });
      expect(res.status, res.text).toBe(201);
      expect((await finished(res.body.id)).result.result, await logText(res.body.id)).toBe('Success');
      return (await t.api.get(`${IR_11}?nameFilter=${vmName}`, { token })).body.data[0];
    };
    const kept = await mountVm('ir-three');
    const remade = await mountVm('ir-five');
    const lost = await mountVm('ir-four');
    const dataDir = t.dataDir;
    // The guest writes through the mount (datastore link → FUSE → NBD → redo file) and flushes.
    const written = new Map<string, Buffer>();
    for (const [mount, byte] of [
      [kept, 0x55],
      [remade, 0x66],
    ] as const) {
      const vmFolder = path.join(dataDir, 'ir', mount.id, `rampart-ir-${mount.id.slice(0, 8)}`, mount.vmName);
      const flat = path.join(
        vmFolder,
        (await readdir(vmFolder)).find((f) => f.endsWith('-flat.vmdk'))!,
      );
      const handle = await open(flat, 'r+');
      await handle.write(Buffer.alloc(8192, byte), 0, 8192, 3 * MiB);
      await handle.sync();
      await handle.close();
      const changed = Buffer.from(disks[0]!.content);
      changed.fill(byte, 3 * MiB, 3 * MiB + 8192);
      written.set(mount.id, changed);
    }
    expect(await vmDiskHashes(vcsim, 'ir-three')).toEqual([sha(written.get(kept.id)!)]);
    await t.stop();

    // While Rampart is down: ir-five's VM and datastore go from vCenter; ir-four's redo file is deleted.
    const session = await vcsimSession(vcsim);
    try {
      const vms = await retrieveFromContainer(session, [{ type: 'VirtualMachine', pathSet: ['name'] }]);
      const vm = vms.find((o) => stringValue(o.props.get('name')) === 'ir-five')!.obj;
      await powerOffVm(session, vm);
      await unregisterVm(session, vm);
      const stores = await retrieveFromContainer(session, [{ type: 'Datastore', pathSet: ['name'] }]);
      await destroyEntity(session, stores.find((o) => stringValue(o.props.get('name')) === `rampart-ir-${remade.id.slice(0, 8)}`)!.obj);
    } finally {
      await session.logout();
    }
    expect(await vmDiskHashes(vcsim, 'ir-five')).toBeUndefined();
    const redo = path.join(dataDir, 'ir', 'redo');
    const kept0 = (await readdir(redo)).filter((f) => f.startsWith(kept.id));
    expect(kept0).toHaveLength(1);
    for (const f of (await readdir(redo)).filter((f) => f.startsWith(lost.id))) await rm(path.join(redo, f));

    t = await startTestServer(serverEnv, dataDir);
    token = await t.adminToken();
    for (const mount of [kept, remade]) {
      const after = await t.api.get(`${IR_11}/${mount.id}`, { token });
      expect(after.body, JSON.stringify(after.body)).toMatchObject({ state: 'Mounted', vmName: mount.vmName });
      expect(after.body.errorMessage).toBeUndefined();
      const sessions = (await t.api.get(`/api/v1/sessions?nameFilter=${encodeURIComponent(`Resuming instant recovery of ${mount.vmName}`)}`, { token })).body.data;
      expect(sessions).toHaveLength(1);
      // Made again what was gone: a success with warnings.
      expect(sessions[0].result.result, await logText(sessions[0].id)).toBe(mount === kept ? 'Success' : 'Warning');
      // The write made before the restart is read back through the new export over the same redo file.
      expect(await vmDiskHashes(vcsim, mount.vmName)).toEqual([sha(written.get(mount.id)!)]);
    }
    const remadeSession = (await t.api.get(`/api/v1/sessions?nameFilter=${encodeURIComponent('Resuming instant recovery of ir-five')}`, { token })).body.data[0];
    const remadeLog = await logText(remadeSession.id);
    expect(remadeLog).toMatch(/Datastore rampart-ir-\S+ is gone/);
    expect(remadeLog).toMatch(/VM "ir-five" is no longer registered; registering it again/);
    expect(await datastoreNames(vcsim)).toEqual(expect.arrayContaining([`rampart-ir-${kept.id.slice(0, 8)}`, `rampart-ir-${remade.id.slice(0, 8)}`]));

    const failed = await t.api.get(`${IR_11}/${lost.id}`, { token });
    expect(failed.body.state).toBe('Failed');
    expect(failed.body.errorMessage).toMatch(/restarted[\s\S]*redo file of Hard disk 1 .* is gone/);
    const lostSession = (await t.api.get(`/api/v1/sessions?nameFilter=${encodeURIComponent('Resuming instant recovery of ir-four')}`, { token })).body.data[0];
    expect(lostSession.result.result).toBe('Failed');
    expect(await vmDiskHashes(vcsim, 'ir-four')).toBeUndefined();
    expect(await datastoreNames(vcsim)).not.toContain(`rampart-ir-${lost.id.slice(0, 8)}`);
    expect(existsSync(path.join(dataDir, 'ir', lost.id))).toBe(false);
    expect(await rampartMountsUnder(path.join(dataDir, 'ir', lost.id))).toEqual([]);

    // A resumed mount unmounts like any other: nothing left, its redo file included.
    for (const mount of [kept, remade]) {
      const res = await t.api.post(`${IR_11}/${mount.id}/unmount`, { token });
      expect(res.status, res.text).toBe(200);
      expect((await finished(res.body.id)).result.result, await logText(res.body.id)).toBe('Success');
      expect(await vmDiskHashes(vcsim, mount.vmName)).toBeUndefined();
      expect(existsSync(path.join(dataDir, 'ir', mount.id))).toBe(false);
    }
    expect(await rampartMountsUnder(path.join(dataDir, 'ir'))).toEqual([]);
    expect((await readdir(redo)).filter((f) => f.startsWith(kept.id) || f.startsWith(remade.id))).toEqual([]);
  }, 240_000);
});

describe('published NBD export of a restore point', () => {
  it('serves the disk read-only to nbdcopy and qemu-img until it expires; only for an authenticated caller', async () => {
    const url = `/api/v1/rampart/restorePoints/${fullId}/nbdExport`;
    expect((await t.api.post(url, { json: { ttlMinutes: 1 } })).status).toBe(401);
    expect((await t.api.post(url, { token, json: { ttlMinutes: 0 } })).status).toBe(400);
    const res = await t.api.post(url, { token, json: { ttlMinutes: 0.05 } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.disks).toEqual([{ name: 'Hard disk 1', capacity: 8 * MiB, uri: expect.stringMatching(/^nbd\+unix:\/\/\//) }]);
    const uri = res.body.disks[0].uri as string;
    const run = promisify(execFile);
    const out = path.join(root, 'exported.qcow2');
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', uri, out]);
    const raw = path.join(root, 'exported.raw');
    await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', out, raw]);
    expect(sha(await readFile(raw))).toBe(sha(disks[0]!.content));
    const copied = path.join(root, 'copied.raw');
    await run('nbdcopy', [uri, copied]);
    expect(sha(await readFile(copied))).toBe(sha(disks[0]!.content));
    // Read-only: the export says so to every client.
    expect((await run('nbdinfo', [uri])).stdout).toMatch(/is_read_only: true/);
    await new Promise((r) => setTimeout(r, 3500));
    await expect(run('nbdinfo', [uri])).rejects.toThrow();
  }, 60_000);
});

describe('instant recovery for real ESXi hosts (RAMPART_IR_NFS_HOST)', () => {
  it('reads RAMPART_IR_NFS_HOST and RAMPART_IR_NFS_VERSION, refusing what a host could not mount', () => {
    const base = { RAMPART_DATA_DIR: '/nonexistent' };
    expect(loadConfig(base).instantRecoveryNfs).toBeUndefined();
    expect(loadConfig({ ...base, RAMPART_IR_NFS_HOST: ' rampart.example ' }).instantRecoveryNfs).toEqual({ host: 'rampart.example', version: 3 });
    expect(loadConfig({ ...base, RAMPART_IR_NFS_HOST: 'fd00::5', RAMPART_IR_NFS_VERSION: '4' }).instantRecoveryNfs).toEqual({ host: 'fd00::5', version: 4 });
    expect(() => loadConfig({ ...base, RAMPART_IR_NFS_HOST: 'a host' })).toThrow(/RAMPART_IR_NFS_HOST/);
    expect(() => loadConfig({ ...base, RAMPART_IR_NFS_HOST: 'h', RAMPART_IR_NFS_VERSION: '2' })).toThrow(/RAMPART_IR_NFS_VERSION/);
  });

  it('CreateNasDatastore asks the host to mount <nfs host>:<staging folder> under the datastore name; vcsim cannot, and the mount fails leaving nothing', async () => {
    // The SOAP calls are seen through a TLS forwarder in front of the simulator (its own certificate, registered as managed server "localhost").
    const material = await makeTlsMaterial('ec', { cn: 'localhost' });
    const seen: string[] = [];
    const sockets = new Set<net.Socket>();
    const forwarder = tls.createServer({ cert: material.certPem, key: material.keyPem }, (socket) => {
      const upstream = tls.connect({ host: '127.0.0.1', port: vcsim.port, rejectUnauthorized: false });
      for (const s of [socket, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
      }
      socket.on('data', (d: Buffer) => seen.push(d.toString('latin1')));
      socket.pipe(upstream).pipe(socket);
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
    });
    await new Promise<void>((resolve) => forwarder.listen(0, '::', resolve));
    try {
      const dataDir = t.dataDir;
      await t.stop();
      t = await startTestServer({ ...serverEnv, RAMPART_IR_NFS_HOST: '192.0.2.10' }, dataDir);
      token = await t.adminToken();
      const creds = await t.api.post('/api/v1/credentials', {
        token,
        json: { type: 'Standard', username: vcsim.username, password: vcsim.password, description: 'via forwarder' },
      });
      expect(creds.status, creds.text).toBe(201);
      await runSession('POST', '/api/v1/backupInfrastructure/managedServers', {
        name: 'localhost',
        description: 'vcsim behind a recording forwarder',
        type: 'ViHost',
        credentialsId: creds.body.id,
        port: (forwarder.address() as net.AddressInfo).port,
        certificateThumbprint: new X509Certificate(material.leafPem).fingerprint,
      });
      const at = (type: string, name: string) => ({ hostName: 'localhost', name, type });
      const res = await t.api.post(IR_11, {
        token,
        json: {
          objectRestorePointId: fullId,
          type: 'Customized',
          secureRestore: { enableAntivirusScan: false },
          destination: {
            restoredVmName: 'ir-nfs',
            destinationHost: at('Host', 'DC0_H0'),
            folder: at('Folder', 'vm'),
            resourcePool: at('ResourcePool', 'Resources'),
            biosUuidPolicy: 'preserve',
          },
          datastore: { redirectIsEnabled: false },
        },
      });
      expect(res.status, res.text).toBe(201);
      const done = await finished(res.body.id);
      const mount = (await t.api.get(`${IR_11}?nameFilter=ir-nfs`, { token })).body.data[0];
      const name = `rampart-ir-${mount.id.slice(0, 8)}`;
      const staging = path.join(dataDir, 'ir', mount.id, name);
      const call = seen.join('').match(/<CreateNasDatastore[\s\S]*?<\/CreateNasDatastore>/)?.[0];
      expect(call, 'no CreateNasDatastore call seen').toBeDefined();
      expect(call).toContain('<remoteHost>192.0.2.10</remoteHost>');
      expect(call).toContain(`<remotePath>${staging}</remotePath>`);
      expect(call).toContain(`<localPath>${name}</localPath>`);
      expect(call).toContain('<type>NFS</type>');
      // vcsim only mounts folders of its own machine: the call fails there, as on a host that cannot reach the export.
      expect(done.result.result).toBe('Failed');
      expect(mount.state).toBe('Failed');
      expect(await logText(res.body.id)).toMatch(/Mounting datastore rampart-ir-\S+ \(192\.0\.2\.10:\//);
      expect(await vmDiskHashes(vcsim, 'ir-nfs')).toBeUndefined();
      expect(await datastoreNames(vcsim)).not.toContain(name);
      expect(existsSync(path.join(dataDir, 'ir', mount.id))).toBe(false);
      expect(await rampartMountsUnder(path.join(dataDir, 'ir'))).toEqual([]);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => forwarder.close(() => resolve()));
    }
  }, 120_000);
});
