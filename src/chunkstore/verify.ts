/**
 * Verification: re-read every chunk the restore points need and check it
 * (CRC, GCM tag, digest); rename corrupt ones to .bad and name the restore
 * points that need them (docs/repository-format.md §4, §9).
 */
import { BlobNotFoundError } from './backend.js';
import { leaseChunkWorkers } from './chunk-workers.js';
import { ChunkStoreError } from './errors.js';
import { chunkCount, decodeIndex, digestAt, isZeroDigest, type FixedIndex } from './fixed-index.js';
import { openKey, type StoreKey } from './keys.js';
import { BAD_SUFFIX, chunkKey, quarantineKey, restorePointFolder, restorePointPath, type RestorePointRef } from './layout.js';
import { readDiskIndex } from './restore-point-reader.js';
import { listRestorePoints } from './restore-points.js';
import type { ChunkStore } from './repository.js';

export interface VerifyOptions {
  /** Encryption passwords to open encrypted restore points; without theirs only the CRC of their chunks is checked. */
  passwords?: string[];
  /** Only these restore points (default: all). */
  refs?: RestorePointRef[];
  /** Rename corrupt chunks to .bad (default true), so the next backup stores them again. */
  quarantine?: boolean;
  threads?: number;
  /** Chunks read at once (default 4; 8 on a local repository, whose workers read the files). */
  inFlight?: number;
  signal?: AbortSignal;
  onProgress?(checkedChunks: number, totalChunks: number): void;
}

export interface ChunkUse {
  restorePoint: string;
  disk: string;
  offset: number;
}

export interface BadChunk {
  digest: string;
  problem: string;
  usedBy: ChunkUse[];
}

export interface VerifyReport {
  restorePoints: number;
  checkedChunks: number;
  checkedBytes: number;
  /** Chunks of encrypted restore points without their password: CRC checked only. */
  crcOnlyChunks: number;
  badChunks: BadChunk[];
  /** Restore points that need a bad or missing chunk, or whose manifest/index is unreadable, with the reasons. */
  damagedRestorePoints: Array<{ restorePoint: string; problems: string[] }>;
}

interface Need {
  key: StoreKey | undefined;
  usedBy: ChunkUse[];
}

