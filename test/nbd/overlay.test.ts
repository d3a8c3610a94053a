import { randomBytes } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferBlockSource, fileBlockSource } from '../../src/nbd/block-source.js';
import { mountExportAsFile } from '../../src/nbd/fuse-mount.js';
import { CopyOnWriteOverlay } from '../../src/nbd/overlay.js';
import { NbdServer } from '../../src/nbd/server.js';
import { exec, nbdinfoJson, qemuRead, qemuWritePattern, randomImage, sha256File, tempDir } from '../support/nbd.js';

const SIZE = 4 * 1024 * 1024 + 3000; // a partial last block
const BLOCK = 64 * 1024;

describe('copy-on-write overlay', () => {
  let dir: string;
  let image: { path: string; bytes: Buffer };
  let source: Awaited<ReturnType<typeof fileBlockSource>>;
  let sourceHash: string;
  let server: NbdServer;

  beforeAll(async () => {
    dir = await tempDir('overlay');
    image = await randomImage(dir, SIZE);
    sourceHash = await sha256File(image.path);
    source = await fileBlockSource(image.path);
    server = new NbdServer();
    await server.listen({ socketPath: path.join(dir, 'nbd.sock') });
  });

  afterAll(async () => {
    await server?.close();
    await source?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads back random partial and whole-block writes, and the redo file is sparse', async () => {
    const redoPath = path.join(dir, 'random.redo');
    const overlay = await CopyOnWriteOverlay.open({ source, redoPath });
    const model = Buffer.from(image.bytes);
    const writes: Array<[number, number]> = [
      [0, 1],
      [BLOCK - 10, 20], // across a block boundary
      [3 * BLOCK, 2 * BLOCK], // whole blocks, no read-modify-write
      [SIZE - 100, 100], // the partial last block
      [5 * BLOCK + 7, 3 * BLOCK + 11],
    ];
    for (let i = 0; i < 30; i++) {
      const offset = Math.floor(Math.random() * (SIZE - 1));
      writes.push([offset, 1 + Math.floor(Math.random() * Math.min(200_000, SIZE - offset - 1))]);
    }
    for (const [offset, length] of writes) {
      const data = randomBytes(length);
      await overlay.write(offset, data);
      data.copy(model, offset);
    }
    // Concurrent partial writes into one block not yet copied: none may be lost.
    const block = 40 * BLOCK;
    await Promise.all(
      [0, 1, 2, 3].map((i) => {
        const data = Buffer.alloc(1000, i + 1);
        data.copy(model, block + i * 5000);
        return overlay.write(block + i * 5000, data);
      }),
    );
    expect((await overlay.read(0, SIZE)).equals(model)).toBe(true);
    for (const [offset, length] of [
      [BLOCK - 5, 10],
      [SIZE - 1, 1],
      [block, BLOCK],
    ])
      expect((await overlay.read(offset, length)).equals(model.subarray(offset, offset + length))).toBe(true);

    await overlay.flush();
    const { blocks } = await stat(redoPath);
    expect(blocks * 512).toBeLessThanOrEqual(overlay.redoBytes() + 64 * 1024);
    expect(overlay.redoBytes()).toBeLessThan(SIZE);
    await expect(overlay.read(SIZE - 1, 2)).rejects.toThrow(RangeError);

    // Kept and reopened (a restart): the same disk; a disk of another size is refused.
    await overlay.close({ keep: true });
    await expect(CopyOnWriteOverlay.open({ source: bufferBlockSource(Buffer.alloc(4096)), redoPath, resume: true })).rejects.toThrow(/belongs to a disk/);
    await expect(CopyOnWriteOverlay.open({ source, redoPath })).rejects.toThrow(/EEXIST/);
    const resumed = await CopyOnWriteOverlay.open({ source, redoPath, resume: true });
    expect((await resumed.read(0, SIZE)).equals(model)).toBe(true);
    const merged: Buffer[] = [];
    for await (const chunk of resumed.mergedStream({ chunkSize: 1024 * 1024 })) merged.push(chunk);
    expect(Buffer.concat(merged).equals(model)).toBe(true);
    await resumed.close();
    expect(existsSync(redoPath)).toBe(false);
    expect(await sha256File(image.path)).toBe(sourceHash);
  });

  it('through nbdfuse read-write: writes land in the redo file, reads return them, the source is untouched', async () => {
    const redoPath = path.join(dir, 'fuse.redo');
    const overlay = await CopyOnWriteOverlay.open({ source, redoPath });
    server.addExport({ name: 'rw', device: overlay });
    const info = await nbdinfoJson(server.uri('rw'));
    expect(info).toEqual({ size: SIZE, readOnly: false, canFlush: true });

    const mount = await mountExportAsFile({ uri: server.uri('rw'), mountPoint: path.join(dir, 'mnt'), size: SIZE });
    const patch = randomBytes(300_000);
    const patchFile = path.join(dir, 'patch.bin');
    await writeFile(patchFile, patch);
    const at = 123_457; // unaligned, spans several blocks
    try {
      // Written by dd, a separate process: the file is served by this very process, so it must
      // not do file I/O on it itself (see docs/nbd.md).
      await exec('dd', [`if=${patchFile}`, `of=${mount.file}`, 'bs=100000', `seek=${at}`, 'oflag=seek_bytes', 'conv=notrunc,nocreat,fsync', 'status=none']);
      const expected = Buffer.from(image.bytes);
      patch.copy(expected, at);
      const readBack = path.join(dir, 'readback.img');
      await exec('dd', [`if=${mount.file}`, `of=${readBack}`, 'bs=1M', 'iflag=direct', 'status=none']);
      expect((await readFile(readBack)).equals(expected)).toBe(true);
      expect(overlay.redoBytes()).toBe(Math.ceil((at + patch.length) / BLOCK) * BLOCK - Math.floor(at / BLOCK) * BLOCK);
      expect(await sha256File(image.path)).toBe(sourceHash);

      // The redo file holds the data on its own: reopened after a close that keeps it, it gives the same disk.
      await mount.unmount();
      await server.removeExport('rw');
      await overlay.close({ keep: true });
      const again = await CopyOnWriteOverlay.open({ source, redoPath, resume: true });
      expect((await again.read(0, SIZE)).equals(expected)).toBe(true);
      await again.close();
      expect(existsSync(redoPath)).toBe(false);
    } finally {
      await mount.unmount();
      await server.removeExport('rw');
      await overlay.close();
    }
  });

  it('keeps two overlays of one source independent', async () => {
    const a = await CopyOnWriteOverlay.open({ source, redoPath: path.join(dir, 'a.redo') });
    const b = await CopyOnWriteOverlay.open({ source, redoPath: path.join(dir, 'b.redo') });
    server.addExport({ name: 'a', device: a });
    server.addExport({ name: 'b', device: b });
    try {
      await qemuWritePattern(server.uri('a'), 1000, 70_000, 0x11);
      await qemuWritePattern(server.uri('b'), 1000, 70_000, 0x22);
      expect((await qemuRead(server.uri('a'), 1000, 70_000)).equals(Buffer.alloc(70_000, 0x11))).toBe(true);
      expect((await qemuRead(server.uri('b'), 1000, 70_000)).equals(Buffer.alloc(70_000, 0x22))).toBe(true);
      // Outside the written range both still show the source.
      expect((await qemuRead(server.uri('a'), 0, 1000)).equals(image.bytes.subarray(0, 1000))).toBe(true);
      expect((await qemuRead(server.uri('b'), 71_000, 4096)).equals(image.bytes.subarray(71_000, 75_096))).toBe(true);
      // And a copy of each export is the source with that export's writes only.
      const copy = path.join(dir, 'a-copy.img');
      await exec('nbdcopy', [server.uri('a'), copy]);
      const expected = Buffer.from(image.bytes);
      expected.fill(0x11, 1000, 71_000);
      expect((await readFile(copy)).equals(expected)).toBe(true);
      expect(await sha256File(image.path)).toBe(sourceHash);
    } finally {
      await server.removeExport('a');
      await server.removeExport('b');
      await a.close();
      await b.close();
    }
    expect(existsSync(path.join(dir, 'a.redo')) || existsSync(path.join(dir, 'b.redo'))).toBe(false);
  });

  it('marks a plain source read-only, so clients refuse to write it', async () => {
    server.addExport({ name: 'ro', device: source });
    try {
      await expect(qemuWritePattern(server.uri('ro'), 0, 512, 0x33)).rejects.toThrow(/read-only|Operation not permitted|Permission denied/i);
      expect(await sha256File(image.path)).toBe(sourceHash);
    } finally {
      await server.removeExport('ro');
    }
  });
});
