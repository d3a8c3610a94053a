import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { openDisk, type ChunkStore, type DiskReader, type ManifestDisk, type OpenedRestorePoint } from '../chunkstore/index.js';
import type { SessionContext } from '../sessions/runner.js';
import { logStep } from '../sessions/steps.js';
import { readDatastoreFile, statDatastoreFile, writeDatastoreFile, type DatastoreFile } from '../vsphere/datastore-files.js';
import { retrieveFromContainer, stringValue } from '../vsphere/property-collector.js';
import type { VsphereSession } from '../vsphere/session.js';
import { captureVmConfig, type VirtualDiskInfo, type VmConfig } from '../vsphere/vm-config.js';
import { createVm, destroyEntity, powerOffVm, powerOnVm } from '../vsphere/vm-lifecycle.js';
import { typed, type ManagedObjectReference, type SoapObject } from '../vsphere/xml.js';
import { formatBytes } from './bytes.js';

/** Where a Customized restore builds the VM (everything already resolved to managed objects). */
export interface CustomizedTarget {
  kind: 'Customized';
  vmName: string;
  folder: ManagedObjectReference;
  pool: ManagedObjectReference;
  host?: ManagedObjectReference;
  datastore: string;
  /** EDiskCreationMode: Source keeps each disk's provisioning as captured. */
  diskType: 'Source' | 'Thick' | 'Thin' | 'ThickEagerZeroed';
  /** Network name the NIC joins; none when absent or `disconnected`. */
  network?: string;
  disconnected?: boolean;
}

export interface OriginalTarget {
  kind: 'OriginalLocation';
  vm: ManagedObjectReference;
  quickRollback: boolean;
}

export interface EntireVmRestoreInput {
  ctx: SessionContext;
  session: VsphereSession;
  store: ChunkStore;
  point: OpenedRestorePoint;
  target: CustomizedTarget | OriginalTarget;
  powerUp: boolean;
}

export interface EntireVmRestoreResult {
  vm: ManagedObjectReference;
  bytesWritten: number;
}

/** The VM configuration the backup captured (mover/vsphere-backup.ts writes it into the manifest's `object`). */
export function capturedConfig(point: OpenedRestorePoint): VmConfig {
  const object = point.manifest.object as { config?: VmConfig } | undefined;
  if (!object?.config) throw new Error(`Restore point ${point.ref.restorePointId} carries no VM configuration: it was not written by a vSphere backup.`);
  return object.config;
}

/**
 * A whole VM back from a restore point: to a new VM (Customized: CreateVM_Task
 * with the captured hardware, then each disk PUT through the datastore file API
 * from the verified chunk reader) or over the original VM (power off, write
 * back, power on). A failure or a stop deletes the VM a Customized restore
 * made; the original VM of an OriginalLocation restore is never deleted.
 */
export async function restoreEntireVm(input: EntireVmRestoreInput): Promise<EntireVmRestoreResult> {
  return input.target.kind === 'Customized' ? restoreToNewVm(input, input.target) : restoreOverOriginal(input, input.target);
}

function diskBacking(disk: VirtualDiskInfo, diskType: CustomizedTarget['diskType'], datastore: string) {
  const thin = diskType === 'Source' ? (disk.thinProvisioned ?? true) : diskType === 'Thin';
  return typed('VirtualDiskFlatVer2BackingInfo', {
    // An empty path: the server names the file after the VM in the VM's folder.
    fileName: `[${datastore}]`,
    diskMode: disk.diskMode ?? 'persistent',
    thinProvisioned: thin,
    eagerlyScrub: diskType === 'ThickEagerZeroed' ? true : undefined,
  });
}

/** CreateVM_Task's spec: the captured CPU, memory and guest, one SCSI controller, the captured disks (sizes), and a NIC on the chosen network. */
export function newVmSpec(config: VmConfig, target: CustomizedTarget): SoapObject {
  const controllerKey = -100;
  const devices = [
    typed('VirtualDeviceConfigSpec', {
      operation: 'add',
      device: typed('VirtualLsiLogicController', { key: controllerKey, busNumber: 0, sharedBus: 'noSharing' }),
    }),
    ...config.disks.map((disk, i) =>
      typed('VirtualDeviceConfigSpec', {
        operation: 'add',
        fileOperation: 'create',
        device: typed('VirtualDisk', {
          key: -200 - i,
          backing: diskBacking(disk, target.diskType, target.datastore),
          controllerKey,
          // Unit 7 is the controller's own.
          unitNumber: i < 7 ? i : i + 1,
          capacityInKB: Math.ceil(disk.capacityInBytes / 1024),
        }),
      }),
    ),
  ];
  if (target.network && !target.disconnected) {
    devices.push(
      typed('VirtualDeviceConfigSpec', {
        operation: 'add',
        device: typed('VirtualVmxnet3', {
          key: -300,
          backing: typed('VirtualEthernetCardNetworkBackingInfo', { deviceName: target.network }),
          addressType: 'generated',
        }),
      }),
    );
  }
  return {
    name: target.vmName,
    guestId: config.guestId ?? 'otherGuest64',
    files: typed('VirtualMachineFileInfo', { vmPathName: `[${target.datastore}]` }),
    numCPUs: config.numCpu,
    numCoresPerSocket: config.numCoresPerSocket,
    memoryMB: config.memoryMB,
    deviceChange: devices,
  };
}

