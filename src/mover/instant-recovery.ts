import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openDisk, type ChunkStore, type OpenedRestorePoint } from '../chunkstore/index.js';
import { CopyOnWriteOverlay, mountExportAsFile, type FuseMount, type NbdServer } from '../nbd/index.js';
import type { SessionContext } from '../sessions/runner.js';
import { logStep } from '../sessions/steps.js';
import { createNasDatastore, deleteDisk, type NasDatastoreSpec } from '../vsphere/datastores.js';
import { writeDatastoreFile } from '../vsphere/datastore-files.js';
import type { VsphereSession } from '../vsphere/session.js';
import { captureVmConfig } from '../vsphere/vm-config.js';
import { destroyEntity, powerOffVm, powerOnVm, reconfigureVm, registerVm, unregisterVm } from '../vsphere/vm-lifecycle.js';
import { typed, type ManagedObjectReference } from '../vsphere/xml.js';
import { formatBytes } from './bytes.js';

/**
 * Instant VM recovery (docs/restore.md §2): each disk of the restore point is
 * served by Rampart's NBD server through a copy-on-write overlay (the
 * repository is never written; writes go to a redo file), mounted as a file
 * with nbdfuse, staged with the VM's files in a folder that the host mounts as
 * an NFS-style datastore; the VM is registered there, its disks attached and
 * it is powered on. Nothing is copied, so mounting takes the same time for
 * any disk size.
 */

export interface MountPlace {
  host: ManagedObjectReference;
  pool: ManagedObjectReference;
  folder: ManagedObjectReference;
  vmName: string;
  /** Folder of this machine that holds the redo files (the cache datastore's folder when redirected). */
  redoFolder: string;
  powerUp: boolean;
  /** This machine's NFS server for real ESXi hosts; unset, the host mounts the folder as a local path (the simulator). */
  nfs?: NfsExport;
}

/** What a mount made, kept (as JSON) so unmount, migrate and a restart can undo it. */
export interface MountRecord {
  folder: string;
  stagingFolder: string;
  datastoreName: string;
  datastore?: ManagedObjectReference;
  vm?: ManagedObjectReference;
  exports: string[];
  redoFiles: string[];
  disks: { key: string; name: string; capacity: number; descriptor: string }[];
  /** First-class disks registered on the mount's datastore (instant FCD recovery). */
  fcds?: { id: string; name: string; nameInBackup: string; mountedDiskName: string }[];
  /** The host that mounts the datastore and the CreateNasDatastore spec sent: a restart mounts it again if it is gone. */
  host?: ManagedObjectReference;
  nas?: NasDatastoreSpec;
  /** Where the VM was registered: a restart registers it again if it is gone. */
  vmPlace?: { pool: ManagedObjectReference; folder: ManagedObjectReference; vmName: string; powerUp: boolean };
}

/** Live parts of a mount held by this process (FUSE mounts, overlays). */
export interface LiveMount {
  record: MountRecord;
  overlays: CopyOnWriteOverlay[];
  fuse: FuseMount[];
}

/** A folder name for the VM (a name may hold characters a path must not). */
function vmFolderName(vmName: string): string {
  return vmName.replace(/[/\\\0]/g, '_') || 'vm';
}

export function descriptorText(flatName: string, capacity: number): string {
  const sectors = Math.ceil(capacity / 512);
  return [
    '# Disk DescriptorFile',
    'version=1',
    'CID=fffffffe',
    'parentCID=ffffffff',
    'createType="vmfs"',
    '',
    `RW ${sectors} VMFS "${flatName}"`,
    '',
    'ddb.adapterType = "lsilogic"',
    '',
  ].join('\n');
}

/** The (empty) parts of a new mount: the caller holds it, so a mount that fails half-way can still be undone. */
export function newLiveMount(workFolder: string, mountId: string): LiveMount {
  // vcsim names a NAS datastore after the basename of its local path: one unique name per mount.
  const datastoreName = `rampart-ir-${mountId.slice(0, 8)}`;
  const folder = path.join(workFolder, mountId);
  return { record: { folder, stagingFolder: path.join(folder, datastoreName), datastoreName, exports: [], redoFiles: [], disks: [] }, overlays: [], fuse: [] };
}

