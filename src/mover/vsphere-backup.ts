import { randomUUID } from 'node:crypto';
import { beginRestorePoint, type ChunkStore, type DiskSource, type DiskWriteStats, type ManifestBody, type RestorePointRef } from '../chunkstore/index.js';
import type { SessionContext } from '../sessions/runner.js';
import { statDatastoreFile, type DatastoreFile } from '../vsphere/datastore-files.js';
import { datastoreRangeReader } from '../vsphere/range-reader.js';
import { createSnapshot, enableChangedBlockTracking, queryChangedDiskAreas, removeSnapshot, snapshotDisks } from '../vsphere/snapshots.js';
import type { VsphereSession } from '../vsphere/session.js';
import { captureVmConfig, type VirtualDiskInfo, type VmConfig } from '../vsphere/vm-config.js';
import type { ManagedObjectReference } from '../vsphere/xml.js';
import { formatBytes } from './bytes.js';
import type { Throttle } from './throttle.js';

/** One VM a run backs up. */
export interface VmTarget {
  moref: string;
  name: string;
}

/** The previous restore point of a VM in this backup: the base of an incremental. */
export interface PreviousPoint {
  ref: RestorePointRef;
  /** Disk key → the CBT changeId of the disk when that point was taken. */
  changeIds: Record<string, string>;
  /** Record the point as a full (a synthetic full): read as an incremental, every index names every chunk anyway. */
  synthetic?: boolean;
}

/** How a VM's snapshot is taken (the job's VMware Tools quiescence and application-aware processing). */
export interface SnapshotPlan {
  /** Ask VMware Tools to quiesce the guest (in Windows guests, through VSS). */
  quiesce: boolean;
  /** A refused quiesced snapshot fails the VM; otherwise a crash-consistent snapshot is taken instead, with a warning. */
  required: boolean;
}

/** A restore point written and committed (its manifest in place). */
export interface WrittenPoint {
  vm: VmTarget;
  ref: RestorePointRef;
  manifest: ManifestBody;
  kind: 'Full' | 'Increment';
  disks: { uid: string; name: string; capacity: number; stats: DiskWriteStats & { changeId?: string } }[];
}

export interface VsphereBackupInput {
  ctx: SessionContext;
  session: VsphereSession;
  /** The chunk store a VM's chain goes to (one store, or the extent a scale-out repository places it on). */
  storeFor(vm: VmTarget): Promise<ChunkStore>;
  backupId: string;
  vms: VmTarget[];
  chunkSize: number;
  zstdLevel: number;
  password?: string;
  useCbt: boolean;
  /** Turn changed-block tracking on where it is off (Veeam's enableCBTautomatically); it counts from the next snapshot. */
  enableCbt: boolean;
  activeFull: boolean;
  /** Read between VMs: a graceful stop lets the current VM finish, then the run ends. */
  gracefulStop: { requested: boolean };
  previous(vm: VmTarget): Promise<PreviousPoint | undefined>;
  /** How to snapshot this VM (asked after "Processing …", so what it logs reads under the VM); crash-consistent when absent. */
  snapshotPlan?(vm: VmTarget): Promise<SnapshotPlan>;
  /** Records the committed point in the catalogue (and applies retention). */
  committed(point: WrittenPoint): Promise<void>;
  /** Keeps the list of snapshots not yet removed where a crash can find it. */
  noteSnapshots(snapshots: { vm: string; snapshot: string }[]): Promise<void>;
  /** Job settings written into each manifest (the repository describes itself). */
  jobInfo: unknown;
  /** The limit traffic rules put on reading this VM's disks (undefined when no rule can apply to its two ends). */
  sourceThrottle?(vm: VmTarget): Promise<Throttle | undefined>;
}

export interface VsphereBackupResult {
  processed: number;
  failed: { vm: string; reason: string }[];
  stoppedEarly: boolean;
  /** VMs backed up with a warning (a crash-consistent snapshot where a quiesced one was asked for). */
  warnings: { vm: string; reason: string }[];
  bytesRead: number;
  bytesStored: number;
}

