/**
 * Reading a restore point back: manifest → index → chunks, every one checked
 * (docs/repository-format.md §4-§6). Errors name the disk and the offset.
 */
import { BlobNotFoundError } from './backend.js';
import { decodeChunk } from './chunk-codec.js';
import { leaseChunkWorkers, type ChunkWorkers } from './chunk-workers.js';
import { ChunkStoreError } from './errors.js';
import { chunkCount, chunkLength, decodeIndex, digestAt, isZeroDigest, type FixedIndex } from './fixed-index.js';
import { openKey, type StoreKey } from './keys.js';
import { chunkKey, manifestKey, restorePointFolder, restorePointPath, type RestorePointRef } from './layout.js';
import { decodeManifest, readManifestOuter, type ManifestBody } from './manifest.js';
import type { ChunkStore } from './repository.js';

export interface OpenedRestorePoint {
  ref: RestorePointRef;
  manifest: ManifestBody;
  keyFingerprint: string | undefined;
  key: StoreKey | undefined;
}

export interface RestorePointAccess {
  /** The encryption password of an encrypted restore point. */
  password?: string | undefined;
  /** An already opened key (internal: spares a second Argon2id). */
  key?: StoreKey | undefined;
  passwordGiven?: boolean;
}

export async function readRestorePoint(store: ChunkStore, ref: RestorePointRef, access: RestorePointAccess = {}): Promise<OpenedRestorePoint> {
  const where = `${restorePointPath(ref)} in the ${store.backend.description}`;
  let bytes: Buffer;
  try {
    bytes = await store.backend.get(manifestKey(ref));
  } catch (err) {
    if (err instanceof BlobNotFoundError) throw new ChunkStoreError('NotFound', `There is no restore point ${where}.`);
    throw err;
  }
  const outer = readManifestOuter(bytes, where);
  let key = access.key;
  if (outer.keyFingerprint !== undefined && key?.fingerprint !== outer.keyFingerprint && access.password !== undefined) {
    key = await openKey(store.backend, outer.keyFingerprint, access.password);
  }
  const encrypted = outer.keyFingerprint !== undefined;
  const manifest = decodeManifest(bytes, where, encrypted ? key : undefined);
  return { ref, manifest, keyFingerprint: outer.keyFingerprint, key: encrypted ? key : undefined };
}

export async function readDiskIndex(store: ChunkStore, rp: OpenedRestorePoint, diskKey: string): Promise<FixedIndex> {
  const disk = rp.manifest.disks.find((d) => d.key === diskKey);
  if (!disk) throw new ChunkStoreError('NotFound', `The restore point ${restorePointPath(rp.ref)} has no disk ${diskKey}.`);
  const key = `${restorePointFolder(rp.ref)}${disk.index}`;
  let file: Buffer;
  try {
    file = await store.backend.get(key);
  } catch (err) {
    if (err instanceof BlobNotFoundError) throw new ChunkStoreError('CorruptIndex', `The index of disk ${diskKey} (${disk.name}) of ${restorePointPath(rp.ref)} is missing.`);
    throw err;
  }
  const index = decodeIndex(file, `of disk ${diskKey} (${disk.name}) of ${restorePointPath(rp.ref)}`, disk.indexCsum);
  if (index.size !== disk.capacity || index.chunkSize !== disk.chunkSize)
    throw new ChunkStoreError('CorruptIndex', `The index of disk ${diskKey} of ${restorePointPath(rp.ref)} does not match its manifest.`);
  return index;
}

export interface DiskReader {
  readonly size: number;
  readonly chunkSize: number;
  /** `length` bytes from `offset` (clipped at the end of the disk): random access, e.g. for an NBD export. */
  read(offset: number, length: number, signal?: AbortSignal): Promise<Buffer>;
  /** The whole disk in order, one chunk per item, reading ahead `readAhead` chunks (default 4), checked in `threads` workers (default 2). */
  stream(options?: { readAhead?: number; threads?: number; signal?: AbortSignal }): AsyncGenerator<Buffer>;
}

