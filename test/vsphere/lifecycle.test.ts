import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datastoreFileUrlPath, writeDatastoreFile } from '../../src/vsphere/datastore-files.js';
import { createNasDatastore, registerDisk } from '../../src/vsphere/datastores.js';
import { VsphereError } from '../../src/vsphere/errors.js';
import { morefValue, retrieveFromContainer, retrieveObject } from '../../src/vsphere/property-collector.js';
import type { VsphereSession } from '../../src/vsphere/session.js';
import { captureVmConfig } from '../../src/vsphere/vm-config.js';
import { createVm, destroyEntity, powerOffVm, powerOnVm, reconfigureVm } from '../../src/vsphere/vm-lifecycle.js';
import { text, typed } from '../../src/vsphere/xml.js';
import { haveGo, startVcsim, vcsimSession, type Vcsim } from '../support/vcsim.js';

/** The restore side's building blocks against vcsim: power, create, reconfigure, destroy. */
describe.skipIf(!haveGo)('VM lifecycle against vcsim', () => {
  let vcsim: Vcsim;
  let session: VsphereSession;
  beforeAll(async () => {
    vcsim = await startVcsim();
    session = await vcsimSession(vcsim);
  });
  afterAll(async () => {
    await session?.logout();
    await vcsim?.stop();
  });

  const powerState = async (vm: { type: string; value: string }) => text((await retrieveObject(session, vm, ['runtime.powerState']))?.props.get('runtime.powerState'));

  it('powers a VM off and on; powering off twice is a fault named for people', async () => {
    const [vm] = await retrieveFromContainer(session, [{ type: 'VirtualMachine', pathSet: ['name'] }]);
    await powerOffVm(session, vm!.obj);
    expect(await powerState(vm!.obj)).toBe('poweredOff');
    const again = await powerOffVm(session, vm!.obj).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(VsphereError);
    expect((again as VsphereError).kind).toBe('InvalidPowerState');
    await powerOnVm(session, vm!.obj);
    expect(await powerState(vm!.obj)).toBe('poweredOn');
  });

  it('creates a VM with a disk, adds a second disk, and destroys it', async () => {
    const [dc] = await retrieveFromContainer(session, [{ type: 'Datacenter', pathSet: ['vmFolder'] }]);
    const folder = morefValue(dc!.props.get('vmFolder'))!;
    const hosts = await retrieveFromContainer(session, [{ type: 'HostSystem', pathSet: ['name', 'parent'] }]);
    const host = hosts.find((h) => text(h.props.get('name')) === 'DC0_H0')!;
    const compute = morefValue(host.props.get('parent'))!;
    const pool = morefValue((await retrieveObject(session, compute, ['resourcePool']))!.props.get('resourcePool'))!;

    const scsi = typed('VirtualDeviceConfigSpec', { operation: 'add', device: typed('ParaVirtualSCSIController', { key: -100, busNumber: 0, sharedBus: 'noSharing' }) });
    const disk = (key: number, unit: number, sizeKb: number) =>
      typed('VirtualDeviceConfigSpec', {
        operation: 'add',
        fileOperation: 'create',
        device: typed('VirtualDisk', {
          key,
          backing: typed('VirtualDiskFlatVer2BackingInfo', { fileName: '[LocalDS_0]', diskMode: 'persistent', thinProvisioned: true }),
          controllerKey: -100,
          unitNumber: unit,
          capacityInKB: sizeKb,
        }),
      });
    const vm = await createVm(
      session,
      { folder, pool, host: host.obj },
      { name: 'restored-vm', guestId: 'otherGuest64', files: { vmPathName: '[LocalDS_0]' }, numCPUs: 2, memoryMB: 256, deviceChange: [scsi, disk(-101, 0, 2048)] },
    );
    let config = await captureVmConfig(session, vm);
    expect(config).toMatchObject({ name: 'restored-vm', guestId: 'otherGuest64', numCpu: 2, memoryMB: 256, datacenter: 'DC0' });
    expect(config.disks.map((d) => d.capacityInBytes)).toEqual([2048 * 1024]);

    const controllerKey = config.controllers.find((c) => c.type === 'ParaVirtualSCSIController')!.key;
    await reconfigureVm(session, vm, {
      deviceChange: typed('VirtualDeviceConfigSpec', {
        operation: 'add',
        fileOperation: 'create',
        device: typed('VirtualDisk', {
          key: -1,
          backing: typed('VirtualDiskFlatVer2BackingInfo', { fileName: '[LocalDS_0]', diskMode: 'persistent', thinProvisioned: true }),
          controllerKey,
          unitNumber: 1,
          capacityInKB: 4096,
        }),
      }),
    });
    config = await captureVmConfig(session, vm);
    expect(config.disks.map((d) => d.capacityInBytes).sort((a, b) => a - b)).toEqual([2048 * 1024, 4096 * 1024]);

    await destroyEntity(session, vm);
    const gone = await captureVmConfig(session, vm).catch((e: unknown) => e);
    expect((gone as VsphereError).kind).toBe('ManagedObjectNotFound');
  });

  it('mounts a folder as an NFS datastore, writes a disk file there and registers it as a first-class disk', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rampart-nfs-'));
    try {
      const hosts = await retrieveFromContainer(session, [{ type: 'HostSystem', pathSet: ['name'] }]);
      const host = hosts.find((h) => text(h.props.get('name')) === 'DC0_H0')!.obj;
      const ds = await createNasDatastore(session, host, { remoteHost: '127.0.0.1', remotePath: '/rampart/export', localPath: dir });
      const name = text((await retrieveObject(session, ds, ['name']))?.props.get('name'));
      expect(name).toBe(path.basename(dir));
      const content = Buffer.alloc(64 * 1024, 3);
      await writeDatastoreFile(session, { datacenter: 'DC0', datastore: name, path: 'restore/disk.vmdk' }, content, content.length);
      expect(await readFile(path.join(dir, 'restore', 'disk.vmdk'))).toEqual(content);
      const url = `https://127.0.0.1:${vcsim.port}${datastoreFileUrlPath({ datacenter: 'DC0', datastore: name, path: 'restore/disk.vmdk' })}`;
      expect(await registerDisk(session, url, 'restored-disk')).not.toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
