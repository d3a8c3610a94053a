import { randomUUID } from 'node:crypto';
import {
  applyRetention,
  chunkSizeFor,
  flagRestorePoint,
  openChunkStore,
  zstdLevelFor,
  type ChunkStore,
  type CompressionLevel,
  type GfsPolicy,
  type RestorePointRef,
  type StorageOptimization,
} from '../../chunkstore/index.js';
import { runVsphereBackup, type VmTarget, type WrittenPoint } from '../../mover/vsphere-backup.js';
import { formatBytes } from '../../mover/bytes.js';
import { removeUnreferencedData } from '../../mover/garbage.js';
import { repositoryBackend } from './repository-backend.js';
import { openRunStores } from './placement.js';
import { repositoryTaskLimit, TaskSlots } from './task-slots.js';
import { settingsOf } from '../repositories/model.js';
import { healthCheckDue, runHealthCheck } from './health-check.js';
import { FS_INDEXING_IGNORED, guestProcessingFor } from './guest-processing.js';
import type { SessionContext, SessionOutcome } from '../../sessions/runner.js';
import { logStep } from '../../sessions/steps.js';
import type { BackupsService } from '../backups/service.js';
import type { EncryptionPasswordsService } from '../encryption-passwords/service.js';
import type { RepositoriesService } from '../repositories/service.js';
import type { JobRunPlan } from './service.js';
import type { VsphereAccess } from './vsphere-access.js';
import type { TrafficRulesService } from '../traffic-rules/service.js';
import { RunTraffic } from './traffic.js';

export interface JobRunDeps {
  vsphere: VsphereAccess;
  repositories: RepositoriesService;
  encryptionPasswords: EncryptionPasswordsService;
  backups: BackupsService;
  trafficRules: TrafficRulesService;
  /** Garbage collection's grace window after retention (RAMPART_GC_GRACE_SECONDS); default 1 h. */
  gcGraceMs?: number;
}

export async function openRepositoryById(deps: Pick<JobRunDeps, 'repositories'>, repositoryId: string, create: boolean, signal?: AbortSignal): Promise<ChunkStore> {
  const row = await deps.repositories.get(repositoryId);
  const host = await deps.repositories.hostOf(row);
  const backend = await repositoryBackend(row, host, deps.repositories.checks, signal);
  try {
    return await openChunkStore(backend, { create });
  } catch (err) {
    await backend.close().catch(() => undefined);
    throw err;
  }
}

/** What a stop (graceful or not) and the VM failures make of the session's result. */
function outcomeOf(
  result: { processed: number; failed: { vm: string; reason: string }[]; warnings: { vm: string; reason: string }[]; stoppedEarly: boolean },
  total: number,
): SessionOutcome {
  if (result.failed.length > 0) {
    const first = result.failed[0]!;
    return { result: 'Failed', message: `${result.failed.length} of ${total} VM(s) failed; ${first.vm}: ${first.reason}` };
  }
  if (result.stoppedEarly) return { result: 'Warning', message: `Stopped gracefully after ${result.processed} of ${total} VM(s).` };
  if (result.warnings.length > 0) {
    const first = result.warnings[0]!;
    return { result: 'Warning', message: `${result.processed} VM(s) backed up, ${result.warnings.length} with a warning; ${first.vm}: ${first.reason}` };
  }
  return { result: 'Success', message: `${result.processed} VM(s) backed up.` };
}

/**
 * A backup job's run, as its session does it: resolve the VMs, open the
 * repository and the encryption key, hand the VMs to the data mover, record
 * each committed restore point in the catalogue, apply retention.
 */
export function backupRunner(deps: JobRunDeps) {
  const slots = new TaskSlots();
  return async (ctx: SessionContext, plan: JobRunPlan): Promise<SessionOutcome> => {
    const limit = plan.repository.kind === 'repository' ? repositoryTaskLimit(settingsOf(await deps.repositories.get(plan.repository.id))) : undefined;
    if (limit === undefined) return backupRun(deps, ctx, plan);
    const release = await slots.acquire(plan.repository.id, limit, ctx.signal, (running) =>
      ctx.log(`Waiting for a free task slot on repository "${plan.repository.name}" (${running} of ${limit} task(s) in use)`),
    );
    try {
      return await backupRun(deps, ctx, plan);
    } finally {
      release();
    }
  };
}

function sameLocalDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** One run, in its repository's task slot. */
async function backupRun(deps: JobRunDeps, ctx: SessionContext, plan: JobRunPlan): Promise<SessionOutcome> {
  const { settings } = plan;
  const data = settings.storage.advancedSettings?.storageData ?? {};
  const chunkSize = chunkSizeFor(((data.storageOptimization as string | undefined) ?? 'LocalTarget') as StorageOptimization);
  const zstdLevel = zstdLevelFor(((data.compressionLevel as string | undefined) ?? 'Optimal') as CompressionLevel);
  const encryption = data.encryption;
  const password = encryption?.isEnabled && encryption.encryptionPasswordIdOrNull ? await deps.encryptionPasswords.passwordFor(encryption.encryptionPasswordIdOrNull) : undefined;
  const tracking = (settings.storage.advancedSettings?.vSphere as { changedBlockTracking?: { isEnabled?: boolean; enableCBTautomatically?: boolean } } | undefined)
    ?.changedBlockTracking;
  const cbt = tracking?.isEnabled !== false;
  const startedAt = new Date();
  const scheduledFull = healthCheckDue(settings.storage.advancedSettings?.activeFulls as Parameters<typeof healthCheckDue>[0], startedAt);
  // Reverse incremental keeps its newest point full by itself: Veeam offers synthetic fulls only to forward chains.
  const syntheticDay =
    settings.storage.advancedSettings?.backupModeType !== 'ReverseIncremental' &&
    healthCheckDue(settings.storage.advancedSettings?.synthenticFulls as Parameters<typeof healthCheckDue>[0], startedAt);
  if ((settings.guestProcessing.guestFSIndexing as { isEnabled?: boolean } | undefined)?.isEnabled === true) await ctx.log(FS_INDEXING_IGNORED, 'Warning');

  const stores = await logStep(ctx, `Opening repository "${plan.repository.name}"`, () =>
    openRunStores(deps.repositories, plan.repository, (id) => openRepositoryById(deps, id, true, ctx.signal), ctx.signal),
  );
  try {
    const existing = await deps.backups.backupOf(plan.job.id, plan.repository.id);
    const backupId = existing?.id ?? randomUUID();

    // Objects may sit on several vCenters: one session (and one pass) per server.
    const byHost = new Map<string, typeof settings.virtualMachines.includes>();
    for (const o of settings.virtualMachines.includes) byHost.set(o.hostName.toLowerCase(), [...(byHost.get(o.hostName.toLowerCase()) ?? []), o]);
    const excluded = new Set(((settings.virtualMachines.excludes?.vms as { objectId?: string }[] | undefined) ?? []).map((v) => v.objectId).filter(Boolean));
    const written = new Map<ChunkStore, Array<RestorePointRef & { vmName: string }>>();
    // Stores where retention removed restore points in this run: their chunks nothing references any more are swept at the end.
    const pruned = new Map<ChunkStore, string>();
    const totals = {
      processed: 0,
      failed: [] as { vm: string; reason: string }[],
      warnings: [] as { vm: string; reason: string }[],
      stoppedEarly: false,
      bytesRead: 0,
      bytesStored: 0,
      vms: 0,
    };

    for (const objects of byHost.values()) {
      const hostName = objects[0]!.hostName;
      const session = await logStep(
        ctx,
        `Connecting to ${hostName}`,
        () => deps.vsphere.login(hostName, ctx.signal),
        (s) => `Connected to ${s.content.about.fullName || hostName}`,
      );
      try {
        const vms: VmTarget[] = [];
        for (const object of objects) {
          const found = await deps.vsphere.vmsOf(session, object);
          if (found.length === 0) throw new Error(`${object.type} "${object.name}" was not found on ${hostName}.`);
          for (const vm of found) if (!excluded.has(vm.moref) && !vms.some((v) => v.moref === vm.moref)) vms.push(vm);
        }
        totals.vms += vms.length;
        const guest = await guestProcessingFor(settings, deps.vsphere, session, hostName);
        const traffic = new RunTraffic(deps, hostName, (title) => ctx.log(title, 'Succeeded'));
        const result = await runVsphereBackup({
          ctx,
          session,
          storeFor: async (vm) => (await stores.placementOf({ backupId, objectId: vm.moref })).store,
          backupId,
          vms,
          chunkSize,
          zstdLevel,
          password,
          useCbt: cbt,
          enableCbt: tracking?.enableCBTautomatically !== false,
          activeFull: plan.activeFull,
          gracefulStop: plan.gracefulStop,
          jobInfo: { id: plan.job.id, name: plan.job.name, repositoryId: plan.repository.id },
          sourceThrottle: async (vm) => traffic.throttleFor((await stores.placementOf({ backupId, objectId: vm.moref })).repositoryId),
          snapshotPlan: async (vm) => {
            const { plan: snapshotPlan, note } = guest(vm);
            if (note) await ctx.log(note.title, note.status, note.description);
            return snapshotPlan;
          },
          noteSnapshots: (list) => plan.noteSnapshots(list.map((s) => ({ ...s, hostName }))),
          previous: async (vm) => {
            // A chain that starts on an extent (or moves to another) starts with a full: its base is elsewhere.
            const placed = await stores.placementOf({ backupId, objectId: vm.moref });
            if (placed.newChain && placed.extentName) {
              await ctx.log(`${vm.name}: its chain starts on extent "${placed.extentName}" with a full backup`);
              return undefined;
            }
            const last = await deps.backups.latestRestorePoint(backupId, vm.moref);
            if (!last) return undefined;
            // A scheduled active full (`activeFulls`): the first run on a scheduled day reads the whole VM again.
            if (scheduledFull && !(last.type === 'Full' && sameLocalDay(new Date(last.creation_time), startedAt))) {
              await ctx.log(`${vm.name}: scheduled active full backup`);
              return undefined;
            }
            // A synthetic full (`synthenticFulls`, Veeam's spelling): the first run on a scheduled day reads as an
            // incremental and records a full. The chunk store needs no transform: every index names every chunk.
            const synthetic = syntheticDay && !(last.type === 'Full' && sameLocalDay(new Date(last.creation_time), startedAt));
            if (synthetic)
              await ctx.log(
                `Creating synthetic full backup of ${vm.name}`,
                'Succeeded',
                'Read and stored as an incremental, recorded as a full: its indexes name every block of the VM, so no backup data is copied or merged.',
              );
            const disks = await deps.backups.disksOf(last.id);
            const changeIds: Record<string, string> = {};
            for (const d of disks) {
              const stats = JSON.parse(d.stats) as { changeId?: string; key?: string };
              if (stats.changeId && stats.key) changeIds[stats.key] = stats.changeId;
            }
            return { ref: { backupId, objectId: vm.moref, restorePointId: last.id }, changeIds, ...(synthetic ? { synthetic } : {}) };
          },
          committed: async (point) => {
            const { store } = await stores.placementOf({ backupId, objectId: point.vm.moref });
            written.set(store, [...(written.get(store) ?? []), { ...point.ref, vmName: point.vm.name }]);
            await record(deps, ctx, plan, backupId, point);
            if ((await retain(deps, ctx, plan, store, point.ref, point.vm)) > 0) pruned.set(store, store.backend.description);
          },
        });
        totals.processed += result.processed;
        totals.failed.push(...result.failed);
        totals.warnings.push(...result.warnings);
        totals.bytesRead += result.bytesRead;
        totals.bytesStored += result.bytesStored;
        totals.stoppedEarly ||= result.stoppedEarly;
      } finally {
        await session.logout();
      }
      if (totals.stoppedEarly) break;
    }
    await ctx.log(`Backup finished: ${formatBytes(totals.bytesRead)} read, ${formatBytes(totals.bytesStored)} stored`);
    for (const [store, where] of pruned) {
      const failure = await removeUnreferencedData(ctx, store, { graceMs: deps.gcGraceMs, signal: ctx.signal });
      if (failure) totals.warnings.push({ vm: where, reason: failure });
    }
    const health = settings.storage.advancedSettings?.backupHealth as Parameters<typeof healthCheckDue>[0];
    if (healthCheckDue(health, new Date()) && written.size > 0) {
      const damaged = await runHealthCheck(
        ctx,
        [...written].map(([store, refs]) => ({ store, refs })),
        password,
      );
      if (damaged > 0) return { result: 'Failed', message: `Health check: ${damaged} corrupt restore point(s); run an active full backup to write their data again.` };
    }
    return outcomeOf(totals, totals.vms);
  } finally {
    // An SFTP login or an S3 client is released with the run.
    await stores.close().catch(() => undefined);
  }
}

