import { open, type FileHandle } from 'node:fs/promises';

/**
 * What an NBD export serves: a fixed-size disk read at any offset. The chunk store's
 * restore-point reader implements this (verifying every chunk it reads); so do a file
 * and a buffer, below. `read` must return exactly `length` bytes or throw.
 */
export interface BlockSource {
  readonly size: number;
  read(offset: number, length: number, signal?: AbortSignal): Promise<Buffer>;
}

/** A disk that can also be written (the copy-on-write overlay). */
export interface WritableBlockDevice extends BlockSource {
  write(offset: number, data: Buffer): Promise<void>;
  /** Makes every completed write durable. */
  flush(): Promise<void>;
}

export function isWritable(device: BlockSource): device is WritableBlockDevice {
  return typeof (device as Partial<WritableBlockDevice>).write === 'function';
}

/** Throws a RangeError unless [offset, offset+length) lies inside a disk of `size` bytes. */
export function checkRange(size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new RangeError(`range ${offset}+${length} is outside the disk (${size} bytes)`);
  }
}

/** A disk held in memory (small test disks, and the bench's in-process baseline). */
export function bufferBlockSource(data: Buffer): BlockSource {
  return {
    size: data.length,
    async read(offset, length) {
      checkRange(data.length, offset, length);
      return Buffer.from(data.subarray(offset, offset + length));
    },
  };
}

/** A raw image file served read-only; `close` releases the file handle. */
export async function fileBlockSource(path: string): Promise<BlockSource & { close(): Promise<void> }> {
  const handle: FileHandle = await open(path, 'r');
  const size = (await handle.stat()).size;
  return {
    size,
    async read(offset, length) {
      checkRange(size, offset, length);
      const buffer = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
        if (bytesRead === 0) throw new Error(`short read at ${offset + done} in ${path}`);
        done += bytesRead;
      }
      return buffer;
    },
    close: () => handle.close(),
  };
}