async function restoreToNewVm(input: EntireVmRestoreInput, target: CustomizedTarget): Promise<EntireVmRestoreResult> {
  const { ctx, session, point } = input;
  const config = capturedConfig(point);
  if (config.disks.length !== point.manifest.disks.length)
    throw new Error(`Restore point ${point.ref.restorePointId} holds ${point.manifest.disks.length} disk(s) but its configuration lists ${config.disks.length}.`);
  await checkFreeSpace(
    session,
    target.datastore,
    config.disks.reduce((sum, d) => sum + d.capacityInBytes, 0),
  );
  const record = await ctx.log(`Creating VM "${target.vmName}" on datastore ${target.datastore}`, 'None');
  const vm = await createVm(session, { folder: target.folder, pool: target.pool, host: target.host }, newVmSpec(config, target), ctx.signal);
  await ctx.updateLog(record, 'Succeeded', `Created VM "${target.vmName}"`, vm.value);
  try {
    const created = await captureVmConfig(session, vm);
    const total = point.manifest.disks.reduce((s, d) => s + d.capacity, 0) || 1;
    let done = 0;
    for (const [i, disk] of point.manifest.disks.entries()) {
      const dest = created.disks[i];
      if (!dest) throw new Error(`The new VM "${target.vmName}" has no disk ${i + 1} to restore ${disk.name} into.`);
      const file = { datacenter: created.datacenter, datastore: dest.datastore.name, path: dest.flatPath };
      await writeDiskLogged(input, disk, file, (bytes) => void ctx.progress(((done + bytes) / total) * 100).catch(() => undefined));
      done += disk.capacity;
    }
    if (input.powerUp) await logStep(ctx, `Powering on "${target.vmName}"`, () => powerOnVm(session, vm, ctx.signal));
    return { vm, bytesWritten: done };
  } catch (err) {
    // The half-made VM goes, even after a stop (hence no signal here).
    const cleanup = await ctx.log(`Removing the partially restored VM "${target.vmName}"`, 'None').catch(() => undefined);
    try {
      await powerOffVm(session, vm).catch(() => undefined);
      await destroyEntity(session, vm);
      if (cleanup !== undefined) await ctx.updateLog(cleanup, 'Succeeded', `Removed the partially restored VM "${target.vmName}"`, vm.value);
    } catch (e) {
      if (cleanup !== undefined) await ctx.updateLog(cleanup, 'Warning', `Could not remove VM "${target.vmName}"`, (e as Error).message).catch(() => undefined);
    }
    throw err;
  }
}

/** Fails before anything is created when the datastore reports less free space than the disks' capacity. */
async function checkFreeSpace(session: VsphereSession, datastore: string, needed: number): Promise<void> {
  const all = await retrieveFromContainer(session, [{ type: 'Datastore', pathSet: ['name', 'summary.freeSpace'] }]);
  const found = all.find((o) => stringValue(o.props.get('name')) === datastore);
  const free = Number(stringValue(found?.props.get('summary.freeSpace')) ?? NaN);
  if (Number.isFinite(free) && free < needed)
    throw new Error(`Datastore ${datastore} has ${formatBytes(free)} free; the restored disks need ${formatBytes(needed)}. Nothing was created.`);
}

