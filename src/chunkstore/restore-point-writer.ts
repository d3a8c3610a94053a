/**
 * Writing one restore point: lock → disks (chunks, then each disk's index) →
 * manifest last → unlock (docs/repository-format.md §6, §7).
 */
import { randomUUID } from 'node:crypto';
import { leaseChunkWorkers } from './chunk-workers.js';
import { writeDiskChunks, type DiskSource, type DiskWriteStats } from './disk-writer.js';
import { abortError, ChunkStoreError } from './errors.js';
import { chunkCount, digestAt, encodeIndex, isZeroDigest, type FixedIndex } from './fixed-index.js';
import { keyForPassword, type StoreKey } from './keys.js';
import { checkId, chunkKey, indexName, manifestKey, QUARANTINE_PREFIX, restorePointFolder, restorePointPath, type RestorePointRef } from './layout.js';
import { releaseWriterLock, takeWriterLock } from './locks.js';
import { encodeManifest, type ManifestBody, type ManifestDisk } from './manifest.js';
import { readDiskIndex, readRestorePoint } from './restore-point-reader.js';
import type { ChunkStore } from './repository.js';

export interface RestorePointWriteOptions extends RestorePointRef {
  createdAt?: Date;
  /** The job's encryption password; absent = not encrypted. */
  password?: string | undefined;
  /** zstd level (settings.ts zstdLevelFor); 0 stores chunks raw. */
  compressionLevel: number;
  job?: unknown;
  object?: unknown;
  /**
   * The previous restore point of the same object, to deduplicate against
   * without asking the storage (an incremental). Ignored when it is sealed
   * with another key; leave it out for an active full.
   */
  base?: RestorePointRef | undefined;
  /**
   * A synthetic full (docs/repository-format.md §6): read and deduplicated as an
   * incremental against `base`, recorded as a full. Every index names every chunk
   * of its disk, so a full is a matter of record, not of data.
   */
  synthetic?: boolean;
  /** Chunks in flight per disk (default 4). */
  inFlight?: number;
  /** Worker threads hashing and sealing (default 2). */
  threads?: number;
  signal?: AbortSignal | undefined;
}

export interface DiskDescription {
  key: string;
  uid?: string;
  name: string;
  chunkSize: number;
}

export interface DiskWriteResult extends DiskWriteStats {
  indexCsum: string;
}

export interface RestorePointWriter {
  readonly ref: RestorePointRef;
  readonly keyFingerprint: string | undefined;
  /** Reads and stores one disk; its index is stored at once, the restore point appears only at commit(). */
  writeDisk(disk: DiskDescription, source: DiskSource, options?: { onProgress?(stats: DiskWriteStats): void }): Promise<DiskWriteResult>;
  /** Writes the manifest: from now on the restore point exists. */
  commit(): Promise<ManifestBody>;
  /** Gives up: no manifest; chunks and indexes written so far are left to GC. */
  abort(): Promise<void>;
}