/**
 * Retention after each committed point: the new point first takes the GFS
 * flags of the periods it opens; then the repository deletes the manifests of
 * points beyond the short-term rule that no GFS flag holds, and the catalogue
 * forgets them (chunks go at GC).
 */
async function retain(deps: JobRunDeps, ctx: SessionContext, plan: JobRunPlan, store: ChunkStore, ref: RestorePointRef, vm: VmTarget): Promise<number> {
  const policy = plan.settings.storage.retentionPolicy;
  const gfs = plan.settings.storage.gfsPolicy as GfsPolicy | undefined;
  const flags = await flagRestorePoint(store, ref, gfs);
  if (flags.length > 0) await ctx.log(`GFS: restore point of ${vm.name} flagged ${flags.join(', ')}`);
  const rule = policy.type === 'Days' ? { keepDays: policy.quantity, gfs } : { keepRestorePoints: policy.quantity, gfs };
  const { deleted, gfsKept, protected: immutable } = await applyRetention(store, { backupId: ref.backupId, objectId: ref.objectId }, rule);
  for (const point of deleted) await deps.backups.forgetRestorePoint(point.restorePointId);
  const held = gfsKept.length > 0 ? `; ${gfsKept.length} kept by GFS flags` : '';
  if (deleted.length > 0 || held)
    await ctx.log(`Retention (${policy.quantity} ${policy.type === 'Days' ? 'day(s)' : 'restore point(s)'}): ${deleted.length} restore point(s) of ${vm.name} removed${held}`);
  await logImmutableKept(ctx, vm.name, immutable);
  return deleted.length;
}

