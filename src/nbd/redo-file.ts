// The redo file of a copy-on-write overlay ("redo file format" in docs/nbd.md §3):
//
//   0      header, 4096 bytes, big-endian:
//            0  magic "RMPTREDO"     8  u32 version (1)     12 u32 block size
//            16 u64 disk size        24 u64 bitmap offset (4096)
//            32 u64 bitmap bytes     40 u64 data offset (a multiple of the block size)
//   4096   bitmap: bit i (byte i>>3, bit i&7, least significant first) set ⇔ block i is in the file
//   data   block i at data offset + i × block size; blocks never written are holes (sparse file)
//
// Crash safety: a bit reaches the disk only after its block did (flush = fdatasync data, then
// write the changed bitmap pages, then fdatasync), so a reopened file never points at garbage;
// writes not flushed yet may be lost, as NBD allows.
import { open, type FileHandle } from 'node:fs/promises';

export const REDO_MAGIC = Buffer.from('RMPTREDO');
export const REDO_VERSION = 1;
const HEADER_BYTES = 4096;
const PAGE = 4096;

export class RedoFile {
  private readonly dirtyPages = new Set<number>();

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    readonly blockSize: number,
    readonly diskSize: number,
    private readonly bitmap: Buffer,
    private readonly dataOffset: number,
  ) {}

  /** Creates a new redo file; fails if `path` exists (a redo file is never silently replaced). */
  static async create(path: string, diskSize: number, blockSize: number): Promise<RedoFile> {
    if (!Number.isSafeInteger(blockSize) || blockSize < 4096 || (blockSize & (blockSize - 1)) !== 0) throw new RangeError('block size must be a power of two ≥ 4096');
    const blocks = Math.ceil(diskSize / blockSize);
    const bitmapBytes = Math.ceil(Math.ceil(blocks / 8) / PAGE) * PAGE;
    const dataOffset = Math.ceil((HEADER_BYTES + bitmapBytes) / blockSize) * blockSize;
    const handle = await open(path, 'wx+', 0o600);
    try {
      const header = Buffer.alloc(HEADER_BYTES);
      REDO_MAGIC.copy(header, 0);
      header.writeUInt32BE(REDO_VERSION, 8);
      header.writeUInt32BE(blockSize, 12);
      header.writeBigUInt64BE(BigInt(diskSize), 16);
      header.writeBigUInt64BE(BigInt(HEADER_BYTES), 24);
      header.writeBigUInt64BE(BigInt(bitmapBytes), 32);
      header.writeBigUInt64BE(BigInt(dataOffset), 40);
      await handle.write(header, 0, HEADER_BYTES, 0);
      await handle.truncate(dataOffset + diskSize);
      await handle.sync();
      return new RedoFile(handle, path, blockSize, diskSize, Buffer.alloc(bitmapBytes), dataOffset);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Reopens a redo file kept by an earlier overlay of the same disk (after a restart). */
  static async reopen(path: string, diskSize: number): Promise<RedoFile> {
    const handle = await open(path, 'r+');
    try {
      const header = Buffer.alloc(HEADER_BYTES);
      await readExactly(handle, header, 0);
      if (!header.subarray(0, 8).equals(REDO_MAGIC)) throw new Error(`${path} is not a Rampart redo file`);
      const version = header.readUInt32BE(8);
      if (version !== REDO_VERSION) throw new Error(`${path}: redo file version ${version} is not supported`);
      const blockSize = header.readUInt32BE(12);
      const storedSize = Number(header.readBigUInt64BE(16));
      const bitmapOffset = Number(header.readBigUInt64BE(24));
      const bitmapBytes = Number(header.readBigUInt64BE(32));
      const dataOffset = Number(header.readBigUInt64BE(40));
      if (storedSize !== diskSize) throw new Error(`${path} belongs to a disk of ${storedSize} bytes, not ${diskSize}`);
      if (bitmapOffset !== HEADER_BYTES || bitmapBytes * 8 < Math.ceil(diskSize / blockSize) || dataOffset < HEADER_BYTES + bitmapBytes)
        throw new Error(`${path}: inconsistent redo file header`);
      const bitmap = Buffer.alloc(bitmapBytes);
      await readExactly(handle, bitmap, bitmapOffset);
      return new RedoFile(handle, path, blockSize, diskSize, bitmap, dataOffset);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  has(block: number): boolean {
    return (this.bitmap[block >> 3] & (1 << (block & 7))) !== 0;
  }

  /** Number of blocks held by the file. */
  countBlocks(): number {
    let n = 0;
    for (const byte of this.bitmap) for (let v = byte; v; v &= v - 1) n++;
    return n;
  }

  /** Writes bytes of the disk at `offset`; the caller marks whole blocks with `mark` afterwards. */
  async writeAt(offset: number, data: Buffer): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, this.dataOffset + offset + done);
      done += bytesWritten;
    }
  }

  async readAt(offset: number, target: Buffer): Promise<void> {
    await readExactly(this.handle, target, this.dataOffset + offset);
  }

  mark(block: number): void {
    this.bitmap[block >> 3] |= 1 << (block & 7);
    this.dirtyPages.add(Math.floor((block >> 3) / PAGE));
  }

  async flush(): Promise<void> {
    // The pages are copied before the data is synced: every bit in the copy was set after its
    // block was written, so the sync below makes those blocks durable before the bits are written.
    const pages = [...this.dirtyPages].map((page) => ({ page, bytes: Buffer.from(this.bitmap.subarray(page * PAGE, (page + 1) * PAGE)) }));
    this.dirtyPages.clear();
    await this.handle.datasync();
    if (pages.length === 0) return;
    for (const { page, bytes } of pages) await this.handle.write(bytes, 0, bytes.length, HEADER_BYTES + page * PAGE);
    await this.handle.datasync();
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

async function readExactly(handle: FileHandle, target: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) throw new Error(`redo file ends at ${position + done}`);
    done += bytesRead;
  }
}