export async function mountRestorePoint(
  ctx: SessionContext,
  input: { session: VsphereSession; nbd: NbdServer; store: ChunkStore; point: OpenedRestorePoint; mountId: string; place: MountPlace },
  live: LiveMount,
  onRecord: (record: MountRecord) => Promise<void>,
): Promise<LiveMount> {
  const { session, nbd, point, mountId, place } = input;
  const { stagingFolder } = live.record;
  const vmName = place.vmName;
  // The VM's files sit in a folder of their own on the datastore (`[ds] vm/vm.vmx`): a vmx at the datastore's root has no log directory.
  const vmFolder = path.join(stagingFolder, vmFolderName(vmName));
  await mkdir(vmFolder, { recursive: true, mode: 0o700 });
  await mkdir(place.redoFolder, { recursive: true, mode: 0o700 });
  await onRecord(live.record);
  for (const [i, disk] of point.manifest.disks.entries()) {
    ctx.signal.throwIfAborted();
    const descriptor = `${vmName}_${i}.vmdk`;
    await stageDisk(ctx, { nbd, store: input.store, point, mountId, redoFolder: place.redoFolder }, live, disk, {
      dir: vmFolder,
      descriptor,
      datastorePath: `${vmFolderName(vmName)}/${descriptor}`,
    });
    await onRecord(live.record);
  }
  // RegisterVM wants the .vmx, .nvram and vmware.log in place.
  await writeFile(path.join(vmFolder, `${vmName}.vmx`), `.encoding = "UTF-8"\ndisplayName = "${vmName.replace(/"/g, '')}"\nconfig.version = "8"\n`);
  await writeFile(path.join(vmFolder, `${vmName}.nvram`), '');
  await writeFile(path.join(vmFolder, 'vmware.log'), '');

  live.record.host = place.host;
  live.record.nas = nasDatastoreSpec(live.record, mountId, place.nfs);
  live.record.vmPlace = { pool: place.pool, folder: place.folder, vmName, powerUp: place.powerUp };
  await mountNasDatastore(ctx, session, live.record);
  await onRecord(live.record);
  await registerRecoveredVm(ctx, session, live.record, onRecord);
  return live;
}

/**
 * Where the host finds the staging folder. Without an NFS server named (`nfs` unset: the
 * simulator, whose NAS datastores are folders of this machine), `localPath` is the folder
 * itself. With one, the host mounts `<nfs.host>:<staging folder>` (exported by this machine,
 * docs/restore.md "Real ESXi hosts") and `localPath` is the datastore's name, as vSphere reads it.
 */
export function nasDatastoreSpec(record: MountRecord, mountId: string, nfs?: NfsExport): NasDatastoreSpec {
  if (!nfs) return { remoteHost: 'rampart', remotePath: `/rampart/ir/${mountId}`, localPath: record.stagingFolder };
  return { remoteHost: nfs.host, remotePath: record.stagingFolder, localPath: record.datastoreName, type: nfs.version === 4 ? 'NFS41' : 'NFS' };
}

/** This machine's NFS server, as ESXi hosts reach it (RAMPART_IR_NFS_HOST, RAMPART_IR_NFS_VERSION). */
export interface NfsExport {
  host: string;
  version: 3 | 4;
}

export async function mountNasDatastore(ctx: SessionContext, session: VsphereSession, record: MountRecord): Promise<void> {
  const { host, nas } = record;
  if (!host || !nas) throw new Error('the mount does not say which host mounts its datastore');
  record.datastore = await logStep(ctx, `Mounting datastore ${record.datastoreName} (${nas.remoteHost}:${nas.remotePath})`, () => createNasDatastore(session, host, nas));
}

/** RegisterVM on the mount's datastore, a SCSI controller and the staged disks attached, powered on when asked. */
export async function registerRecoveredVm(ctx: SessionContext, session: VsphereSession, record: MountRecord, onRecord: (record: MountRecord) => Promise<void>): Promise<void> {
  const place = record.vmPlace;
  if (!place || !record.host) throw new Error('the mount does not say where its VM was registered');
  const { vmName } = place;
  const { datastoreName } = record;
  record.vm = await logStep(ctx, `Registering VM "${vmName}"`, () =>
    registerVm(session, { folder: place.folder, pool: place.pool, host: record.host! }, `[${datastoreName}] ${vmFolderName(vmName)}/${vmName}.vmx`, vmName, ctx.signal),
  );
  await onRecord(record);
  await logStep(ctx, `Attaching ${record.disks.length} disk(s)`, () =>
    reconfigureVm(
      session,
      record.vm!,
      {
        deviceChange: [
          typed('VirtualDeviceConfigSpec', { operation: 'add', device: typed('VirtualLsiLogicController', { key: -100, busNumber: 1, sharedBus: 'noSharing' }) }),
          ...record.disks.map((d, i) =>
            typed('VirtualDeviceConfigSpec', {
              operation: 'add',
              device: typed('VirtualDisk', {
                key: -200 - i,
                backing: typed('VirtualDiskFlatVer2BackingInfo', { fileName: `[${datastoreName}] ${d.descriptor}`, diskMode: 'persistent' }),
                controllerKey: -100,
                unitNumber: i < 7 ? i : i + 1,
                capacityInKB: Math.ceil(d.capacity / 1024),
              }),
            }),
          ),
        ],
      },
      ctx.signal,
    ),
  );
  if (place.powerUp) await logStep(ctx, `Powering on "${vmName}"`, () => powerOnVm(session, record.vm!, ctx.signal));
}

/**
 * One disk of the restore point, served through a copy-on-write overlay by the NBD server,
 * mounted as a file with nbdfuse and linked as `<dir>/<name>-flat.vmdk` beside its descriptor.
 */