const diskKeyOf = (d: VirtualDiskInfo) => String(d.key);

/**
 * The per-VM pipeline: snapshot → each disk read from the datastore (only the
 * changed areas when CBT answers) → chunk store → manifest → catalogue →
 * snapshot removed, always, in `finally`. A VM that fails is logged and the
 * run goes on to the next one (as Veeam does); the run's result says so.
 */
export async function runVsphereBackup(input: VsphereBackupInput): Promise<VsphereBackupResult> {
  const { ctx } = input;
  const result: VsphereBackupResult = { processed: 0, failed: [], stoppedEarly: false, warnings: [], bytesRead: 0, bytesStored: 0 };
  const configs = [];
  for (const vm of input.vms) configs.push(await captureVmConfig(input.session, { type: 'VirtualMachine', value: vm.moref }));
  const totalBytes = configs.reduce((sum, c) => sum + c.disks.reduce((s, d) => s + d.capacityInBytes, 0), 0) || 1;
  let doneBytes = 0;
  const pending: { vm: string; snapshot: string }[] = [];

  for (const [i, vm] of input.vms.entries()) {
    // A graceful stop lets the VM in progress finish (the first one too, when it came before any), then ends the run.
    if (i > 0 && input.gracefulStop.requested) {
      result.stoppedEarly = true;
      await ctx.log(`Stopping after "${input.vms[i - 1]!.name}" as requested (graceful stop): ${input.vms.length - i} VM(s) not processed`, 'Warning');
      break;
    }
    ctx.signal.throwIfAborted();
    const config = configs[i]!;
    const vmRef: ManagedObjectReference = { type: 'VirtualMachine', value: vm.moref };
    await ctx.log(`Processing ${vm.name}`, 'Succeeded', `${config.disks.length} disk(s), ${formatBytes(config.disks.reduce((s, d) => s + d.capacityInBytes, 0))}`);
    let snapshot: ManagedObjectReference | undefined;
    try {
      if (input.useCbt && input.enableCbt && !config.changeTrackingEnabled) {
        await ctx.log('Enabling changed block tracking', 'Succeeded', 'vSphere tracks changes from this snapshot on: this run reads whole disks.');
        await enableChangedBlockTracking(input.session, vmRef, ctx.signal);
      }
      const plan = (await input.snapshotPlan?.(vm)) ?? { quiesce: false, required: false };
      const taken = await takeSnapshot(input, vm, vmRef, plan, result.warnings);
      snapshot = taken.snapshot;
      pending.push({ vm: vm.moref, snapshot: snapshot.value });
      await input.noteSnapshots([...pending]);
      await ctx.updateLog(taken.record, 'Succeeded', 'Creating snapshot', `${snapshot.value}${taken.quiesced ? ', quiesced by VMware Tools' : ''}`);
      const point = await backUpVm(input, vm, vmRef, snapshot, config, (bytes) => {
        void ctx.progress(((doneBytes + bytes) / totalBytes) * 100).catch(() => undefined);
      });
      doneBytes += point.disks.reduce((s, d) => s + d.capacity, 0);
      result.bytesRead += point.disks.reduce((s, d) => s + d.stats.bytesRead, 0);
      result.bytesStored += point.disks.reduce((s, d) => s + d.stats.bytesStored, 0);
      await input.committed(point);
      result.processed++;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      result.failed.push({ vm: vm.name, reason });
      await ctx.log(`${vm.name} failed`, 'Failed', reason);
    } finally {
      if (snapshot) await removeSnapshotLogged(input, snapshot, pending);
    }
  }
  return result;
}

/**
 * CreateSnapshot_Task, quiesced when the plan asks. A vCenter that cannot quiesce (VMware Tools not
 * running, a VSS writer failing) refuses the whole snapshot; as Veeam does, the VM is then backed up
 * from a crash-consistent snapshot with a warning, unless the plan requires quiescence.
 */
