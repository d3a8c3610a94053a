import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginRestorePoint, ChunkStoreError, listRestorePoints, localFolderBackend, openChunkStore, readRestorePoint, type ChunkStore } from '../../src/chunkstore/index.js';
import { bufferSource, diskImage, KiB, MiB, readWholeDisk, sameBytes, tempFolder } from './helpers.js';

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) out.push(path.join(entry.parentPath, entry.name));
  return out;
}

const CHUNK = 256 * KiB;

describe('encryption', () => {
  let folder: Awaited<ReturnType<typeof tempFolder>>;
  let store: ChunkStore;
  beforeAll(async () => {
    folder = await tempFolder('enc');
    store = await openChunkStore(localFolderBackend(folder.dir));
  });
  afterAll(() => folder.remove());

  it('seals chunks and manifest: keyed digests, no plaintext on disk, the wrong password refused', async () => {
    // Compressible text with a marker: it must not appear anywhere in the repository.
    const image = Buffer.alloc(1 * MiB);
    for (let at = 0; at < image.length; at += 64) image.write(`SECRET-MARKER-${at}-`.padEnd(64, 'x'), at);
    const ref = { backupId: 'enc', objectId: 'vm', restorePointId: 'rp1' };
    const w = await beginRestorePoint(store, { ...ref, compressionLevel: 3, password: 'Right-Passw0rd', object: { name: 'finance-db-SECRETNAME' } });
    await w.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: CHUNK }, bufferSource(image));
    await w.commit();

    const files = await allFiles(folder.dir);
    for (const file of files) {
      const bytes = await readFile(file);
      expect(bytes.includes('SECRET-MARKER'), file).toBe(false);
      expect(bytes.includes('SECRETNAME'), file).toBe(false);
      expect(bytes.includes('Right-Passw0rd'), file).toBe(false);
    }
    // Digests are HMACs, not SHA-256 of the content: a known block cannot be looked up.
    const plainDigest = createHash('sha256').update(image.subarray(0, CHUNK)).digest('hex');
    const chunkNames = files.filter((f) => f.includes('/chunks/')).map((f) => path.basename(f));
    expect(chunkNames.length).toBe(4);
    expect(chunkNames).not.toContain(plainDigest);

    expect(sameBytes(await readWholeDisk(store, ref, '2000', 'Right-Passw0rd'), image)).toBe(true);
    const wrong = await readRestorePoint(store, ref, { password: 'Wrong-Passw0rd' }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ChunkStoreError);
    expect((wrong as ChunkStoreError).kind).toBe('WrongPassword');
    expect((wrong as Error).message).not.toContain('Passw0rd');
    const none = await readRestorePoint(store, ref).catch((e: unknown) => e);
    expect((none as ChunkStoreError).kind).toBe('PasswordRequired');

    // Listing needs no password; the contents do.
    const [listed] = await listRestorePoints(store);
    expect(listed!.keyFingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(listed!.manifest).toBeUndefined();
    const [opened] = await listRestorePoints(store, { passwords: ['nope', 'Right-Passw0rd'] });
    expect(opened!.manifest!.object).toEqual({ name: 'finance-db-SECRETNAME' });
  });

  it('a second password gets a key of its own; the same data under it dedups only with itself', async () => {
    const image = diskImage(1 * MiB, CHUNK, 5);
    const write = async (rp: string, password?: string) => {
      const w = await beginRestorePoint(store, { backupId: 'enc2', objectId: 'vm', restorePointId: rp, compressionLevel: 1, password });
      const stats = await w.writeDisk({ key: '1', name: 'd', chunkSize: CHUNK }, bufferSource(image));
      await w.commit();
      return stats;
    };
    const a = await write('a', 'Password-A');
    const b = await write('b', 'Password-B');
    const a2 = await write('a2', 'Password-A');
    const plain = await write('p');
    expect(a.newChunks).toBeGreaterThan(0);
    expect(b.newChunks).toBe(a.newChunks);
    expect(a2.newChunks).toBe(0);
    expect(plain.newChunks).toBe(a.newChunks);
    const keys = await readdir(path.join(folder.dir, 'rampart/keys'));
    // Right-Passw0rd (the test above), Password-A, Password-B.
    expect(keys.filter((k) => k.endsWith('.json')).length).toBe(3);
    expect(sameBytes(await readWholeDisk(store, { backupId: 'enc2', objectId: 'vm', restorePointId: 'b' }, '1', 'Password-B'), image)).toBe(true);
  });
});

