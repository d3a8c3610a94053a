import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyRetention,
  beginRestorePoint,
  ChunkStoreError,
  collectGarbage,
  deleteRestorePoint,
  listRestorePoints,
  localFolderBackend,
  openChunkStore,
  openDisk,
  readRestorePoint,
  verifyRestorePoints,
  type ChunkStore,
} from '../../src/chunkstore/index.js';
import { bufferSource, diskImage, KiB, MiB, readWholeDisk, sameBytes, tempFolder } from './helpers.js';

const CHUNK = 256 * KiB;
const HOUR = 3_600_000;

async function chunkFiles(dir: string): Promise<string[]> {
  const root = path.join(dir, 'rampart/chunks');
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true }).catch(() => [])) if (entry.isFile()) out.push(path.join(entry.parentPath, entry.name));
  return out.sort();
}

describe('verification of a corrupted chunk', () => {
  let folder: Awaited<ReturnType<typeof tempFolder>>;
  let store: ChunkStore;
  beforeAll(async () => {
    folder = await tempFolder('verify');
    store = await openChunkStore(localFolderBackend(folder.dir));
  });
  afterAll(() => folder.remove());

  for (const password of [undefined, 'Verify-Pw-1']) {
    it(`finds a flipped byte, names the disk and offset, quarantines the chunk, and the next backup heals it (${password ? 'encrypted' : 'plain'})`, async () => {
      const id = password ? 'enc' : 'plain';
      const image = diskImage(2 * MiB, CHUNK, password ? 11 : 12);
      const refs = ['rp1', 'rp2'].map((rp) => ({ backupId: `v-${id}`, objectId: 'vm', restorePointId: rp }));
      for (const ref of refs) {
        const w = await beginRestorePoint(store, { ...ref, compressionLevel: 3, password });
        await w.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: CHUNK }, bufferSource(image));
        await w.commit();
      }
      const passwords = password ? [password] : [];
      const clean = await verifyRestorePoints(store, { passwords, refs });
      expect(clean.badChunks).toEqual([]);
      expect(clean.checkedChunks).toBeGreaterThan(2);

      // The chunk of the first non-zero block: flip one byte in its payload.
      const rp = await readRestorePoint(store, refs[0]!, { password });
      const index = await readFile(path.join(folder.dir, 'rampart/backups', `v-${id}`, 'vm', 'rp1', 'disk-2000.fidx'));
      const digest = index.subarray(4096, 4096 + 32).toString('hex');
      const file = path.join(folder.dir, 'rampart/chunks', digest.slice(0, 4), digest);
      const blob = await readFile(file);
      blob[blob.length - 10] ^= 0x01;
      await writeFile(file, blob);

      const disk = await openDisk(store, rp, '2000');
      const readErr = await disk.read(0, 100).catch((e: unknown) => e);
      expect((readErr as ChunkStoreError).kind).toBe('CorruptChunk');
      expect((readErr as Error).message).toMatch(new RegExp(`disk 2000 \\(Hard disk 1\\) of restore point v-${id}/vm/rp1 at offset 0 .*CRC-32 mismatch`));

      // The ordered stream (checked in worker threads) fails the same way.
      const streamErr = await readWholeDisk(store, refs[0]!, '2000', password).catch((e: unknown) => e);
      expect((streamErr as ChunkStoreError).kind).toBe('CorruptChunk');
      expect((streamErr as Error).message).toMatch(/disk 2000 \(Hard disk 1\) of restore point .* at offset 0 is corrupt: CRC-32 mismatch/);

      const report = await verifyRestorePoints(store, { passwords });
      expect(report.badChunks.map((b) => b.digest)).toEqual([digest]);
      expect(report.badChunks[0]!.problem).toBe('CRC-32 mismatch');
      expect(report.damagedRestorePoints.map((d) => d.restorePoint).sort()).toEqual([`v-${id}/vm/rp1`, `v-${id}/vm/rp2`]);
      expect(report.damagedRestorePoints[0]!.problems[0]).toContain('disk 2000 at offset 0');
      await expect(stat(file)).rejects.toThrow();
      expect((await stat(`${file}.bad`)).size).toBe(blob.length);
      const missing = await readWholeDisk(store, refs[1]!, '2000', password).catch((e: unknown) => e);
      expect((missing as ChunkStoreError).kind).toBe('MissingChunk');
      expect((missing as Error).message).toContain('at offset 0');

      // Verification put the digest in quarantine/: even an incremental on rp2 (whose index names it) asks the
      // storage, finds it absent, stores it again, and so heals the older restore points too.
      expect(await readdir(path.join(folder.dir, 'rampart/quarantine'))).toEqual([digest]);
      const w = await beginRestorePoint(store, { backupId: `v-${id}`, objectId: 'vm', restorePointId: 'rp3', compressionLevel: 3, password, base: refs[1] });
      const healed = await w.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: CHUNK }, bufferSource(image));
      await w.commit();
      expect(healed.newChunks).toBe(1);
      expect(await readdir(path.join(folder.dir, 'rampart/quarantine'))).toEqual([]);
      expect(sameBytes(await readWholeDisk(store, refs[0]!, '2000', password), image)).toBe(true);
      expect((await verifyRestorePoints(store, { passwords })).badChunks).toEqual([]);
    });
  }

  it('names a chunk file that is gone as missing, with every restore point that needs it', async () => {
    const image = diskImage(2 * MiB, CHUNK, 13);
    const ref = { backupId: 'v-gone', objectId: 'vm', restorePointId: 'rp1' };
    const w = await beginRestorePoint(store, { ...ref, compressionLevel: 3 });
    await w.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: CHUNK }, bufferSource(image));
    await w.commit();
    const index = await readFile(path.join(folder.dir, 'rampart/backups/v-gone/vm/rp1/disk-2000.fidx'));
    const digest = index.subarray(4096, 4096 + 32).toString('hex');
    await rm(path.join(folder.dir, 'rampart/chunks', digest.slice(0, 4), digest));

    const report = await verifyRestorePoints(store, { refs: [ref] });
    expect(report.badChunks.map((b) => [b.digest, b.problem])).toEqual([[digest, 'missing']]);
    // The image repeats its blocks: every offset that uses the chunk is named.
    expect(report.damagedRestorePoints.map((d) => d.restorePoint)).toEqual(['v-gone/vm/rp1']);
    expect(report.damagedRestorePoints[0]!.problems[0]).toBe(`disk 2000 at offset 0: chunk ${digest} is missing`);
    for (const problem of report.damagedRestorePoints[0]!.problems) expect(problem).toMatch(new RegExp(`: chunk ${digest} is missing$`));
    expect(report.checkedChunks).toBeGreaterThan(1);
  });

  it('without the password, an encrypted restore point is still CRC-checked', async () => {
    const report = await verifyRestorePoints(store, { refs: [{ backupId: 'v-enc', objectId: 'vm', restorePointId: 'rp1' }] });
    expect(report.badChunks).toEqual([]);
    expect(report.crcOnlyChunks).toBe(report.checkedChunks);
    expect(report.checkedChunks).toBeGreaterThan(0);
  });
});

