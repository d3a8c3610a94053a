import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { checkRange, type BlockSource, type WritableBlockDevice } from './block-source.js';
import { RedoFile } from './redo-file.js';

export const DEFAULT_OVERLAY_BLOCK = 64 * 1024;

export interface OverlayOptions {
  /** The restore point (never written). */
  source: BlockSource;
  /** Where the redo file goes: the caller's choice, e.g. on a cache datastore. */
  redoPath: string;
  /** Copy-on-write granularity, a power of two ≥ 4 KiB. Default 64 KiB. */
  blockSize?: number;
  /** Reopen an existing redo file (kept by an earlier overlay of the same disk) instead of creating one. */
  resume?: boolean;
}

/**
 * A writable disk over a read-only source: written blocks live in a redo file, everything else
 * is read from the source. A partial write of a block not yet in the redo file reads the block
 * from the source first (read-modify-write), so the redo file only holds whole blocks.
 */
export class CopyOnWriteOverlay implements WritableBlockDevice {
  readonly size: number;
  private readonly locks = new Map<number, Promise<void>>();
  private closed = false;

  private constructor(
    private readonly source: BlockSource,
    private readonly redo: RedoFile,
  ) {
    this.size = source.size;
  }

  static async open(options: OverlayOptions): Promise<CopyOnWriteOverlay> {
    const redo = options.resume
      ? await RedoFile.reopen(options.redoPath, options.source.size)
      : await RedoFile.create(options.redoPath, options.source.size, options.blockSize ?? DEFAULT_OVERLAY_BLOCK);
    return new CopyOnWriteOverlay(options.source, redo);
  }

  get redoPath(): string {
    return this.redo.path;
  }

  get blockSize(): number {
    return this.redo.blockSize;
  }

  /** Bytes of the disk held in the redo file (whole blocks). */
  redoBytes(): number {
    return this.redo.countBlocks() * this.redo.blockSize;
  }

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Buffer> {
    this.assertOpen();
    checkRange(this.size, offset, length);
    const out = Buffer.alloc(length);
    const bs = this.redo.blockSize;
    const end = offset + length;
    const parts: Promise<void>[] = [];
    // Consecutive blocks with the same origin are read in one piece, so the source sees large reads.
    let runStart = offset;
    while (runStart < end) {
      const inRedo = this.redo.has(Math.floor(runStart / bs));
      let runEnd = Math.min(end, (Math.floor(runStart / bs) + 1) * bs);
      while (runEnd < end && this.redo.has(Math.floor(runEnd / bs)) === inRedo) runEnd = Math.min(end, runEnd + bs);
      const target = out.subarray(runStart - offset, runEnd - offset);
      const at = runStart;
      parts.push(
        inRedo
          ? this.redo.readAt(at, target)
          : this.source.read(at, target.length, signal).then((data) => {
              if (data.length !== target.length) throw new Error(`source returned ${data.length} bytes for ${target.length}`);
              data.copy(target);
            }),
      );
      runStart = runEnd;
    }
    await Promise.all(parts);
    return out;
  }

  async write(offset: number, data: Buffer): Promise<void> {
    this.assertOpen();
    checkRange(this.size, offset, data.length);
    const bs = this.redo.blockSize;
    const end = offset + data.length;
    for (let block = Math.floor(offset / bs); block * bs < end; block++) {
      const blockStart = block * bs;
      const blockEnd = Math.min(blockStart + bs, this.size);
      const from = Math.max(offset, blockStart);
      const to = Math.min(end, blockEnd);
      const piece = data.subarray(from - offset, to - offset);
      await this.withBlock(block, async () => {
        if (this.redo.has(block) || (from === blockStart && to === blockEnd)) {
          await this.redo.writeAt(from, piece);
        } else {
          const whole = await this.source.read(blockStart, blockEnd - blockStart);
          piece.copy(whole, from - blockStart);
          await this.redo.writeAt(blockStart, whole);
        }
        this.redo.mark(block);
      });
    }
  }

  async flush(): Promise<void> {
    this.assertOpen();
    await this.redo.flush();
  }

  /**
   * The merged disk (source + redo) from start to end, `chunkSize` bytes at a time, one chunk
   * in memory: what quick migration copies to the target datastore.
   */
  mergedStream(options: { chunkSize?: number; signal?: AbortSignal } = {}): Readable {
    const chunkSize = options.chunkSize ?? 4 * 1024 * 1024;
    const chunks = async function* (overlay: CopyOnWriteOverlay) {
      for (let offset = 0; offset < overlay.size; offset += chunkSize) {
        options.signal?.throwIfAborted();
        yield await overlay.read(offset, Math.min(chunkSize, overlay.size - offset), options.signal);
      }
    };
    return Readable.from(chunks(this), { objectMode: false, highWaterMark: 1 });
  }

  /**
   * Waits for writes under way, then closes the redo file and deletes it, or with `keep`
   * flushes and keeps it (to `resume` later).
   */
  async close(options: { keep?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.locks.values()]);
    if (options.keep) await this.redo.flush();
    await this.redo.close();
    if (!options.keep) await rm(this.redo.path, { force: true });
  }

  private assertOpen() {
    if (this.closed) throw new Error('the overlay is closed');
  }

  /** Runs `work` once every earlier work on the same block has finished (read-modify-write needs it). */
  private withBlock(block: number, work: () => Promise<void>): Promise<void> {
    const previous = this.locks.get(block) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => {});
    this.locks.set(block, tail);
    void tail.then(() => {
      if (this.locks.get(block) === tail) this.locks.delete(block);
    });
    return next;
  }
}