async function takeSnapshot(
  input: VsphereBackupInput,
  vm: VmTarget,
  vmRef: ManagedObjectReference,
  plan: SnapshotPlan,
  warnings: VsphereBackupResult['warnings'],
): Promise<{ snapshot: ManagedObjectReference; quiesced: boolean; record: number }> {
  const { ctx, session } = input;
  const record = await ctx.log('Creating snapshot', 'None', plan.quiesce ? 'VMware Tools quiescence' : '');
  const options = { name: `Rampart backup ${new Date().toISOString()}`, description: `Job session ${ctx.sessionId}`, signal: ctx.signal };
  try {
    if (!plan.quiesce) return { snapshot: await createSnapshot(session, vmRef, options), quiesced: false, record };
    try {
      return { snapshot: await createSnapshot(session, vmRef, { ...options, quiesce: true }), quiesced: true, record };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (ctx.signal.aborted) throw err;
      if (plan.required) throw new Error(`Cannot create a quiesced snapshot, which application-aware processing of this VM requires: ${reason}`);
      await ctx.log(`Failed to quiesce ${vm.name} through VMware Tools; creating a crash-consistent snapshot instead`, 'Warning', reason);
      warnings.push({ vm: vm.name, reason: `crash-consistent snapshot (quiescing failed: ${reason})` });
      return { snapshot: await createSnapshot(session, vmRef, options), quiesced: false, record };
    }
  } catch (err) {
    await ctx.updateLog(record, 'Failed', 'Creating snapshot', err instanceof Error ? err.message : String(err)).catch(() => undefined);
    throw err;
  }
}

/** Removal runs even after a stop: a fresh signal, so the abort that ended the read does not also cancel the clean-up. */
async function removeSnapshotLogged(input: VsphereBackupInput, snapshot: ManagedObjectReference, pending: { vm: string; snapshot: string }[]) {
  const record = await input.ctx.log('Removing snapshot', 'None').catch(() => undefined);
  try {
    await removeSnapshot(input.session, snapshot);
    pending.splice(
      pending.findIndex((p) => p.snapshot === snapshot.value),
      1,
    );
    await input.noteSnapshots([...pending]);
    if (record !== undefined) await input.ctx.updateLog(record, 'Succeeded', 'Removing snapshot', snapshot.value);
  } catch (err) {
    if (record !== undefined) await input.ctx.updateLog(record, 'Warning', 'Removing snapshot', `Could not remove snapshot ${snapshot.value}: ${(err as Error).message}`);
  }
}

