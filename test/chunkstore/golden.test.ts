import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRestorePoints, localFolderBackend, openChunkStore, verifyRestorePoints, type ChunkStore } from '../../src/chunkstore/index.js';
import { GOLDEN_PASSWORD, goldenDisk } from '../fixtures/chunkstore/golden-content.js';
import { readWholeDisk, sameBytes, tempFolder } from './helpers.js';

const GOLDEN = path.resolve('test/fixtures/chunkstore/golden-v1');

/** The repository written by the first version of the format: today's code must read it unchanged. */
describe('golden repository rampart-store v1', () => {
  let folder: Awaited<ReturnType<typeof tempFolder>>;
  let store: ChunkStore;
  beforeAll(async () => {
    // A copy: verification may rename what it finds corrupt, and the fixture must stay as written.
    folder = await tempFolder('golden');
    await cp(GOLDEN, folder.dir, { recursive: true });
    store = await openChunkStore(localFolderBackend(folder.dir), { create: false });
  });
  afterAll(() => folder.remove());

  it('has the documented magic bytes and config', async () => {
    expect(store.config).toMatchObject({ format: 'rampart-store', version: 1 });
    const index = await readFile(path.join(GOLDEN, 'rampart/backups/golden-backup/vm-42/rp-plain/disk-2000.fidx'));
    expect(index.subarray(0, 8).toString('latin1')).toBe('RMPFIDX1');
    expect(index.length).toBe(4096 + 4 * 32);
    expect(index.subarray(4096 + 32, 4096 + 64).equals(Buffer.alloc(32))).toBe(true); // the zero chunk
    const digest = index.subarray(4096, 4096 + 32).toString('hex');
    const chunk = await readFile(path.join(GOLDEN, 'rampart/chunks', digest.slice(0, 4), digest));
    expect(chunk.subarray(0, 8).toString('latin1')).toBe('RMPCHNK1');
    expect(chunk[8]).toBe(1); // compressed, not encrypted
  });

  it('lists both restore points from their manifests and reads every disk byte-identical', async () => {
    const listed = await listRestorePoints(store, { passwords: [GOLDEN_PASSWORD] });
    expect(listed.map((p) => [p.restorePointId, p.createdAt, p.keyFingerprint !== undefined])).toEqual([
      ['rp-plain', '2026-11-30T01:00:00.000Z', false],
      ['rp-encrypted', '2026-11-30T02:00:00.000Z', true],
    ]);
    for (const point of listed) {
      expect(point.manifest!.object).toEqual({ name: 'golden-vm', type: 'VirtualMachine' });
      expect(point.manifest!.disks.map((d) => [d.key, d.name, d.capacity])).toEqual([
        ['2000', 'Hard disk 1', goldenDisk(1).length],
        ['2001', 'Hard disk 2', goldenDisk(2).length],
      ]);
      for (const n of [1, 2]) {
        const bytes = await readWholeDisk(store, point, String(1999 + n), point.keyFingerprint ? GOLDEN_PASSWORD : undefined);
        expect(sameBytes(bytes, goldenDisk(n))).toBe(true);
      }
    }
  });

  it('verifies clean', async () => {
    const report = await verifyRestorePoints(store, { passwords: [GOLDEN_PASSWORD] });
    expect(report).toMatchObject({ restorePoints: 2, badChunks: [], damagedRestorePoints: [], crcOnlyChunks: 0 });
    expect(report.checkedChunks).toBe(8);
  });
});