async function restoreOverOriginal(input: EntireVmRestoreInput, target: OriginalTarget): Promise<EntireVmRestoreResult> {
  const { ctx, session, point } = input;
  const current = await captureVmConfig(session, target.vm);
  if (current.powerState === 'poweredOn') await logStep(ctx, `Powering off "${current.name}"`, () => powerOffVm(session, target.vm, ctx.signal));
  const total = point.manifest.disks.reduce((s, d) => s + d.capacity, 0) || 1;
  let done = 0;
  let written = 0;
  for (const [i, disk] of point.manifest.disks.entries()) {
    const dest = current.disks.find((d) => String(d.key) === disk.key) ?? current.disks[i];
    if (!dest) throw new Error(`VM "${current.name}" no longer has a disk to restore ${disk.name} into (key ${disk.key}).`);
    const file = { datacenter: current.datacenter, datastore: dest.datastore.name, path: dest.flatPath };
    const onBytes = (bytes: number) => void ctx.progress(((done + bytes) / total) * 100).catch(() => undefined);
    if (target.quickRollback) {
      const differing = await differingChunks(input, disk, file);
      if (differing.count === 0) {
        await ctx.log(`${disk.name}: quick rollback: 0 of ${differing.of} chunk(s) differ, nothing written`, 'Succeeded');
        done += disk.capacity;
        continue;
      }
      // The datastore file API replaces a whole file (no ranged PUT): the disk is rewritten, the log says how much actually changed.
      await ctx.log(
        `${disk.name}: quick rollback: ${differing.count} of ${differing.of} chunk(s) differ from the current disk`,
        'Succeeded',
        `${formatBytes(differing.bytes)} changed`,
      );
    }
    await writeDiskLogged(input, disk, file, onBytes);
    written += disk.capacity;
    done += disk.capacity;
  }
  if (input.powerUp) await logStep(ctx, `Powering on "${current.name}"`, () => powerOnVm(session, target.vm, ctx.signal));
  return { vm: target.vm, bytesWritten: written };
}

/** Chunk-by-chunk comparison of the restore point's disk with the VM's current one (SHA-256 of each side). */
async function differingChunks(input: EntireVmRestoreInput, disk: ManifestDisk, file: DatastoreFile): Promise<{ count: number; of: number; bytes: number }> {
  const { session, ctx } = input;
  const reader = await openDisk(input.store, input.point, disk.key);
  const fileSize = await statDatastoreFile(session, file, ctx.signal).catch(() => 0);
  let count = 0;
  let bytes = 0;
  let offset = 0;
  let of = 0;
  for await (const chunk of reader.stream({ signal: ctx.signal })) {
    const current = Buffer.alloc(chunk.length);
    const end = Math.min(offset + chunk.length, fileSize);
    if (end > offset) {
      const { stream } = await readDatastoreFile(session, file, { start: offset, end }, ctx.signal);
      let got = 0;
      for await (const part of stream) got += (part as Buffer).copy(current, got);
    }
    const digest = (b: Buffer) => createHash('sha256').update(b).digest();
    if (!digest(current).equals(digest(chunk))) {
      count++;
      bytes += chunk.length;
    }
    offset += chunk.length;
    of++;
  }
  return { count, of, bytes };
}

async function writeDiskLogged(input: EntireVmRestoreInput, disk: ManifestDisk, file: DatastoreFile, onBytes: (bytes: number) => void): Promise<void> {
  const { ctx } = input;
  const title = `${disk.name} (${formatBytes(disk.capacity)})`;
  const record = await ctx.log(`${title}: restoring to [${file.datastore}] ${file.path}`, 'None');
  const started = Date.now();
  try {
    const reader = await openDisk(input.store, input.point, disk.key);
    await putDisk(input, reader, file, onBytes);
    const seconds = Math.max(0.001, (Date.now() - started) / 1000);
    await ctx.updateLog(record, 'Succeeded', `${title}: restored to [${file.datastore}] ${file.path}`, `${formatBytes(reader.size / seconds)}/s`);
  } catch (err) {
    await ctx.updateLog(record, 'Failed', `${title}: restore failed`, (err as Error).message).catch(() => undefined);
    throw err;
  }
}

/** Streams the verified disk into one PUT; a bad chunk fails the PUT with the chunk store's own error (disk and offset). */
async function putDisk(input: EntireVmRestoreInput, reader: DiskReader, file: DatastoreFile, onBytes: (bytes: number) => void): Promise<void> {
  let sourceError: unknown;
  let sent = 0;
  async function* verified() {
    try {
      for await (const chunk of reader.stream({ readAhead: 4, signal: input.ctx.signal })) {
        sent += chunk.length;
        onBytes(sent);
        yield chunk;
      }
    } catch (err) {
      sourceError = err;
      throw err;
    }
  }
  try {
    await writeDatastoreFile(input.session, file, Readable.from(verified(), { objectMode: false }), reader.size, input.ctx.signal);
  } catch (err) {
    throw sourceError ?? err;
  }
}
