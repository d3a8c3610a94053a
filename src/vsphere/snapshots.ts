import { isMethodMissing, VsphereError } from './errors.js';
import { retrieveObject } from './property-collector.js';
import type { VsphereSession } from './session.js';
import { runTask } from './tasks.js';
import { readDisks, type VirtualDiskInfo } from './vm-config.js';
import { children, childNumber, moref, toMoref, type ManagedObjectReference } from './xml.js';

/** Snapshots and changed-block tracking (QueryChangedDiskAreas). */

export interface SnapshotOptions {
  name: string;
  description?: string;
  /** Include the VM's memory (off for backups: disks only). */
  memory?: boolean;
  /** Ask VMware Tools to quiesce the guest file systems. */
  quiesce?: boolean;
  signal?: AbortSignal;
}

/** CreateSnapshot_Task and wait; returns the snapshot's moref. */
export async function createSnapshot(session: VsphereSession, vm: ManagedObjectReference, options: SnapshotOptions): Promise<ManagedObjectReference> {
  const { result } = await runTask(
    session,
    'CreateSnapshot_Task',
    { _this: moref(vm), name: options.name, description: options.description ?? '', memory: options.memory ?? false, quiesce: options.quiesce ?? false },
    `Creating snapshot "${options.name}" of ${vm.value}`,
    options.signal,
  );
  const snapshot = toMoref(result);
  if (!snapshot) throw new VsphereError('NotSoap', `${session.label} created a snapshot of ${vm.value} but did not say which`);
  return snapshot;
}

/** RemoveSnapshot_Task (consolidating by default) and wait. */
export async function removeSnapshot(session: VsphereSession, snapshot: ManagedObjectReference, options: { consolidate?: boolean; signal?: AbortSignal } = {}): Promise<void> {
  await runTask(
    session,
    'RemoveSnapshot_Task',
    { _this: moref(snapshot), removeChildren: false, consolidate: options.consolidate ?? true },
    `Removing snapshot ${snapshot.value}`,
    options.signal,
  );
}

/** The disks as the snapshot holds them (with each disk's changeId when the server tracks changes). */
export async function snapshotDisks(session: VsphereSession, snapshot: ManagedObjectReference): Promise<VirtualDiskInfo[]> {
  const found = await retrieveObject(session, snapshot, ['config.hardware.device']);
  return readDisks(found?.props.get('config.hardware.device'));
}

/**
 * Turns on changed-block tracking for a VM (ReconfigVM `changeTrackingEnabled`).
 * vSphere starts tracking from the next snapshot: the first backup after this reads whole disks.
 */
export async function enableChangedBlockTracking(session: VsphereSession, vm: ManagedObjectReference, signal?: AbortSignal): Promise<void> {
  await runTask(session, 'ReconfigVM_Task', { _this: moref(vm), spec: { changeTrackingEnabled: true } }, `Enabling changed block tracking on ${vm.value}`, signal);
}

export interface DiskExtent {
  start: number;
  length: number;
}

/**
 * The areas of a disk that changed between `changeId` (from an earlier
 * snapshot's disk; `*` means "every allocated area") and `snapshot`, read
 * with QueryChangedDiskAreas until the whole disk is covered. Returns
 * `undefined` when the server does not offer the method (vcsim without the
 * fixture's wrapper, hosts without CBT), so callers fall back to a full read.
 */
export async function queryChangedDiskAreas(
  session: VsphereSession,
  vm: ManagedObjectReference,
  snapshot: ManagedObjectReference,
  deviceKey: number,
  changeId: string,
  capacityInBytes: number,
): Promise<DiskExtent[] | undefined> {
  const extents: DiskExtent[] = [];
  let offset = 0;
  while (offset < capacityInBytes) {
    let info;
    try {
      info = await session.call('QueryChangedDiskAreas', { _this: moref(vm), snapshot: moref(snapshot), deviceKey, startOffset: offset, changeId });
    } catch (err) {
      if (isMethodMissing(err)) return undefined;
      throw err;
    }
    for (const area of children(info, 'changedArea')) extents.push({ start: childNumber(area, 'start') ?? 0, length: childNumber(area, 'length') ?? 0 });
    const start = childNumber(info, 'startOffset') ?? offset;
    const length = childNumber(info, 'length') ?? 0;
    // A server that covers nothing would loop forever: stop, the rest is unchanged by its account.
    if (length <= 0) break;
    offset = start + length;
  }
  return extents;
}
