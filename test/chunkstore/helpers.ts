import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChunkStore, DiskSource } from '../../src/chunkstore/index.js';
import { openDisk, readRestorePoint, type RestorePointRef } from '../../src/chunkstore/index.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** A disk image: random blocks, zero blocks and repeated blocks, as a real disk has. */
export function diskImage(size: number, block: number, seed = 1): Buffer {
  const image = Buffer.alloc(size);
  const repeated = randomBytes(block);
  for (let at = 0, n = 0; at < size; at += block, n++) {
    const kind = (n * 7 + seed) % 4;
    const len = Math.min(block, size - at);
    if (kind === 0 || kind === 3) randomBytes(len).copy(image, at);
    else if (kind === 1) repeated.copy(image, at, 0, len);
    // kind 2: zeros
  }
  return image;
}

/** A random-access source over a buffer, counting the bytes it hands out. */
export function bufferSource(image: Buffer, extra: Partial<DiskSource> = {}): DiskSource & { served: number } {
  const source = {
    size: image.length,
    served: 0,
    async read(offset: number, length: number) {
      source.served += length;
      return Buffer.from(image.subarray(offset, offset + length));
    },
    ...extra,
  };
  return source;
}

export async function readWholeDisk(store: ChunkStore, ref: RestorePointRef, diskKey: string, password?: string): Promise<Buffer> {
  const rp = await readRestorePoint(store, ref, { password });
  const disk = await openDisk(store, rp, diskKey);
  const parts: Buffer[] = [];
  for await (const part of disk.stream()) parts.push(part);
  return Buffer.concat(parts);
}

export async function tempFolder(name: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), `rampart-${name}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Byte comparison: vitest's deep equality walks a Buffer element by element (tens of seconds for a few MiB). */
export function sameBytes(actual: Buffer, expected: Buffer): boolean {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} instead of ${expected.length}`);
  for (let i = 0; i < actual.length; i += 4096) {
    if (!actual.subarray(i, i + 4096).equals(expected.subarray(i, i + 4096))) throw new Error(`bytes differ in the 4 KiB block at offset ${i}`);
  }
  return true;
}