describe('deduplication and incrementals', () => {
  let folder: Awaited<ReturnType<typeof tempFolder>>;
  let store: ChunkStore;
  beforeAll(async () => {
    folder = await tempFolder('dedup');
    store = await openChunkStore(localFolderBackend(folder.dir));
  });
  afterAll(() => folder.remove());

  const size = 8 * MiB;
  const image = diskImage(size, CHUNK, 9);
  const ref = (rp: string) => ({ backupId: 'bk', objectId: 'vm-1', restorePointId: rp });

  it('a second full of the same data stores nothing new', async () => {
    const w1 = await beginRestorePoint(store, { ...ref('full1'), compressionLevel: 3 });
    const first = await w1.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: CHUNK }, bufferSource(image));
    await w1.commit();
    const w2 = await beginRestorePoint(store, { ...ref('full2'), compressionLevel: 3 });
    const second = await w2.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: CHUNK }, bufferSource(image));
    const body = await w2.commit();
    expect(first.bytesStored).toBeGreaterThan(2 * MiB);
    expect(second.bytesStored).toBe(0);
    expect(second.newChunks).toBe(0);
    expect(second.reusedChunks + second.zeroChunks).toBe(second.chunks);
    expect(body.kind).toBe('Full');
  });

  it('an incremental with changed extents reads only those, stores only their chunks, and restores byte-identical', async () => {
    const changed = Buffer.from(image);
    // 3 scattered writes: 2 inside one chunk each, 1 across a chunk boundary.
    const writes = [
      { offset: 5 * CHUNK + 100, length: 4096 },
      { offset: 11 * CHUNK + 7, length: 10 },
      { offset: 20 * CHUNK - 2048, length: 4096 },
    ];
    for (const e of writes) changed.fill(0x5a, e.offset, e.offset + e.length);
    const source = bufferSource(changed, { changed: writes });
    const w = await beginRestorePoint(store, { ...ref('inc1'), compressionLevel: 3, base: ref('full2') });
    const stats = await w.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: CHUNK }, source);
    const body = await w.commit();
    expect(body.kind).toBe('Increment');
    expect(source.served).toBe(4 * CHUNK);
    expect(stats.bytesRead).toBe(4 * CHUNK);
    expect(stats.newChunks).toBe(4);
    expect(stats.bytesStored).toBeLessThanOrEqual(4 * CHUNK + 4 * 64);
    expect(sameBytes(await readWholeDisk(store, ref('inc1'), '2000'), changed)).toBe(true);
    expect(sameBytes(await readWholeDisk(store, ref('full2'), '2000'), image)).toBe(true);

    // Without changed-block tracking: everything is read, the same 4 chunks stored.
    const again = Buffer.from(changed);
    again.fill(0x33, 30 * CHUNK, 30 * CHUNK + 10);
    const w2 = await beginRestorePoint(store, { ...ref('inc2'), compressionLevel: 3, base: ref('inc1') });
    const full = await w2.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: CHUNK }, bufferSource(again));
    await w2.commit();
    expect(full.bytesRead).toBe(size);
    expect(full.newChunks).toBe(1);
    expect(sameBytes(await readWholeDisk(store, ref('inc2'), '2000'), again)).toBe(true);
  });

  it('an AbortSignal stops a write promptly and leaves no restore point', async () => {
    const controller = new AbortController();
    let reads = 0;
    const slow = {
      size: 64 * MiB,
      async read(offset: number, length: number) {
        reads++;
        if (reads === 5) controller.abort(new Error('stopped by the user'));
        await new Promise((r) => setTimeout(r, 5));
        return diskImage(length, length, offset);
      },
    };
    const w = await beginRestorePoint(store, { ...ref('aborted'), compressionLevel: 3, signal: controller.signal });
    const started = Date.now();
    const err = await w.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: CHUNK }, slow).catch((e: unknown) => e);
    await w.abort();
    expect((err as ChunkStoreError).kind).toBe('Aborted');
    expect((err as Error).message).toContain('stopped by the user');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(reads).toBeLessThan(10);
    expect((await listRestorePoints(store)).map((p) => p.restorePointId)).not.toContain('aborted');
    expect(await readdir(path.join(folder.dir, 'rampart/locks'))).toEqual([]);
  });
});
