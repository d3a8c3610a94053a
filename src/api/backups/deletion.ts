/**
 * DELETE /api/v1/backups/{id} (1.2 and later): a DeleteBackup session removes
 * the backup's restore points from its repository (manifest first, as
 * retention does; chunks are left to garbage collection), then the catalogue
 * forgets it. A backup with a restore point still immutable (hardened
 * repository, S3 object lock; docs/immutability.md) is refused up front with
 * the date, before anything is deleted: a deletion never stops half-way
 * because of a lock. The refusal is a 400: Veeam's documents list no 409 for
 * this route, and 400 is the error they define for every operation.
 */
import { ChunkStoreError, deleteRestorePoint, readGfsPeriods, restorePointImmutableUntil, type ChunkStore } from '../../chunkstore/index.js';
import { ApiError, badRequest } from '../../http/errors.js';
import type { SessionRecord } from '../../sessions/model.js';
import type { SessionContext, SessionOutcome, SessionRunner } from '../../sessions/runner.js';
import { removeUnreferencedData } from '../../mover/garbage.js';
import { refOf } from './model.js';
import type { BackupsService } from './service.js';

export interface BackupDeletionDeps {
  backups: BackupsService;
  runner: SessionRunner;
  /** The chunk store of a repository (the jobs section opens it as its runs do). */
  openRepository(repositoryId: string): Promise<ChunkStore>;
  /** Garbage collection's grace window after the deletion (RAMPART_GC_GRACE_SECONDS); default 1 h. */
  gcGraceMs?: number;
}

export interface DeleteOptions {
  /** Veeam's fromDB: remove the backup from the configuration only; the files stay. */
  fromDB?: boolean;
  createdBy?: string;
}

export interface DeleteObjectOptions {
  /** Veeam's includeGFS: also delete the points GFS flags hold (without it they stay, and so does the object). */
  includeGFS?: boolean;
  createdBy?: string;
}

type Point = { id: string; location: string; creation_time: string };

export class BackupDeletion {
  constructor(private readonly deps: BackupDeletionDeps) {}

  async delete(id: string, options: DeleteOptions): Promise<SessionRecord> {
    const backup = await this.deps.backups.getBackup(id);
    const points = await this.deps.backups.restorePointsOfBackup(backup.id);
    const spec = {
      name: `Delete Backup "${backup.name}"`,
      type: 'DeleteBackup' as const,
      resourceId: backup.id,
      resourceReference: `/api/v1/backups/${backup.id}`,
      createdBy: options.createdBy,
    };
    if (options.fromDB) {
      return this.deps.runner.start(spec, async (ctx) => {
        await this.deps.backups.forgetBackup(backup.id);
        await ctx.log(`Backup "${backup.name}" removed from the configuration; its ${points.length} restore point(s) stay in the repository (a rescan imports them again)`);
        return undefined;
      });
    }
    const { store } = await this.openChecked(backup, `Backup "${backup.name}"`, async () => points);
    return this.deps.runner.start(spec, async (ctx) => {
      try {
        const failed = await this.deleteAll(ctx, store, points);
        if (failed) return failed;
        await this.deps.backups.forgetBackup(backup.id);
        await ctx.log(`Backup "${backup.name}" deleted: ${points.length} restore point(s) removed from ${store.backend.description}`);
        return this.sweep(ctx, store);
      } finally {
        await store.backend.close().catch(() => undefined);
      }
    });
  }

  /**
   * DELETE /api/v1/backups/{id}/objects/{objectId} (1.3 and later): one object's
   * restore points go as the whole backup's do (same immutability refusal up
   * front, same per-point deletion); the object leaves the catalogue when none
   * of its points is left, and the backup when it has no object left.
   */
  async deleteObject(backupId: string, objectId: string, options: DeleteObjectOptions): Promise<SessionRecord> {
    const backup = await this.deps.backups.getBackup(backupId);
    const object = await this.deps.backups.objectOfBackup(backup.id, objectId);
    const all = await this.deps.backups.restorePointsOfObject(object.id);
    let heldByGfs = 0;
    // Only the points that will go are checked for immutability: those GFS flags keep stay anyway.
    const { store, points } = await this.openChecked(backup, `"${object.name}" in backup "${backup.name}"`, async (opened) => {
      if (options.includeGFS) return all;
      const going: Point[] = [];
      for (const point of all) {
        const ref = refOf(point.location);
        if (ref && (await readGfsPeriods(opened, ref)).length > 0) heldByGfs++;
        else going.push(point);
      }
      return going;
    });
    const spec = {
      name: `Delete "${object.name}" from backup "${backup.name}"`,
      type: 'DeleteBackup' as const,
      resourceId: backup.id,
      resourceReference: `/api/v1/backups/${backup.id}/objects/${object.id}`,
      createdBy: options.createdBy,
    };
    return this.deps.runner.start(spec, async (ctx) => {
      try {
        const failed = await this.deleteAll(ctx, store, points);
        if (failed) return failed;
        const gone = await this.deps.backups.forgetObjectIfEmpty(backup.id, object.id);
        const held = heldByGfs > 0 ? `; ${heldByGfs} restore point(s) with GFS flags kept (includeGFS deletes them too)` : '';
        await ctx.log(`${points.length} restore point(s) of "${object.name}" removed from ${store.backend.description}${held}`);
        if (gone.backup) await ctx.log(`Backup "${backup.name}" had no object left and was removed`);
        return this.sweep(ctx, store);
      } finally {
        await store.backend.close().catch(() => undefined);
      }
    });
  }