export async function stageDisk(
  ctx: SessionContext,
  input: { nbd: NbdServer; store: ChunkStore; point: OpenedRestorePoint; mountId: string; redoFolder: string },
  live: LiveMount,
  disk: { key: string; name: string; capacity: number },
  at: { dir: string; descriptor: string; datastorePath: string },
): Promise<void> {
  const { nbd, mountId } = input;
  const record = await ctx.log(`${disk.name} (${formatBytes(disk.capacity)}): publishing from the backup`, 'None');
  const reader = await openDisk(input.store, input.point, disk.key);
  const redoPath = path.join(input.redoFolder, `${mountId}-${disk.key}.redo`);
  const overlay = await CopyOnWriteOverlay.open({ source: reader, redoPath });
  live.overlays.push(overlay);
  live.record.redoFiles.push(redoPath);
  const exportName = `ir-${mountId}-${disk.key}`;
  nbd.addExport({ name: exportName, device: overlay, listed: false, logLabel: `instant recovery ${mountId.slice(0, 8)} ${disk.name}` });
  live.record.exports.push(exportName);
  const flatName = at.descriptor.replace(/\.vmdk$/i, '') + '-flat.vmdk';
  const fuse = await mountExportAsFile({ uri: nbd.uri(exportName), mountPoint: fuseMountPoint(live.record, live.fuse.length), fileName: 'disk', size: disk.capacity });
  live.fuse.push(fuse);
  // Relative, and inside the staging folder: an NFS client (a real ESXi host) resolves links itself, within the export.
  await symlink(path.relative(at.dir, fuse.file), path.join(at.dir, flatName));
  await writeFile(path.join(at.dir, at.descriptor), descriptorText(flatName, disk.capacity));
  live.record.disks.push({ key: disk.key, name: disk.name, capacity: disk.capacity, descriptor: at.datastorePath });
  await ctx.updateLog(record, 'Succeeded', `${disk.name} (${formatBytes(disk.capacity)}): published, redo file ${path.basename(redoPath)}`);
}

/**
 * Where the i-th disk's FUSE file is mounted: inside the staging folder (the datastore's root),
 * so the whole datastore is one exported tree (`crossmnt`, docs/restore.md "Real ESXi hosts").
 */
export function fuseMountPoint(record: MountRecord, i: number): string {
  return path.join(record.stagingFolder, '.fuse', String(i));
}

/** Undoes a mount, step by step and best effort (each step runs even when an earlier one failed); returns what could not be undone. */
export async function unmountRestorePoint(
  record: MountRecord,
  parts: { session?: VsphereSession; nbd?: NbdServer; live?: LiveMount },
  log?: (title: string, status: 'Succeeded' | 'Warning') => Promise<unknown>,
): Promise<string[]> {
  const problems: string[] = [];
  const step = async (title: string, work: () => Promise<unknown>) => {
    try {
      await work();
      await log?.(title, 'Succeeded');
    } catch (err) {
      problems.push(`${title}: ${(err as Error).message}`);
      await log?.(`${title}: ${(err as Error).message}`, 'Warning');
    }
  };
  const { session, nbd, live } = parts;
  if (session && record.vm) {
    const vm = record.vm;
    await powerOffVm(session, vm).catch(() => undefined);
    await step(`Unregistering VM ${vm.value}`, () => unregisterVm(session, vm));
  }
  if (session && record.datastore) {
    const ds = record.datastore;
    // The FCD entries point at the staging links only (the backup is behind the NBD export), so deleting them deletes nothing of the backup.
    for (const fcd of record.fcds ?? []) await step(`Removing first-class disk ${fcd.name} (${fcd.id})`, () => deleteDisk(session, fcd.id, ds));
    await step(`Removing datastore ${record.datastoreName}`, () => destroyEntity(session, ds));
  }
  for (const fuse of live?.fuse ?? []) await step(`Unmounting ${fuse.mountPoint}`, () => fuse.unmount());
  for (const name of record.exports) if (nbd?.hasExport(name)) await step('Closing the NBD export', () => nbd.removeExport(name));
  for (const overlay of live?.overlays ?? []) await step('Deleting the redo file', () => overlay.close());
  for (const redo of record.redoFiles) await rm(redo, { force: true }).catch(() => undefined);
  await step('Removing the staging folder', () => rm(record.folder, { recursive: true, force: true }));
  return problems;
}

/** Quick migration: the live disks (backup + redo, merged) are copied to the target datastore as a new VM's disks, which is then powered on. */
export async function copyLiveDisks(ctx: SessionContext, session: VsphereSession, live: LiveMount, newVm: ManagedObjectReference): Promise<void> {
  const config = await captureVmConfig(session, newVm);
  for (const [i, overlay] of live.overlays.entries()) {
    const dest = config.disks[i];
    if (!dest) throw new Error(`The migrated VM has no disk ${i + 1}.`);
    const name = live.record.disks[i]?.name ?? `disk ${i + 1}`;
    await logStep(ctx, `${name}: copying backup + redo to [${dest.datastore.name}] ${dest.flatPath}`, () =>
      writeDatastoreFile(
        session,
        { datacenter: config.datacenter, datastore: dest.datastore.name, path: dest.flatPath },
        overlay.mergedStream({ signal: ctx.signal }),
        overlay.size,
        ctx.signal,
      ),
    );
  }
}
