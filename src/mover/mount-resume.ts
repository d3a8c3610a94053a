import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { openDisk, type ChunkStore, type OpenedRestorePoint } from '../chunkstore/index.js';
import { CopyOnWriteOverlay, mountExportAsFile, type NbdServer } from '../nbd/index.js';
import type { SessionContext } from '../sessions/runner.js';
import { logStep } from '../sessions/steps.js';
import { diskExists } from '../vsphere/datastores.js';
import { VsphereError } from '../vsphere/errors.js';
import { retrieveObject, stringValue } from '../vsphere/property-collector.js';
import type { VsphereSession } from '../vsphere/session.js';
import { powerOnVm } from '../vsphere/vm-lifecycle.js';
import type { ManagedObjectReference } from '../vsphere/xml.js';
import { registerStagedFcd } from './fcd-recovery.js';
import { fuseMountPoint, mountNasDatastore, registerRecoveredVm, type LiveMount, type MountRecord } from './instant-recovery.js';

/**
 * Brings back, after a restart, a mount that was Mounted (docs/restore.md §2 "Restart"):
 * each disk's NBD export is opened again over the same redo file (so the guest's writes
 * survive), nbdfuse mounts it on the same path the staging links point at, and the
 * datastore, VM and first-class disks are checked on vSphere and made again where they
 * are gone. Throws, saying why, when something it needs is missing; the parts made so far
 * are in `live`, for the caller to clean up with the rest of the mount.
 */
export async function resumeMount(
  ctx: SessionContext,
  input: { session: VsphereSession; nbd: NbdServer; store: ChunkStore; point: OpenedRestorePoint },
  live: LiveMount,
  onRecord: (record: MountRecord) => Promise<void>,
): Promise<void> {
  const { record } = live;
  const { session, nbd } = input;
  for (const [i, disk] of record.disks.entries()) {
    const redoPath = record.redoFiles[i];
    const exportName = record.exports[i];
    if (!redoPath || !exportName) throw new Error(`the mount's record has no redo file or export for ${disk.name}`);
    if (!input.point.manifest.disks.some((d) => d.key === disk.key)) throw new Error(`the restore point has no disk ${disk.name} any more`);
    await access(redoPath).catch(() => {
      throw new Error(`the redo file of ${disk.name} (${redoPath}) is gone, so the guest's writes since the mount are lost`);
    });
    await logStep(ctx, `${disk.name}: publishing from the backup again, redo file ${path.basename(redoPath)}`, async () => {
      const reader = await openDisk(input.store, input.point, disk.key);
      const overlay = await CopyOnWriteOverlay.open({ source: reader, redoPath, resume: true });
      live.overlays.push(overlay);
      nbd.addExport({ name: exportName, device: overlay, listed: false, logLabel: `instant recovery ${path.basename(record.folder).slice(0, 8)} ${disk.name}` });
      live.fuse.push(await mountExportAsFile({ uri: nbd.uri(exportName), mountPoint: fuseMountPoint(record, i), fileName: 'disk', size: disk.capacity }));
    });
    // The staging folder's link must lead to the file just mounted (the host reads the disk through it).
    const flat = path.join(record.stagingFolder, disk.descriptor.replace(/\.vmdk$/i, '') + '-flat.vmdk');
    const size = await stat(flat).then(
      (s) => s.size,
      () => undefined,
    );
    if (size !== disk.capacity) throw new Error(`the staging folder's ${path.basename(flat)} does not lead to ${disk.name} any more`);
  }

  if (!record.datastore || !(await objectExists(session, record.datastore))) {
    await ctx.log(`Datastore ${record.datastoreName} is gone from ${session.label}; mounting it again`, 'Warning');
    await mountNasDatastore(ctx, session, record);
    await onRecord(record);
  }

  if (record.vmPlace) {
    const state = record.vm ? await powerStateOf(session, record.vm) : undefined;
    if (state === undefined) {
      await ctx.log(`VM "${record.vmPlace.vmName}" is no longer registered; registering it again`, 'Warning');
      await registerRecoveredVm(ctx, session, record, onRecord);
    } else if (state !== 'poweredOn' && record.vmPlace.powerUp) {
      // The VM may have stopped while its disks were unreachable; it was asked to run.
      await logStep(ctx, `Powering on "${record.vmPlace.vmName}"`, () => powerOnVm(session, record.vm!, ctx.signal));
    }
  }

  for (const [i, fcd] of (record.fcds ?? []).entries()) {
    if (await diskExists(session, fcd.id, record.datastore!)) continue;
    await ctx.log(`First-class disk "${fcd.name}" (${fcd.id}) is no longer registered; registering it again`, 'Warning');
    const index = record.disks.findIndex((d) => d.descriptor === `fcd/${fcd.mountedDiskName}`);
    fcd.id = await registerStagedFcd(ctx, session, record, index >= 0 ? index : i, fcd.name);
    await onRecord(record);
  }
}

async function objectExists(session: VsphereSession, ref: ManagedObjectReference): Promise<boolean> {
  return (await retrieveOrGone(session, ref, 'name')) !== undefined;
}

async function powerStateOf(session: VsphereSession, vm: ManagedObjectReference): Promise<string | undefined> {
  const found = await retrieveOrGone(session, vm, 'runtime.powerState');
  return found ? (stringValue(found.props.get('runtime.powerState')) ?? 'unknown') : undefined;
}

/** The object's property, or undefined when vSphere no longer has the object. */
async function retrieveOrGone(session: VsphereSession, ref: ManagedObjectReference, property: string) {
  try {
    return await retrieveObject(session, ref, [property]);
  } catch (err) {
    if (err instanceof VsphereError && err.kind === 'ManagedObjectNotFound') return undefined;
    throw err;
  }
}