async function backUpVm(
  input: VsphereBackupInput,
  vm: VmTarget,
  vmRef: ManagedObjectReference,
  snapshot: ManagedObjectReference,
  // Captured at the start of the run, moments before the snapshot: asking again would cost a round trip per VM.
  config: VmConfig,
  onBytes: (bytes: number) => void,
): Promise<WrittenPoint> {
  const { ctx, session } = input;
  const disks = await snapshotDisks(session, snapshot);
  const previous = input.activeFull ? undefined : await input.previous(vm);
  const ref: RestorePointRef = { backupId: input.backupId, objectId: vm.moref, restorePointId: randomUUID() };
  const store = await input.storeFor(vm);
  const writer = await beginRestorePoint(store, {
    ...ref,
    compressionLevel: input.zstdLevel,
    password: input.password,
    job: input.jobInfo,
    object: { name: vm.name, moref: vm.moref, config: { ...config, disks: disks.map((d) => ({ ...d })) } },
    base: previous?.ref,
    synthetic: previous?.synthetic,
    signal: ctx.signal,
  });
  const written: WrittenPoint['disks'] = [];
  let base = 0;
  try {
    const throttle = await input.sourceThrottle?.(vm);
    for (const [n, disk] of disks.entries()) {
      const key = diskKeyOf(disk);
      // vCenter labels disks "Hard disk N"; the simulator's own labels (disk-202-0) are replaced by that.
      const label = /^Hard disk \d+$/.test(disk.label) ? disk.label : `Hard disk ${n + 1}`;
      const { source, close } = await diskSource(input, vmRef, snapshot, disk, previous, config.datacenter, throttle);
      const record = await ctx.log(`${label} (${formatBytes(disk.capacityInBytes)}): reading${source.changed ? ` ${source.changed.length} changed area(s)` : ''}`, 'None');
      const stats = await writer
        .writeDisk({ key, uid: disk.uuid ?? key, name: label, chunkSize: input.chunkSize }, source, { onProgress: (s) => onBytes(base + s.bytesRead) })
        .catch(async (err: Error) => {
          await ctx.updateLog(record, 'Failed', `${label} (${formatBytes(disk.capacityInBytes)})`, err.message).catch(() => undefined);
          throw err;
        })
        .finally(close);
      base += disk.capacityInBytes;
      await ctx.updateLog(
        record,
        'Succeeded',
        `${label} (${formatBytes(disk.capacityInBytes)}): ${stats.newChunks} new chunk(s), ${formatBytes(stats.bytesStored)} stored`,
        `${formatBytes(stats.bytesRead)} read, ${stats.reusedChunks} chunk(s) already stored, ${stats.zeroChunks} empty${source.changed ? ', changed-block tracking' : ''}`,
      );
      written.push({ uid: disk.uuid ?? key, name: label, capacity: disk.capacityInBytes, stats: { ...stats, ...(disk.changeId ? { changeId: disk.changeId } : {}) } });
    }
    const manifest = await writer.commit();
    return { vm, ref, manifest, kind: manifest.kind, disks: written };
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
}

/**
 * Range GETs kept in flight per disk. One GET is one TCP stream through one
 * TLS session on each side, which leaves a core idle; measured on this machine
 * kind (bench/backup.ts) three overlap reading with hashing and sealing, and
 * more only add chunk buffers (memory: one chunk per read in flight).
 */
export const PARALLEL_RANGE_READS = 3;

/**
 * Random access over the datastore's HTTP file API: one Range GET per chunk,
 * straight into the chunk store's buffer, several at once (range-reader.ts), with the changed
 * areas when CBT answers for this disk. Without CBT the whole disk is read the
 * same way (and only the chunks whose digest is new are sealed and stored).
 */
async function diskSource(
  input: VsphereBackupInput,
  vmRef: ManagedObjectReference,
  snapshot: ManagedObjectReference,
  disk: VirtualDiskInfo,
  previous: PreviousPoint | undefined,
  datacenter: string,
  throttle: Throttle | undefined,
): Promise<{ source: DiskSource; close(): void }> {
  const { session, ctx } = input;
  const file: DatastoreFile = { datacenter, datastore: disk.datastore.name, path: disk.flatPath };
  // A thin or fresh disk's data file can be shorter than the disk (vcsim's are empty): what lies beyond it reads as zeros.
  const fileSize = await statDatastoreFile(session, file, ctx.signal);
  const previousChangeId = previous?.changeIds[diskKeyOf(disk)];
  const areas = input.useCbt && previousChangeId ? await queryChangedDiskAreas(session, vmRef, snapshot, disk.key, previousChangeId, disk.capacityInBytes) : undefined;
  const reader = datastoreRangeReader(session, file, PARALLEL_RANGE_READS);
  const readInto = async (offset: number, target: Buffer, signal?: AbortSignal) => {
    const available = Math.max(0, Math.min(target.length, fileSize - offset));
    if (available > 0) {
      // Every byte read from the source passes here: the one place a traffic rule's limit applies.
      await throttle?.take(available, signal ?? ctx.signal);
      await reader.readInto(offset, target.subarray(0, available), signal ?? ctx.signal);
    }
    if (available < target.length) target.fill(0, available);
  };
  const source: DiskSource = { size: disk.capacityInBytes, readInto, readAhead: PARALLEL_RANGE_READS };
  if (areas) source.changed = areas.map((a) => ({ offset: a.start, length: a.length }));
  return { source, close: () => reader.close() };
}
