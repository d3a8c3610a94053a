/**
 * The streaming disk writer: a disk source → fixed chunks → zero skip → digest
 * → dedup → seal → put, with a fixed number of chunks in flight, → a fixed
 * index (docs/repository-format.md §4, §5, §7).
 */
import type { BlobBackend } from './backend.js';
import { movableBuffer, type ChunkWorkers } from './chunk-workers.js';
import { abortError, ChunkStoreError } from './errors.js';
import { chunkCount, chunkLength, digestAt, isZeroDigest, newIndex, sealIndex, type FixedIndex } from './fixed-index.js';
import type { StoreKey } from './keys.js';
import { chunkKey, quarantineKey } from './layout.js';

export interface Extent {
  offset: number;
  length: number;
}

/**
 * Where a disk's bytes come from. Either `read` (random access: needed to skip
 * unchanged extents) or `stream` (in disk order, e.g. an HTTP body).
 */
export interface DiskSource {
  size: number;
  read?(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
  /**
   * Random access into the writer's own buffer (`target.length` bytes from
   * `offset`): preferred over read(), as no chunk-sized buffer is allocated
   * per read (the writer's buffers circulate through the workers and back).
   */
  readInto?(offset: number, target: Buffer, signal?: AbortSignal): Promise<void>;
  /**
   * Reads kept in flight ahead of the chunk being hashed (default 1: one at a
   * time). A source whose single read leaves the machine idle (an HTTP Range
   * GET: a round trip, then one TCP stream) overlaps several; memory grows by
   * one chunk per read ahead.
   */
  readAhead?: number;
  stream?: AsyncIterable<Uint8Array>;
  /** The extents changed since the previous restore point (changed-block tracking); only with `read`/`readInto` and `previous`. */
  changed?: Extent[];
  /**
   * read() returns a new buffer on every call, which the writer may take
   * over (it is moved to a worker thread, not copied). Without it the writer
   * copies what read() returns, so a source may reuse its buffer.
   */
  handsOverBuffers?: boolean;
}

export interface DiskWriteStats {
  bytesRead: number;
  chunks: number;
  zeroChunks: number;
  newChunks: number;
  reusedChunks: number;
  /** Bytes of the blobs this write added to the repository. */
  bytesStored: number;
}

export interface DiskWriteOptions {
  chunkSize: number;
  /** zstd level; 0 stores raw. */
  level: number;
  key: StoreKey | undefined;
  workers: ChunkWorkers;
  /** The same disk's index in the previous restore point: its digests are known to be stored (no exists check). */
  previous?: FixedIndex | undefined;
  /** Digests (hex) already known to be in the repository, shared across the disks of one restore point. */
  known: Set<string>;
  /** Digests verification found bad or missing (quarantine/): never taken from `previous` on trust. */
  suspect?: Set<string>;
  /** Chunks hashed, sealed or uploaded at once (memory bound: about inFlight × 2 × chunkSize). */
  inFlight?: number;
  /** Chunks found present whose time is before this are touched (GC grace, §7). */
  touchBeforeMs: number;
  signal?: AbortSignal | undefined;
  onProgress?(stats: DiskWriteStats): void;
}

/**
 * Chunk buffers in circulation: read into, moved to a worker, moved back,
 * reused. Without reuse every chunk leaves two chunk-sized buffers of garbage
 * in two threads, and V8 collects them late (hundreds of MiB resident).
 */
class ChunkBuffers {
  private free: Buffer[] = [];
  constructor(
    private readonly capacity: number,
    private readonly keep: number,
  ) {}
  take(): Buffer {
    return this.free.pop() ?? movableBuffer(this.capacity);
  }
  give(buffer: Buffer): void {
    if (buffer.buffer.byteLength === this.capacity && this.free.length < this.keep) this.free.push(Buffer.from(buffer.buffer, 0, this.capacity));
  }
}

interface Piece {
  i: number;
  /** undefined: unchanged since `previous`, reuse its digest without reading. */
  data?: Buffer;
}

function overlaps(extents: Extent[], start: number, end: number): boolean {
  return extents.some((e) => e.offset < end && e.offset + e.length > start);
}

async function* pieces(
  source: DiskSource,
  chunkSize: number,
  previous: FixedIndex | undefined,
  buffers: ChunkBuffers,
  suspect: Set<string>,
  signal: AbortSignal | undefined,
): AsyncGenerator<Piece> {
  const count = chunkCount(source.size, chunkSize);
  const dims = { size: source.size, chunkSize };
  if (source.read || source.readInto) {
    const skip = source.changed && previous && previous.chunkSize === chunkSize && previous.size === source.size ? source.changed : undefined;
    const readOne = async (i: number): Promise<Piece> => {
      const offset = i * chunkSize;
      const length = chunkLength(dims, i);
      if (source.readInto) {
        const data = buffers.take().subarray(0, length);
        try {
          await source.readInto(offset, data, signal);
        } catch (err) {
          buffers.give(data);
          throw err;
        }
        return { i, data };
      }
      const got = await source.read!(offset, length, signal);
      if (got.length !== length) throw new Error(`the source returned ${got.length} bytes at offset ${offset} instead of ${length}`);
      if (source.handsOverBuffers) return { i, data: Buffer.isBuffer(got) ? got : Buffer.from(got.buffer, got.byteOffset, got.byteLength) };
      const data = buffers.take().subarray(0, length);
      data.set(got);
      return { i, data };
    };
    // Reads run ahead of the consumer, in disk order; what is yielded is awaited in order.
    const ahead: Promise<Piece>[] = [];
    const depth = Math.max(1, source.readAhead ?? 1);
    let next = 0;
    try {
      while (next < count || ahead.length > 0) {
        while (next < count && ahead.length < depth) {
          const i = next++;
          if (skip && !overlaps(skip, i * chunkSize, i * chunkSize + chunkLength(dims, i)) && !suspect.has(digestAt(previous!, i).toString('hex'))) {
            ahead.push(Promise.resolve({ i }));
            continue;
          }
          const read = readOne(i);
          read.catch(() => undefined); // awaited below in order; a later one failing first must not go unhandled
          ahead.push(read);
        }
        yield await ahead.shift()!;
      }
    } finally {
      // Abandoned (failure or abort): the reads still running finish before the writer settles.
      await Promise.allSettled(ahead);
    }
    return;
  }
  if (!source.stream) throw new ChunkStoreError('InvalidArgument', 'a disk source needs read() or a stream');
  let i = 0;
  let fill = 0;
  let current = count ? buffers.take().subarray(0, chunkLength(dims, 0)) : Buffer.alloc(0);
  for await (const part of source.stream) {
    let at = 0;
    const bytes = Buffer.isBuffer(part) ? part : Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    while (at < bytes.length) {
      if (i >= count) throw new Error(`the source stream is longer than the disk size ${source.size}`);
      const n = Math.min(current.length - fill, bytes.length - at);
      bytes.copy(current, fill, at, at + n);
      fill += n;
      at += n;
      if (fill === current.length) {
        yield { i, data: current };
        i++;
        fill = 0;
        current = i < count ? buffers.take().subarray(0, chunkLength(dims, i)) : Buffer.alloc(0);
      }
    }
  }
  if (i !== count) throw new Error(`the source stream ended at offset ${i * chunkSize + fill}, before the disk size ${source.size}`);
}

let zeros = Buffer.alloc(0);
function isAllZero(data: Buffer): boolean {
  if (zeros.length < data.length) zeros = Buffer.alloc(data.length);
  return data.equals(zeros.subarray(0, data.length));
}

/**
 * Writes one disk's chunks and returns its index (not yet stored: the
 * restore point writer stores it). On failure or abort, every chunk already
 * started is settled before the error is thrown, so nothing is written after.
 */
export async function writeDiskChunks(backend: BlobBackend, source: DiskSource, options: DiskWriteOptions): Promise<{ index: FixedIndex; stats: DiskWriteStats }> {
  const { chunkSize, signal } = options;
  const index = newIndex(source.size, chunkSize);
  const previous = options.previous && options.previous.chunkSize === chunkSize ? options.previous : undefined;
  const stats: DiskWriteStats = { bytesRead: 0, chunks: chunkCount(source.size, chunkSize), zeroChunks: 0, newChunks: 0, reusedChunks: 0, bytesStored: 0 };
  if (previous) {
    for (let i = 0; i < chunkCount(previous.size, chunkSize); i++) {
      const hex = digestAt(previous, i).toString('hex');
      if (!options.suspect?.has(hex)) options.known.add(hex);
    }
  }
  const limit = Math.max(1, options.inFlight ?? 4);
  const running = new Set<Promise<void>>();
  let failure: unknown;

  // Each chunk in flight holds at most a plain buffer and a blob buffer (+48 bytes of header, iv, tag).
  const buffers = new ChunkBuffers(chunkSize + 64, 2 * limit + Math.max(1, source.readAhead ?? 1) + 1);

  const store = async (i: number, data: Buffer) => {
    const held = await options.workers.hash(data, options.key);
    const hex = held.digest.toString('hex');
    held.digest.copy(index.digests, i * 32);
    const forget = async () => buffers.give(await held.drop());
    if (options.known.has(hex)) {
      await forget();
      stats.reusedChunks++;
      return;
    }
    // Claimed before the storage answers, so a second copy in this write waits for nothing and uploads nothing.
    options.known.add(hex);
    try {
      const key = chunkKey(held.digest);
      const present = await backend.head(key);
      if (present) {
        await forget();
        if (present.modifiedMs < options.touchBeforeMs) await backend.touch(key);
        stats.reusedChunks++;
        return;
      }
      const { blob, plain } = await held.seal(options.level, buffers.take());
      buffers.give(plain);
      try {
        if (signal?.aborted) throw abortError(signal);
        if (await backend.putIfAbsent(key, blob, signal)) {
          stats.newChunks++;
          stats.bytesStored += blob.length;
          if (options.suspect?.has(hex)) await backend.delete(quarantineKey(hex)); // stored again: healed
        } else stats.reusedChunks++;
      } finally {
        buffers.give(blob);
      }
    } catch (err) {
      options.known.delete(hex);
      throw err;
    }
  };

  try {
    for await (const piece of pieces(source, chunkSize, previous, buffers, options.suspect ?? new Set(), signal)) {
      if (failure) break;
      if (signal?.aborted) throw abortError(signal);
      if (!piece.data) {
        digestAt(previous!, piece.i).copy(index.digests, piece.i * 32);
        if (isZeroDigest(digestAt(previous!, piece.i))) stats.zeroChunks++;
        else stats.reusedChunks++;
        continue;
      }
      stats.bytesRead += piece.data.length;
      if (isAllZero(piece.data)) {
        stats.zeroChunks++; // the index keeps its all-zero digest
        buffers.give(piece.data);
        continue;
      }
      const task = store(piece.i, piece.data).then(
        () => {
          running.delete(task);
          options.onProgress?.(stats);
        },
        (err) => {
          running.delete(task);
          failure ??= err;
        },
      );
      running.add(task);
      while (running.size >= limit) await Promise.race(running);
    }
  } catch (err) {
    failure ??= err;
  }
  await Promise.all(running);
  if (failure) throw failure;
  if (signal?.aborted) throw abortError(signal);
  options.onProgress?.(stats);
  return { index: sealIndex(index), stats };
}