describe('retention and garbage collection', () => {
  let folder: Awaited<ReturnType<typeof tempFolder>>;
  let store: ChunkStore;
  beforeAll(async () => {
    folder = await tempFolder('gc');
    store = await openChunkStore(localFolderBackend(folder.dir));
  });
  afterAll(() => folder.remove());

  const chain = { backupId: 'job1', objectId: 'vm-9' };
  const write = async (rp: string, image: Buffer, createdAt: Date) => {
    const w = await beginRestorePoint(store, { ...chain, restorePointId: rp, compressionLevel: 1, createdAt });
    await w.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: CHUNK }, bufferSource(image));
    await w.commit();
  };

  it('retention keeps the newest N (or D days); GC deletes only unreferenced chunks older than the grace window', async () => {
    const images = [1, 2, 3, 4].map((seed) => diskImage(1 * MiB, CHUNK, seed * 13));
    for (const [i, image] of images.entries()) await write(`rp${i}`, image, new Date(Date.UTC(2026, 10, 1 + i)));
    const before = await chunkFiles(folder.dir);

    const byDays = await applyRetention(store, chain, { keepDays: 2, now: new Date(Date.UTC(2026, 10, 5)) });
    expect(byDays.deleted.map((p) => p.restorePointId)).toEqual(['rp1', 'rp0']);
    const byCount = await applyRetention(store, chain, { keepRestorePoints: 1 });
    expect(byCount.deleted.map((p) => p.restorePointId)).toEqual(['rp2']);
    expect((await listRestorePoints(store)).map((p) => p.restorePointId)).toEqual(['rp3']);

    // Chunks just written are inside the grace window: nothing goes.
    const early = await collectGarbage(store);
    expect(early.deletedChunks).toBe(0);
    expect(early.keptUnreferencedChunks).toBeGreaterThan(0);
    expect(await chunkFiles(folder.dir)).toEqual(before);

    // Two hours later they are out of it: exactly the unreferenced ones go.
    const later = await collectGarbage(store, { now: Date.now() + 2 * HOUR });
    expect(later.deletedChunks).toBe(early.keptUnreferencedChunks);
    expect(later.markedChunks).toBe((await chunkFiles(folder.dir)).length);
    expect(sameBytes(await readWholeDisk(store, { ...chain, restorePointId: 'rp3' }, '2000'), images[3]!)).toBe(true);
    expect((await verifyRestorePoints(store)).badChunks).toEqual([]);
  });

  it("keeps a running writer's new chunks and its base, and removes what a crashed writer left once out of the window", async () => {
    const image = diskImage(1 * MiB, CHUNK, 77);
    const w = await beginRestorePoint(store, { ...chain, restorePointId: 'running', compressionLevel: 1, base: { ...chain, restorePointId: 'rp3' } });
    await w.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: CHUNK }, bufferSource(image));
    // The writer is still open (its lock is in locks/): even a GC "two hours later" keeps its unreferenced chunks.
    const during = await collectGarbage(store, { now: Date.now() + 2 * HOUR });
    expect(during.deletedChunks).toBe(0);
    expect(during.deletedOrphanFiles).toBe(0);
    // Its base cannot be deleted while it runs.
    const refused = await deleteRestorePoint(store, { ...chain, restorePointId: 'rp3' }).catch((e: unknown) => e);
    expect((refused as ChunkStoreError).kind).toBe('Protected');
    await w.commit();
    expect(sameBytes(await readWholeDisk(store, { ...chain, restorePointId: 'running' }, '2000'), image)).toBe(true);

    // A writer that never finished: its chunks and index stay until the window passes, then go.
    const crashed = await beginRestorePoint(store, { ...chain, restorePointId: 'crashed', compressionLevel: 1 });
    const stats = await crashed.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: CHUNK }, bufferSource(diskImage(1 * MiB, CHUNK, 99)));
    await crashed.abort();
    expect(stats.newChunks).toBeGreaterThan(0);
    const after = await collectGarbage(store, { now: Date.now() + 2 * HOUR });
    expect(after.deletedChunks).toBe(stats.newChunks);
    expect(after.deletedOrphanFiles).toBe(1);
    expect((await verifyRestorePoints(store)).badChunks).toEqual([]);
    expect((await listRestorePoints(store)).map((p) => p.restorePointId)).toEqual(['rp3', 'running']);
  });

  it('a stale lock (older than staleLockMs) no longer holds GC back', async () => {
    const w = await beginRestorePoint(store, { ...chain, restorePointId: 'stuck', compressionLevel: 1 });
    const stats = await w.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: CHUNK }, bufferSource(diskImage(512 * KiB, CHUNK, 123)));
    const report = await collectGarbage(store, { now: Date.now() + 2 * HOUR, staleLockMs: HOUR });
    expect(report.staleLocks.length).toBe(1);
    expect(report.deletedChunks).toBe(stats.newChunks);
    await w.abort();
  });
});