/** Points retention would remove but may not yet (immutable, or the base of a running backup): said, and retried by a later run. */
async function logImmutableKept(ctx: SessionContext, vmName: string, kept: Array<{ restorePointId: string; reason: string }>): Promise<void> {
  for (const point of kept) await ctx.log(`Retention: restore point ${point.restorePointId} of ${vmName} kept for now`, 'None', point.reason);
}

/** The catalogue learns the point only after its manifest is in place. */
async function record(deps: JobRunDeps, ctx: SessionContext, plan: JobRunPlan, backupId: string, point: WrittenPoint): Promise<void> {
  await deps.backups.recordRestorePoint({
    backup: { id: backupId, jobId: plan.job.id, name: plan.job.name, repositoryId: plan.repository.id },
    object: { objectId: point.vm.moref, name: point.vm.name, path: `${plan.settings.virtualMachines.includes[0]?.hostName ?? ''}/${point.vm.name}` },
    restorePoint: {
      id: point.ref.restorePointId,
      creationTime: point.manifest.createdAt,
      type: point.kind,
      sessionId: ctx.sessionId,
      location: `${point.ref.backupId}/${point.ref.objectId}/${point.ref.restorePointId}`,
    },
    disks: point.disks.map((d, i) => ({
      uid: d.uid,
      name: d.name,
      capacity: d.capacity,
      stats: { ...d.stats, key: point.manifest.disks[i]?.key ?? '' },
    })),
  });
}
