/**
 * Garbage collection, mark and sweep with a grace window
 * (docs/repository-format.md §7, §9). Needs no password: indexes are not
 * encrypted, so the chunks of every restore point are marked from the index
 * files beside its manifest.
 */
import { decodeIndex, chunkCount, digestAt, isZeroDigest } from './fixed-index.js';
import { BACKUPS_PREFIX, CHUNKS_PREFIX, digestOfChunkKey, LOCKS_PREFIX, MANIFEST_NAME, QUARANTINE_PREFIX, ROOT } from './layout.js';
import { TEMP_MARKER } from './backend.js';
import { listWriterLocks } from './locks.js';
import { ChunkStoreError } from './errors.js';
import type { ChunkStore } from './repository.js';

export interface GcOptions {
  /** Safety margin before the oldest running writer (clock skew between nodes and storage); default 1 h. */
  graceMs?: number;
  /** A lock older than this is taken as left behind by a crash and ignored; default 7 days. */
  staleLockMs?: number;
  /** Only count what would be deleted. */
  dryRun?: boolean;
  now?: number;
  signal?: AbortSignal;
}

export interface GcReport {
  restorePoints: number;
  markedChunks: number;
  keptUnreferencedChunks: number;
  deletedChunks: number;
  deletedBytes: number;
  deletedTempFiles: number;
  deletedOrphanFiles: number;
  /** The time before which unreferenced files were deleted (ISO). */
  cutoff: string;
  staleLocks: string[];
}

export async function collectGarbage(store: ChunkStore, options: GcOptions = {}): Promise<GcReport> {
  const { backend } = store;
  const now = options.now ?? Date.now();
  const graceMs = options.graceMs ?? 3_600_000;
  const staleLockMs = options.staleLockMs ?? 7 * 86_400_000;
  // The locks are read before anything else: a writer starting after this starts after `now`, so after the cutoff.
  const locks = await listWriterLocks(backend);
  const staleLocks = locks.filter((l) => Date.parse(l.startedAt) < now - staleLockMs);
  const oldestRunning = Math.min(now, ...locks.filter((l) => !staleLocks.includes(l)).map((l) => Date.parse(l.startedAt)));
  const cutoff = oldestRunning - graceMs;
  const report: GcReport = {
    restorePoints: 0,
    markedChunks: 0,
    keptUnreferencedChunks: 0,
    deletedChunks: 0,
    deletedBytes: 0,
    deletedTempFiles: 0,
    deletedOrphanFiles: 0,
    cutoff: new Date(cutoff).toISOString(),
    staleLocks: staleLocks.map((l) => `${l.writerId} (${l.host}, pid ${l.pid}, since ${l.startedAt})`),
  };
  const check = () => {
    if (options.signal?.aborted) throw new ChunkStoreError('Aborted', 'Garbage collection was stopped.');
  };

  // Mark. Files are grouped by restore point folder: a folder with a manifest is alive.
  const folders = new Map<string, { manifest: boolean; files: Array<{ key: string; modifiedMs: number }> }>();
  for await (const blob of backend.list(BACKUPS_PREFIX)) {
    const slash = blob.key.lastIndexOf('/');
    const folder = blob.key.slice(0, slash + 1);
    const entry = folders.get(folder) ?? { manifest: false, files: [] };
    if (blob.key.slice(slash + 1) === MANIFEST_NAME) entry.manifest = true;
    entry.files.push(blob);
    folders.set(folder, entry);
  }
  const marked = new Set<string>();
  for (const [folder, entry] of folders) {
    check();
    if (!entry.manifest) continue;
    report.restorePoints++;
    for (const file of entry.files) {
      if (!file.key.endsWith('.fidx')) continue;
      // An unreadable index of a live restore point stops GC: sweeping without its marks could delete what it needs.
      const index = decodeIndex(await backend.get(file.key), `${file.key} (${folder})`);
      for (let i = 0; i < chunkCount(index.size, index.chunkSize); i++) {
        const digest = digestAt(index, i);
        if (!isZeroDigest(digest)) marked.add(digest.toString('hex'));
      }
    }
  }
  report.markedChunks = marked.size;

  // Sweep.
  // On immutable storage an unreferenced file may still be under retention: it stays until its date.
  const remove = async (key: string): Promise<boolean> => {
    if (options.dryRun) return true;
    try {
      await backend.delete(key);
      return true;
    } catch (err) {
      if (err instanceof ChunkStoreError && err.kind === 'Immutable') return false;
      throw err;
    }
  };
  for await (const blob of backend.list(CHUNKS_PREFIX)) {
    check();
    if (blob.key.includes(TEMP_MARKER)) {
      if (blob.modifiedMs < cutoff) {
        await remove(blob.key);
        report.deletedTempFiles++;
      }
      continue;
    }
    const digest = digestOfChunkKey(blob.key);
    if (!digest || marked.has(digest)) continue;
    if (blob.modifiedMs >= cutoff) {
      report.keptUnreferencedChunks++;
      continue;
    }
    // Asked again just before deleting: a writer may have touched it since the listing (a dedup hit, §7).
    const fresh = await backend.head(blob.key);
    if (!fresh || fresh.modifiedMs >= cutoff) {
      if (fresh) report.keptUnreferencedChunks++;
      continue;
    }
    if (!(await remove(blob.key))) {
      report.keptUnreferencedChunks++;
      continue;
    }
    report.deletedChunks++;
    report.deletedBytes += fresh.size;
  }
  // Half-written restore points (no manifest) and temp files elsewhere, once older than the cutoff.
  for (const entry of folders.values()) {
    for (const file of entry.files) {
      if (file.modifiedMs >= cutoff) continue;
      if (file.key.includes(TEMP_MARKER)) {
        if (await remove(file.key)) report.deletedTempFiles++;
      } else if (!entry.manifest) {
        if (await remove(file.key)) report.deletedOrphanFiles++;
      }
    }
  }
  // Quarantine markers of digests nothing references any more have nothing left to heal.
  for await (const blob of backend.list(QUARANTINE_PREFIX)) {
    if (!marked.has(blob.key.slice(QUARANTINE_PREFIX.length)) && blob.modifiedMs < cutoff) await remove(blob.key);
  }
  // A stale lock's writer is gone (its chunks are swept above): the file goes too, or it would be reported forever.
  if (!options.dryRun) for (const lock of staleLocks) await backend.delete(lock.key);
  for (const prefix of [`${ROOT}/keys/`, LOCKS_PREFIX]) {
    for await (const blob of backend.list(prefix)) {
      if (blob.key.includes(TEMP_MARKER) && blob.modifiedMs < cutoff) {
        await remove(blob.key);
        report.deletedTempFiles++;
      }
    }
  }
  return report;
}
