import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginRestorePoint, localFolderBackend, openChunkStore, openDisk, readRestorePoint, type ChunkStore } from '../../src/chunkstore/index.js';
import { bufferSource, diskImage, KiB, MiB, readWholeDisk, sameBytes, tempFolder } from './helpers.js';

describe('chunk store on a local folder', () => {
  let folder: Awaited<ReturnType<typeof tempFolder>>;
  let store: ChunkStore;
  beforeAll(async () => {
    folder = await tempFolder('store');
    store = await openChunkStore(localFolderBackend(folder.dir));
  });
  afterAll(() => folder.remove());

  it('writes a restore point of two disks and reads them back byte-identical, whole and by range', async () => {
    const a = diskImage(3 * MiB + 1000, 256 * KiB, 1);
    const b = diskImage(1 * MiB, 256 * KiB, 2);
    const ref = { backupId: 'b1', objectId: 'vm-1', restorePointId: 'rp1' };
    const w = await beginRestorePoint(store, { ...ref, compressionLevel: 3, object: { name: 'web01' } });
    const sa = await w.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: 256 * KiB }, bufferSource(a));
    const sb = await w.writeDisk(
      { key: '2001', name: 'Hard disk 2', chunkSize: 512 * KiB },
      {
        size: b.length,
        stream: (async function* () {
          for (let i = 0; i < b.length; i += 100_000) yield b.subarray(i, i + 100_000);
        })(),
      },
    );
    expect(sa.chunks).toBe(13);
    expect(sa.zeroChunks).toBeGreaterThan(0);
    expect(sa.bytesRead).toBe(a.length);
    expect(sb.chunks).toBe(2);
    const body = await w.commit();
    expect(body.kind).toBe('Full');
    expect(sameBytes(await readWholeDisk(store, ref, '2000'), a)).toBe(true);
    expect(sameBytes(await readWholeDisk(store, ref, '2001'), b)).toBe(true);
    const rp = await readRestorePoint(store, ref);
    expect(rp.manifest.object).toEqual({ name: 'web01' });
    const disk = await openDisk(store, rp, '2000');
    for (const [offset, length] of [
      [0, 10],
      [256 * KiB - 5, 10],
      [100_000, 700_000],
      [a.length - 7, 100],
    ]) {
      expect(sameBytes(await disk.read(offset!, length!), a.subarray(offset!, offset! + length!))).toBe(true);
    }
    // Plain digests are SHA-256 of the content.
    const first = a.subarray(0, 256 * KiB);
    const digest = createHash('sha256').update(first).digest('hex');
    expect(await store.backend.head(`rampart/chunks/${digest.slice(0, 4)}/${digest}`)).toBeDefined();
  });

  it('a source that reuses one buffer for every read is copied, not taken over', async () => {
    const image = diskImage(2 * MiB, 256 * KiB, 8);
    const scratch = Buffer.allocUnsafeSlow(256 * KiB);
    const ref = { backupId: 'b1', objectId: 'vm-1', restorePointId: 'reuse' };
    const w = await beginRestorePoint(store, { ...ref, compressionLevel: 1 });
    await w.writeDisk(
      { key: '2000', name: 'Hard disk 1', chunkSize: 256 * KiB },
      {
        size: image.length,
        async read(offset, length) {
          image.copy(scratch, 0, offset, offset + length);
          return scratch.subarray(0, length);
        },
      },
    );
    await w.commit();
    expect(scratch.length).toBe(256 * KiB);
    expect(sameBytes(await readWholeDisk(store, ref, '2000'), image)).toBe(true);
  });
});