export async function verifyRestorePoints(store: ChunkStore, options: VerifyOptions = {}): Promise<VerifyReport> {
  const { backend } = store;
  const wanted = options.refs ? new Set(options.refs.map(restorePointPath)) : undefined;
  const points = (await listRestorePoints(store, { passwords: options.passwords })).filter((p) => !wanted || wanted.has(restorePointPath(p)));
  const damaged = new Map<string, string[]>();
  const damage = (rp: string, problem: string) => damaged.set(rp, [...(damaged.get(rp) ?? []), problem]);
  const needs = new Map<string, Need>();
  const keys = new Map<string, StoreKey | undefined>();

  for (const point of points) {
    const rpPath = restorePointPath(point);
    const indexes: Array<{ disk: string; index: FixedIndex }> = [];
    let key: StoreKey | undefined;
    try {
      if (point.manifest) {
        if (point.keyFingerprint) {
          if (!keys.has(point.keyFingerprint)) {
            let opened: StoreKey | undefined;
            for (const p of options.passwords ?? []) if ((opened = await openKey(backend, point.keyFingerprint, p).catch(() => undefined))) break;
            keys.set(point.keyFingerprint, opened);
          }
          key = keys.get(point.keyFingerprint);
        }
        const opened = { ref: point, manifest: point.manifest, keyFingerprint: point.keyFingerprint, key };
        for (const disk of point.manifest.disks) indexes.push({ disk: disk.key, index: await readDiskIndex(store, opened, disk.key) });
      } else if (point.keyFingerprint && point.createdAt) {
        // Encrypted, no password: the index files beside the manifest still give the digests (CRC checks only).
        for await (const blob of backend.list(restorePointFolder(point))) {
          const m = /disk-([^/]+)\.fidx$/.exec(blob.key);
          if (m) indexes.push({ disk: m[1]!, index: decodeIndex(await backend.get(blob.key), `${blob.key}`) });
        }
      } else {
        damage(rpPath, point.problem ?? 'unreadable manifest');
        continue;
      }
    } catch (err) {
      damage(rpPath, (err as Error).message);
      continue;
    }
    for (const { disk, index } of indexes) {
      for (let i = 0; i < chunkCount(index.size, index.chunkSize); i++) {
        const digest = digestAt(index, i);
        if (isZeroDigest(digest)) continue;
        const hex = digest.toString('hex');
        const need = needs.get(hex) ?? { key, usedBy: [] };
        need.key ??= key;
        need.usedBy.push({ restorePoint: rpPath, disk, offset: i * index.chunkSize });
        needs.set(hex, need);
      }
    }
  }

  const report: VerifyReport = { restorePoints: points.length, checkedChunks: 0, checkedBytes: 0, crcOnlyChunks: 0, badChunks: [], damagedRestorePoints: [] };
  const workers = leaseChunkWorkers(options.threads);
  // Checks of local files hold no buffer on this thread (each worker reads into its own): a deeper queue keeps both workers busy.
  const limit = Math.max(1, options.inFlight ?? (backend.localPath ? 8 : 4));
  const running = new Set<Promise<void>>();
  let failure: unknown;
  const checkOne = async (hex: string, need: Need) => {
    const key = chunkKey(hex);
    let problem: string | undefined;
    let found = false;
    const local = backend.localPath?.(key);
    if (local) {
      // A local repository: the worker reads the file itself (no transfer, one reused buffer per worker).
      const checked = await workers.checkFile(local, Buffer.from(hex, 'hex'), need.key);
      found = !checked.missing;
      report.checkedBytes += checked.bytes;
      problem = checked.missing ? 'missing' : checked.problem;
    } else {
      let blob: Buffer | undefined;
      try {
        blob = await backend.get(key);
      } catch (err) {
        if (!(err instanceof BlobNotFoundError)) throw err;
        problem = 'missing';
      }
      if (blob) {
        found = true;
        report.checkedBytes += blob.length;
        problem = await workers.check(blob, Buffer.from(hex, 'hex'), need.key);
      }
    }
    if (found) {
      if (problem === 'PASSWORD') {
        report.crcOnlyChunks++;
        problem = undefined;
      }
      if (problem && options.quarantine !== false) await backend.rename(key, `${key}${BAD_SUFFIX}`);
    }
    report.checkedChunks++;
    options.onProgress?.(report.checkedChunks, needs.size);
    if (!problem) return;
    // Writers must not reuse this digest from a previous index without asking the storage (docs §7, §9).
    await backend.put(quarantineKey(hex), Buffer.from(`${JSON.stringify({ problem, at: new Date().toISOString() })}\n`));
    report.badChunks.push({ digest: hex, problem, usedBy: need.usedBy });
    for (const use of need.usedBy)
      damage(use.restorePoint, `disk ${use.disk} at offset ${use.offset}: chunk ${hex} ${problem === 'missing' ? 'is missing' : `is corrupt: ${problem}`}`);
  };
  try {
    for (const [hex, need] of needs) {
      if (failure) break;
      if (options.signal?.aborted) throw new ChunkStoreError('Aborted', 'Verification was stopped.');
      const task = checkOne(hex, need).then(
        () => void running.delete(task),
        (err) => {
          running.delete(task);
          failure ??= err;
        },
      );
      running.add(task);
      while (running.size >= limit) await Promise.race(running);
    }
    await Promise.all(running);
    if (failure) throw failure;
  } finally {
    await workers.close();
  }
  report.damagedRestorePoints = [...damaged].map(([restorePoint, problems]) => ({ restorePoint, problems }));
  return report;
}