  /**
   * The backup's repository and the points to delete (`select` chooses them from the opened store), once none of them is
   * immutable: 503 when the repository is unreachable, 400 naming `subject` and the date when a point is locked.
   */
  private async openChecked(
    backup: { id: string; name: string; repository_id: string },
    subject: string,
    select: (store: ChunkStore) => Promise<Point[]>,
  ): Promise<{ store: ChunkStore; points: Point[] }> {
    let store: ChunkStore;
    try {
      store = await this.deps.openRepository(backup.repository_id);
    } catch (err) {
      throw new ApiError(503, 'ServiceUnavailable', `The repository of backup "${backup.name}" cannot be reached, so nothing was deleted: ${(err as Error).message}`, backup.id);
    }
    try {
      const points = await select(store);
      await this.refuseImmutable(store, backup.id, subject, points);
      return { store, points };
    } catch (err) {
      await store.backend.close().catch(() => undefined);
      throw err;
    }
  }

  /** 400 naming how many points are immutable and until when the last of them is: the date they can all go. */
  private async refuseImmutable(store: ChunkStore, backupId: string, subject: string, points: Point[]): Promise<void> {
    const locked: Array<{ id: string; until: Date }> = [];
    for (const point of points) {
      const ref = refOf(point.location);
      const until = ref ? await restorePointImmutableUntil(store, ref) : undefined;
      if (until) locked.push({ id: point.id, until });
    }
    if (locked.length === 0) return;
    const last = locked.reduce((a, b) => (b.until > a.until ? b : a));
    const first = locked.reduce((a, b) => (b.until < a.until ? b : a));
    throw badRequest(
      `${subject} cannot be deleted yet: ${locked.length} of its ${points.length} restore point(s) are immutable in ${store.backend.description}` +
        ` (restore point ${first.id} until ${first.until.toISOString()}${locked.length > 1 ? `, the last one (${last.id}) until ${last.until.toISOString()}` : ''}).` +
        ` Nothing was deleted; all of it can be deleted after ${last.until.toISOString()}.`,
      backupId,
    );
  }

  /** Deletes the points oldest first; a lock met half-way (set after the check) stops the rest, and says why. */
  /** The chunks only the deleted points used go now (a failure leaves them to the next sweep: Warning). */
  private async sweep(ctx: SessionContext, store: ChunkStore): Promise<SessionOutcome | undefined> {
    const failure = await removeUnreferencedData(ctx, store, { graceMs: this.deps.gcGraceMs, signal: ctx.signal });
    return failure ? { result: 'Warning', message: `The restore points were deleted; ${failure}` } : undefined;
  }

  private async deleteAll(ctx: SessionContext, store: ChunkStore, points: Array<{ id: string; location: string }>): Promise<SessionOutcome | undefined> {
    for (const [i, point] of points.entries()) {
      const ref = refOf(point.location);
      try {
        if (ref) await deleteRestorePoint(store, ref);
      } catch (err) {
        // Raced with a lock set after the check (or a running backup using the point as its base): the rest stays, and says why.
        if (err instanceof ChunkStoreError && (err.kind === 'Immutable' || err.kind === 'Protected')) {
          await ctx.log(`Restore point ${point.id} kept`, 'Failed', err.message);
          return { result: 'Failed', message: `${i} of ${points.length} restore point(s) deleted; ${err.message}` };
        }
        throw err;
      }
      await this.deps.backups.forgetRestorePoint(point.id);
      await ctx.progress(((i + 1) / points.length) * 100);
    }
    return undefined;
  }
}
