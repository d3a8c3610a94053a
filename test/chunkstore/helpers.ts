import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { BlobBackend, ChunkStore, DiskSource } from '../../src/chunkstore/index.js';
import {
  beginRestorePoint,
  collectGarbage,
  deleteRestorePoint,
  listRestorePoints,
  openChunkStore,
  openDisk,
  readRestorePoint,
  verifyRestorePoints,
  type RestorePointRef,
} from '../../src/chunkstore/index.js';

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

/**
 * The store's round trip on `backend`, the same on every backend: an encrypted restore point is
 * written, read back byte-identical, listed and verified; GC keeps its chunks while it is
 * referenced and sweeps every one of them once it is deleted, leaving no chunk or manifest.
 */
export async function restorePointRoundTrip(backend: BlobBackend, password: string): Promise<void> {
  const store = await openChunkStore(backend);
  const image = diskImage(2 * MiB + 12345, 256 * KiB, 3);
  const ref = { backupId: 'bk', objectId: 'vm-7', restorePointId: 'rp-1' };
  const w = await beginRestorePoint(store, { ...ref, compressionLevel: 3, password });
  const stats = await w.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: 256 * KiB }, bufferSource(image));
  expect(stats.newChunks).toBeGreaterThan(0);
  await w.commit();
  expect(sameBytes(await readWholeDisk(store, ref, '2000', password), image)).toBe(true);
  const listed = await listRestorePoints(store);
  expect(listed.map((p) => p.restorePointId)).toEqual(['rp-1']);
  const report = await verifyRestorePoints(store, { passwords: [password] });
  expect(report.badChunks).toEqual([]);
  expect(report.checkedChunks).toBe(stats.newChunks);
  expect(report.crcOnlyChunks).toBe(0);

  // GC keeps everything referenced; after retention deletes the point, it sweeps its chunks.
  const later = Date.now() + 2 * 3_600_000;
  expect((await collectGarbage(store, { now: later })).deletedChunks).toBe(0);
  await deleteRestorePoint(store, ref);
  expect(await listRestorePoints(store)).toEqual([]);
  const swept = await collectGarbage(store, { now: later });
  expect(swept.deletedChunks).toBe(stats.newChunks);
  const left: string[] = [];
  for await (const blob of backend.list('rampart/chunks/')) left.push(blob.key);
  for await (const blob of backend.list('rampart/backups/')) left.push(blob.key);
  expect(left).toEqual([]);
}
