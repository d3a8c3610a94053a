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
import { ChunkStoreError, deleteRestorePoint, restorePointImmutableUntil, type ChunkStore, type RestorePointRef } from '../../chunkstore/index.js';
import { ApiError, badRequest } from '../../http/errors.js';
import type { SessionRecord } from '../../sessions/model.js';
import type { SessionContext, SessionOutcome, SessionRunner } from '../../sessions/runner.js';
import type { BackupsService } from './service.js';

export interface BackupDeletionDeps {
  backups: BackupsService;
  runner: SessionRunner;
  /** The chunk store of a repository (the jobs section opens it as its runs do). */
  openRepository(repositoryId: string): Promise<ChunkStore>;
}

export interface DeleteOptions {
  /** Veeam's fromDB: remove the backup from the configuration only; the files stay. */
  fromDB?: boolean;
  createdBy?: string;
}

/** The catalogue's location is the chunk store path backup/object/restorePoint. */
function refOf(location: string): RestorePointRef | undefined {
  const [backupId, objectId, restorePointId, ...rest] = location.split('/');
  return backupId && objectId && restorePointId && rest.length === 0 ? { backupId, objectId, restorePointId } : undefined;
}

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
    let store: ChunkStore;
    try {
      store = await this.deps.openRepository(backup.repository_id);
    } catch (err) {
      throw new ApiError(503, 'ServiceUnavailable', `The repository of backup "${backup.name}" cannot be reached, so nothing was deleted: ${(err as Error).message}`, backup.id);
    }
    try {
      await this.refuseImmutable(store, backup, points);
    } catch (err) {
      await store.backend.close().catch(() => undefined);
      throw err;
    }
    return this.deps.runner.start(spec, async (ctx) => {
      try {
        return await this.deleteAll(ctx, store, backup, points);
      } finally {
        await store.backend.close().catch(() => undefined);
      }
    });
  }

  /** 400 naming how many points are immutable and until when the last of them is: the date the backup can go. */
  private async refuseImmutable(store: ChunkStore, backup: { id: string; name: string }, points: Array<{ id: string; location: string; creation_time: string }>): Promise<void> {
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
      `Backup "${backup.name}" cannot be deleted yet: ${locked.length} of its ${points.length} restore point(s) are immutable in ${store.backend.description}` +
        ` (restore point ${first.id} until ${first.until.toISOString()}${locked.length > 1 ? `, the last one (${last.id}) until ${last.until.toISOString()}` : ''}).` +
        ` Nothing was deleted; the whole backup can be deleted after ${last.until.toISOString()}.`,
      backup.id,
    );
  }

  private async deleteAll(
    ctx: SessionContext,
    store: ChunkStore,
    backup: { id: string; name: string },
    points: Array<{ id: string; location: string }>,
  ): Promise<SessionOutcome | undefined> {
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
    await this.deps.backups.forgetBackup(backup.id);
    await ctx.log(
      `Backup "${backup.name}" deleted: ${points.length} restore point(s) removed from ${store.backend.description}; unreferenced chunks go at the next garbage collection`,
    );
    return undefined;
  }
}