export async function beginRestorePoint(store: ChunkStore, options: RestorePointWriteOptions): Promise<RestorePointWriter> {
  const { backend } = store;
  const ref: RestorePointRef = { backupId: options.backupId, objectId: options.objectId, restorePointId: options.restorePointId };
  const folder = restorePointFolder(ref);
  if (await backend.head(manifestKey(ref))) throw new ChunkStoreError('InvalidArgument', `The restore point ${restorePointPath(ref)} already exists.`);
  if (!Number.isInteger(options.compressionLevel) || options.compressionLevel < 0 || options.compressionLevel > 22)
    throw new ChunkStoreError('InvalidArgument', `compression level ${options.compressionLevel} is not a zstd level 0-22`);
  const writerId = randomUUID();
  const lock = await takeWriterLock(backend, writerId, options.base ? [restorePointPath(options.base)] : []);
  const startedMs = Date.parse(lock.startedAt);
  const workers = leaseChunkWorkers(options.threads);
  let finished = false;
  const finish = async () => {
    if (finished) return;
    finished = true;
    await workers.close();
    await releaseWriterLock(backend, writerId);
  };

  try {
    const key: StoreKey | undefined = options.password !== undefined ? await keyForPassword(backend, options.password) : undefined;
    const previousIndexes = new Map<string, FixedIndex>();
    let kind: ManifestBody['kind'] = 'Full';
    if (options.base) {
      const base = await readRestorePoint(store, options.base, { key, passwordGiven: key !== undefined }).catch((err: unknown) => {
        // Sealed with another key (the password changed), or unencrypted while this one is: a full, as Veeam does.
        if (err instanceof ChunkStoreError && (err.kind === 'WrongPassword' || err.kind === 'PasswordRequired')) return undefined;
        throw err;
      });
      if (base && base.keyFingerprint === key?.fingerprint) {
        kind = options.synthetic ? 'Full' : 'Increment';
        for (const disk of base.manifest.disks) previousIndexes.set(disk.key, await readDiskIndex(store, base, disk.key));
      }
    }
    const known = new Set<string>();
    // Usually empty: one listing per restore point.
    const suspect = new Set<string>();
    if (previousIndexes.size) for await (const blob of backend.list(QUARANTINE_PREFIX)) suspect.add(blob.key.slice(QUARANTINE_PREFIX.length));
    const disks: ManifestDisk[] = [];
    // On immutable storage every chunk this restore point references must stay locked as long as it does,
    // reused ones included: their retention is extended at commit, in batches.
    const referenced = new Set<string>();
    const createdAt = (options.createdAt ?? new Date()).toISOString();
    return {
      ref,
      keyFingerprint: key?.fingerprint,
      async writeDisk(disk, source, writeOptions = {}) {
        if (finished) throw new ChunkStoreError('InvalidArgument', `The restore point ${restorePointPath(ref)} is already committed or aborted.`);
        checkId(disk.key, 'disk key');
        if (disks.some((d) => d.key === disk.key)) throw new ChunkStoreError('InvalidArgument', `disk ${disk.key} was written twice`);
        const { index, stats } = await writeDiskChunks(backend, source, {
          chunkSize: disk.chunkSize,
          level: options.compressionLevel,
          key,
          workers,
          previous: previousIndexes.get(disk.key),
          known,
          suspect,
          inFlight: options.inFlight,
          touchBeforeMs: startedMs,
          signal: options.signal,
          onProgress: writeOptions.onProgress,
        });
        if (backend.retention)
          for (let i = 0; i < chunkCount(index.size, index.chunkSize); i++) {
            const digest = digestAt(index, i);
            if (!isZeroDigest(digest)) referenced.add(chunkKey(digest));
          }
        const name = indexName(disk.key);
        await backend.put(`${folder}${name}`, encodeIndex(index), options.signal);
        disks.push({
          key: disk.key,
          uid: disk.uid ?? '',
          name: disk.name,
          capacity: source.size,
          chunkSize: disk.chunkSize,
          index: name,
          indexCsum: index.csum,
          chunks: stats.chunks,
          zeroChunks: stats.zeroChunks,
          newChunks: stats.newChunks,
          storedBytes: stats.bytesStored,
        });
        return { ...stats, indexCsum: index.csum };
      },
      async commit() {
        if (finished) throw new ChunkStoreError('InvalidArgument', `The restore point ${restorePointPath(ref)} is already committed or aborted.`);
        if (options.signal?.aborted) throw abortError(options.signal);
        const body: ManifestBody = {
          ...ref,
          createdAt,
          kind,
          ...(kind === 'Full' && previousIndexes.size > 0 ? { synthetic: true as const } : {}),
          compression: { level: options.compressionLevel },
          job: options.job ?? {},
          object: options.object ?? {},
          disks,
        };
        try {
          if (backend.retention) await backend.retention.extend([...referenced], new Date(Date.now() + backend.retention.days * 86_400_000));
          if (!(await backend.putIfAbsent(manifestKey(ref), encodeManifest(body, key))))
            throw new ChunkStoreError('InvalidArgument', `The restore point ${restorePointPath(ref)} already exists.`);
        } finally {
          await finish();
        }
        return body;
      },
      abort: finish,
    };
  } catch (err) {
    await finish();
    throw err;
  }
}
