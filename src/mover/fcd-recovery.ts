import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ChunkStore, OpenedRestorePoint } from '../chunkstore/index.js';
import type { NbdServer } from '../nbd/index.js';
import type { SessionContext } from '../sessions/runner.js';
import { logStep } from '../sessions/steps.js';
import { datastoreFileUrl, registerDisk } from '../vsphere/datastores.js';
import type { VsphereSession } from '../vsphere/session.js';
import { datacenterOf } from '../vsphere/vm-config.js';
import type { ManagedObjectReference } from '../vsphere/xml.js';
import { mountNasDatastore, nasDatastoreSpec, stageDisk, type LiveMount, type MountRecord, type NfsExport } from './instant-recovery.js';

/** One disk of the backup to recover as a first-class disk. */
export interface FcdMapping {
  nameInBackup: string;
  /** The VMDK file name on the mounted datastore. */
  mountedDiskName: string;
  registeredFcdName: string;
}

/**
 * Instant FCD recovery (docs/restore.md §3): the disks are staged exactly as for
 * an instant VM recovery (NBD export + redo + nbdfuse + NFS-style datastore),
 * then each is registered as a first-class disk (RegisterDisk) under the name asked.
 * No VM is made; nothing is copied.
 */
export async function mountFcds(
  ctx: SessionContext,
  input: {
    session: VsphereSession;
    nbd: NbdServer;
    store: ChunkStore;
    point: OpenedRestorePoint;
    mountId: string;
    host: ManagedObjectReference;
    redoFolder: string;
    disks: FcdMapping[];
    nfs?: NfsExport;
  },
  live: LiveMount,
  onRecord: (record: MountRecord) => Promise<void>,
): Promise<void> {
  const { session, point, mountId } = input;
  const { stagingFolder } = live.record;
  const dir = path.join(stagingFolder, 'fcd');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await mkdir(input.redoFolder, { recursive: true, mode: 0o700 });
  await onRecord(live.record);
  for (const mapping of input.disks) {
    ctx.signal.throwIfAborted();
    const disk = point.manifest.disks.find((d) => d.name === mapping.nameInBackup);
    if (!disk) throw new Error(`disksMapping.nameInBackup: the restore point has no disk "${mapping.nameInBackup}".`);
    await stageDisk(ctx, { nbd: input.nbd, store: input.store, point, mountId, redoFolder: input.redoFolder }, live, disk, {
      dir,
      descriptor: mapping.mountedDiskName,
      datastorePath: `fcd/${mapping.mountedDiskName}`,
    });
    await onRecord(live.record);
  }
  live.record.host = input.host;
  live.record.nas = nasDatastoreSpec(live.record, mountId, input.nfs);
  await mountNasDatastore(ctx, session, live.record);
  await onRecord(live.record);
  live.record.fcds = [];
  for (const [i, mapping] of input.disks.entries()) {
    const id = await registerStagedFcd(ctx, session, live.record, i, mapping.registeredFcdName);
    live.record.fcds.push({ id, name: mapping.registeredFcdName, nameInBackup: mapping.nameInBackup, mountedDiskName: mapping.mountedDiskName });
    await onRecord(live.record);
  }
}

/** RegisterDisk of the mount's i-th staged disk (its descriptor on the mount's datastore); returns the FCD id. */
export async function registerStagedFcd(ctx: SessionContext, session: VsphereSession, record: MountRecord, i: number, name: string): Promise<string> {
  const datacenter = await datacenterOf(session, record.datastore!);
  const url = datastoreFileUrl(session, { datacenter, datastore: record.datastoreName, path: record.disks[i]!.descriptor });
  return logStep(ctx, `Registering first-class disk "${name}"`, () => registerDisk(session, url, name));
}
