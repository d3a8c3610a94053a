/**
 * Retention: deleting restore points (docs/repository-format.md §9). The
 * manifest goes first, so a half-deleted point is simply absent; chunks are
 * left to garbage collection.
 */
import { ChunkStoreError } from './errors.js';
import { manifestKey, restorePointFolder, restorePointPath, type RestorePointRef } from './layout.js';
import { gfsKeptUntil, readGfsPeriods, type GfsPolicy } from './gfs.js';
import { listWriterLocks } from './locks.js';
import { listRestorePoints, type ListedRestorePoint } from './restore-points.js';
import type { ChunkStore } from './repository.js';

/** Deletes one restore point; refused while a running writer deduplicates against it (§7). */
export async function deleteRestorePoint(store: ChunkStore, ref: RestorePointRef): Promise<void> {
  const path = restorePointPath(ref);
  const users = (await listWriterLocks(store.backend)).filter((l) => l.base.includes(path));
  if (users.length)
    throw new ChunkStoreError('Protected', `The restore point ${path} is the base of a running backup (writer ${users[0]!.writerId}); it is kept until that backup ends.`);
  const { backend } = store;
  try {
    await backend.delete(manifestKey(ref));
  } catch (err) {
    if (err instanceof ChunkStoreError && err.kind === 'Immutable') throw new ChunkStoreError('Immutable', `The restore point ${path} cannot be deleted yet: ${err.message}`);
    throw err;
  }
  for await (const blob of backend.list(restorePointFolder(ref))) await backend.delete(blob.key);
}

/**
 * Until when a restore point cannot be deleted (its manifest's retention),
 * undefined when nothing holds it: lets a caller refuse a whole deletion up
 * front instead of failing half-way through.
 */
export async function restorePointImmutableUntil(store: ChunkStore, ref: RestorePointRef, now = Date.now()): Promise<Date | undefined> {
  const until = await store.backend.retention?.until(manifestKey(ref));
  return until && until.getTime() > now ? until : undefined;
}

export interface RetentionRule {
  /** Keep this many newest restore points (Veeam's RestorePoints retention). */
  keepRestorePoints?: number;
  /** Keep restore points made within this many days (Veeam's Days retention). */
  keepDays?: number;
  /** Long-term retention: a point beyond the rule whose GFS flags still hold it is kept (gfs.ts). */
  gfs?: GfsPolicy;
  now?: Date;
}

/**
 * Applies a retention rule to one object's restore points; the newest one is
 * always kept. Returns what was deleted, what had to be kept because a
 * running backup uses it, and what its GFS flags keep (with the date they hold it until).
 */
export async function applyRetention(
  store: ChunkStore,
  chain: { backupId: string; objectId: string },
  rule: RetentionRule,
): Promise<{
  deleted: ListedRestorePoint[];
  kept: ListedRestorePoint[];
  protected: Array<ListedRestorePoint & { reason: string }>;
  gfsKept: Array<ListedRestorePoint & { until: Date }>;
}> {
  if (rule.keepRestorePoints === undefined && rule.keepDays === undefined) throw new ChunkStoreError('InvalidArgument', 'a retention rule needs keepRestorePoints or keepDays');
  const points = (await listRestorePoints(store, { within: chain })).filter((p) => p.createdAt);
  const newestFirst = [...points].reverse();
  const now = rule.now ?? new Date();
  const cutoff = rule.keepDays !== undefined ? now.getTime() - rule.keepDays * 86_400_000 : undefined;
  const deleted: ListedRestorePoint[] = [];
  const kept: ListedRestorePoint[] = [];
  const guarded: Array<ListedRestorePoint & { reason: string }> = [];
  const gfsKept: Array<ListedRestorePoint & { until: Date }> = [];
  for (const [i, point] of newestFirst.entries()) {
    const keep = i === 0 || (rule.keepRestorePoints !== undefined ? i < rule.keepRestorePoints : Date.parse(point.createdAt) >= cutoff!);
    if (keep) {
      kept.push(point);
      continue;
    }
    const until = rule.gfs ? gfsKeptUntil(rule.gfs, { createdAt: point.createdAt, periods: await readGfsPeriods(store, point) }) : undefined;
    if (until && until > now) {
      gfsKept.push({ ...point, until });
      continue;
    }
    try {
      await deleteRestorePoint(store, point);
      deleted.push(point);
    } catch (err) {
      // Still immutable (object lock, hardened repository): kept until its date, retried by a later run.
      if (!(err instanceof ChunkStoreError && (err.kind === 'Protected' || err.kind === 'Immutable'))) throw err;
      guarded.push({ ...point, reason: err.message });
    }
  }
  return { deleted, kept, protected: guarded, gfsKept };
}