/** Opens one disk of a restore point for reading; every chunk is checked before its bytes are returned. */
export async function openDisk(store: ChunkStore, rp: OpenedRestorePoint, diskKey: string): Promise<DiskReader> {
  const index = await readDiskIndex(store, rp, diskKey);
  const disk = rp.manifest.disks.find((d) => d.key === diskKey)!;
  const count = chunkCount(index.size, index.chunkSize);
  const label = `disk ${diskKey} (${disk.name}) of restore point ${restorePointPath(rp.ref)}`;
  // Two recent chunks: small sequential NBD reads hit the same chunk many times in a row.
  const cache = new Map<number, Promise<Buffer>>();

  /** Chunk i, checked: on this thread (random reads), or in a worker (streams, which keep several in flight). */
  const loadChunk = async (i: number, workers?: ChunkWorkers): Promise<Buffer> => {
    const digest = digestAt(index, i);
    const length = chunkLength(index, i);
    if (isZeroDigest(digest)) return Buffer.alloc(length);
    const what = `chunk ${digest.toString('hex')} of ${label} at offset ${i * index.chunkSize}`;
    let blob: Buffer;
    try {
      blob = await store.backend.get(chunkKey(digest));
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw new ChunkStoreError('MissingChunk', `The ${what} is missing from the ${store.backend.description}.`);
      throw err;
    }
    let plain: Buffer;
    if (workers) {
      const opened = await workers.open(blob, digest, rp.key);
      if (opened.problem === 'PASSWORD') throw new ChunkStoreError('PasswordRequired', `The ${what} is encrypted and no encryption password was given.`);
      if (!opened.plain) throw new ChunkStoreError('CorruptChunk', `The ${what} is corrupt: ${opened.problem}.`);
      plain = opened.plain;
    } else plain = decodeChunk(blob, digest, rp.key, `The ${what}`);
    if (plain.length !== length) throw new ChunkStoreError('CorruptChunk', `The ${what} holds ${plain.length} bytes instead of ${length}.`);
    return plain;
  };
  const cached = (i: number): Promise<Buffer> => {
    let p = cache.get(i);
    if (!p) {
      p = loadChunk(i);
      cache.set(i, p);
      p.catch(() => cache.delete(i));
      while (cache.size > 2) cache.delete(cache.keys().next().value!);
    }
    return p;
  };

  return {
    size: index.size,
    chunkSize: index.chunkSize,
    async read(offset, length, signal) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0)
        throw new ChunkStoreError('InvalidArgument', `cannot read ${length} bytes at offset ${offset} of ${label}`);
      const end = Math.min(index.size, offset + length);
      if (end <= offset) return Buffer.alloc(0);
      const parts: Buffer[] = [];
      for (let i = Math.floor(offset / index.chunkSize); i * index.chunkSize < end; i++) {
        if (signal?.aborted) throw signal.reason;
        const chunk = await cached(i);
        const start = i * index.chunkSize;
        parts.push(chunk.subarray(Math.max(0, offset - start), Math.min(chunk.length, end - start)));
      }
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    },
    async *stream(options = {}) {
      const ahead = Math.max(1, options.readAhead ?? 4);
      const workers = leaseChunkWorkers(options.threads);
      const window: Promise<Buffer>[] = [];
      let next = 0;
      const fill = () => {
        while (window.length < ahead && next < count) {
          const p = loadChunk(next++, workers);
          p.catch(() => undefined); // awaited in order below; this only silences the unawaited tail on early exit
          window.push(p);
        }
      };
      try {
        fill();
        while (window.length) {
          if (options.signal?.aborted) throw options.signal.reason;
          const chunk = await window.shift()!;
          fill();
          yield chunk;
        }
      } finally {
        await Promise.allSettled(window);
        await workers.close();
      }
    },
  };
}
