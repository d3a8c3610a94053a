import { randomBytes } from 'node:crypto';
import { chown, readFile, stat, statfs, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobNotFoundError, localFolderBackend, type BlobBackend } from '../../src/chunkstore/index.js';
import { openNfsBackend } from '../../src/chunkstore/nfs-backend.js';
import { NfsExport } from '../../src/storage/nfs/export.js';
import { checkNfsShare } from '../../src/storage/nfs-share.js';
import { silentSteps } from '../../src/storage/steps.js';
import { haveGanesha, startGanesha, type Ganesha } from '../support/ganesha.js';
import { MiB, restorePointRoundTrip } from '../chunkstore/helpers.js';

const TIMEOUT = 30_000;

describe.skipIf(!haveGanesha)('NFSv3 client against NFS-Ganesha', () => {
  let ganesha: Ganesha;
  let backend: BlobBackend;
  beforeAll(async () => {
    ganesha = await startGanesha({ smallExportBytes: 4 * MiB });
    backend = await openNfsBackend(`${ganesha.sharePath}/repo`, { timeoutMs: TIMEOUT });
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
    await ganesha?.stop();
  });

  it('puts atomically, reads whole and by range, lists, renames, touches, deletes; the files are on the export', async () => {
    const data = Buffer.from('0123456789'.repeat(10_000));
    await backend.put('rampart/t/a/one', data);
    expect((await readFile(path.join(ganesha.exportDir, 'repo/rampart/t/a/one'))).equals(data)).toBe(true);
    expect((await backend.get('rampart/t/a/one')).equals(data)).toBe(true);
    expect((await backend.get('rampart/t/a/one', { offset: 5, length: 7 })).toString()).toBe('5678901');
    expect((await backend.get('rampart/t/a/one', { offset: data.length - 3, length: 10 })).toString()).toBe('789');
    expect(await backend.putIfAbsent('rampart/t/a/one', Buffer.from('other'))).toBe(false);
    expect((await backend.get('rampart/t/a/one')).equals(data)).toBe(true);
    expect(await backend.putIfAbsent('rampart/t/b/two', Buffer.from('two'))).toBe(true);
    await backend.put('rampart/t/a/one', Buffer.from('replaced'));
    expect((await backend.get('rampart/t/a/one')).toString()).toBe('replaced');
    // A file written on the server side shows up in listings with its size.
    await writeFile(path.join(ganesha.exportDir, 'repo/rampart/t/b/three'), 'abc!');
    const listed: Record<string, number> = {};
    for await (const b of backend.list('rampart/t/')) listed[b.key] = b.size;
    expect(listed).toEqual({ 'rampart/t/a/one': 8, 'rampart/t/b/two': 3, 'rampart/t/b/three': 4 });
    const onlyA: string[] = [];
    for await (const b of backend.list('rampart/t/a/')) onlyA.push(b.key);
    expect(onlyA).toEqual(['rampart/t/a/one']);
    // No temp file is left behind by put or putIfAbsent.
    const all: string[] = [];
    for await (const b of backend.list('')) all.push(b.key);
    expect(all.filter((k) => k.includes('.tmp-'))).toEqual([]);

    const before = (await backend.head('rampart/t/b/two'))!;
    expect(before.size).toBe(3);
    expect(Math.abs(before.modifiedMs - (await stat(path.join(ganesha.exportDir, 'repo/rampart/t/b/two'))).mtimeMs)).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 1100));
    await backend.touch('rampart/t/b/two');
    expect((await backend.head('rampart/t/b/two'))!.modifiedMs).toBeGreaterThan(before.modifiedMs);
    await backend.rename('rampart/t/b/two', 'rampart/t/c/two.bad');
    expect(await backend.head('rampart/t/b/two')).toBeUndefined();
    expect((await backend.get('rampart/t/c/two.bad')).toString()).toBe('two');
    await backend.delete('rampart/t/c/two.bad');
    await backend.delete('rampart/t/b/never-was');
    await backend.delete('rampart/nowhere/never-was');
    await expect(backend.get('rampart/t/c/two.bad')).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(backend.get('rampart/nowhere/x')).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(backend.rename('rampart/t/c/absent', 'rampart/t/c/x')).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await backend.head('rampart/nowhere/x')).toBeUndefined();
    await expect(backend.head('../escape')).rejects.toThrow(/not a valid blob key/);
  });

  it('moves large blobs in rtmax/wtmax pieces, byte for byte, and reports the MiB/s of a 64 MiB put/get loop', async () => {
    const blob = randomBytes(4 * MiB + 4321);
    await backend.put('rampart/big/one', blob);
    expect((await backend.get('rampart/big/one')).equals(blob)).toBe(true);
    expect((await backend.get('rampart/big/one', { offset: 3 * MiB - 7, length: MiB })).equals(blob.subarray(3 * MiB - 7, 4 * MiB - 7))).toBe(true);

    const chunk = randomBytes(4 * MiB);
    const rounds = 16; // 64 MiB
    /** MiB/s of putting then getting the 64 MiB, blob by blob. */
    const loop = async (b: BlobBackend) => {
      let started = performance.now();
      for (let i = 0; i < rounds; i++) await b.put(`rampart/bench/${i}`, chunk);
      const put = 64 / ((performance.now() - started) / 1000);
      started = performance.now();
      for (let i = 0; i < rounds; i++) expect((await b.get(`rampart/bench/${i}`)).length).toBe(chunk.length);
      const get = 64 / ((performance.now() - started) / 1000);
      for (let i = 0; i < rounds; i++) await b.delete(`rampart/bench/${i}`);
      return { put, get };
    };
    const nfs = await loop(backend);
    // Baseline: the same loop on a local folder of the same volume, directly.
    const local = await loop(localFolderBackend(path.join(ganesha.exportDir, '..', 'local-baseline')));
    console.log(
      `NFS loopback, 64 MiB in 4 MiB blobs: put ${nfs.put.toFixed(1)} MiB/s, get ${nfs.get.toFixed(1)} MiB/s; ` +
        `local folder: put ${local.put.toFixed(1)} MiB/s, get ${local.get.toFixed(1)} MiB/s (NFS ÷ local: put ${(nfs.put / local.put).toFixed(2)}, get ${(nfs.get / local.get).toFixed(2)})`,
    );
  }, 120_000);

  it('stores a restore point and reads it back byte-identical, verified, then collects its garbage', () => restorePointRoundTrip(backend, 'Nfs-Pw-1'), 120_000);

  it('reports FSSTAT figures equal to what statfs of the export folder says', async () => {
    const share = await NfsExport.open(ganesha.sharePath, { timeoutMs: TIMEOUT });
    try {
      const [nfs, local] = [await share.fsstat(), await statfs(ganesha.exportDir)];
      expect(nfs.totalBytes).toBe(local.blocks * local.bsize);
      // Other processes write to this volume meanwhile: equal within 64 MiB.
      expect(Math.abs(nfs.freeBytes - local.bfree * local.bsize)).toBeLessThan(64 * MiB);
      expect(Math.abs(nfs.availableBytes - local.bavail * local.bsize)).toBeLessThan(64 * MiB);
    } finally {
      await share.close();
    }
  });

  it('the repository check mounts, creates the folder, writes a probe and measures; nothing is left behind', async () => {
    const figures = await checkNfsShare(`${ganesha.sharePath}/checked/deeper`, silentSteps, { timeoutMs: TIMEOUT });
    expect(figures.source).toBe('filesystem');
    expect(figures.capacityBytes).toBe((await statfs(ganesha.exportDir)).blocks * (await statfs(ganesha.exportDir)).bsize);
    expect(figures.freeBytes).toBeGreaterThan(0);
    expect((await stat(path.join(ganesha.exportDir, 'checked/deeper'))).isDirectory()).toBe(true);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(path.join(ganesha.exportDir, 'checked/deeper'))).toEqual([]);
  });

  it('a read-only export refuses writes with a message saying so; reads still work', async () => {
    await mkdir(path.join(ganesha.readOnlyDir, 'repo'), { recursive: true });
    await writeFile(path.join(ganesha.readOnlyDir, 'repo/present'), 'here');
    const ro = await openNfsBackend(`${ganesha.readOnlySharePath}/repo`, { timeoutMs: TIMEOUT });
    try {
      expect((await ro.get('present')).toString()).toBe('here');
      await expect(ro.put('rampart/x', Buffer.from('no'))).rejects.toThrow(/read-only|refuses writes/);
    } finally {
      await ro.close();
    }
    await expect(checkNfsShare(ganesha.readOnlySharePath, silentSteps, { timeoutMs: TIMEOUT })).rejects.toThrow(
      new RegExp(`Cannot write to the NFS export folder ${ganesha.readOnlySharePath.replace(/\./g, '\\.')}: .*(read-only|refuses writes)`),
    );
  });

  it('writes as the configured AUTH_SYS identity: files are owned by it, and a folder it may not write says what to check', async () => {
    await mkdir(path.join(ganesha.exportDir, 'owned'), { mode: 0o755 });
    await chown(path.join(ganesha.exportDir, 'owned'), 4321, 4321);
    const as4321 = await openNfsBackend(`${ganesha.sharePath}/owned`, { timeoutMs: TIMEOUT, credentials: { uid: 4321, gid: 4321 } });
    try {
      await as4321.put('rampart/mine', Buffer.from('mine'));
      const owner = await stat(path.join(ganesha.exportDir, 'owned/rampart/mine'));
      expect([owner.uid, owner.gid]).toEqual([4321, 4321]);
    } finally {
      await as4321.close();
    }
    // The export's root folder belongs to root (0755): uid 4321 may not write there.
    const stranger = await openNfsBackend(ganesha.sharePath, { timeoutMs: TIMEOUT, credentials: { uid: 4321, gid: 4321 } });
    try {
      await expect(stranger.put('rampart/denied', Buffer.from('no'))).rejects.toThrow(/the export refuses writes from this server: check the export's access list \/ root squash/);
    } finally {
      await stranger.close();
    }
  });

  it('a full export fails the write with "no space", leaves no temp file behind, and the blobs written before stay whole', async () => {
    const small = await openNfsBackend(ganesha.smallSharePath!, { timeoutMs: TIMEOUT });
    try {
      const first = randomBytes(MiB);
      await small.put('rampart/first', first);
      await expect(small.put('rampart/too-big', randomBytes(8 * MiB))).rejects.toMatchObject({
        kind: 'NoSpace',
        message: expect.stringMatching(/No space left in the NFS export folder .*no space left on the export/),
      });
      await expect(small.putIfAbsent('rampart/too-big-2', randomBytes(8 * MiB))).rejects.toMatchObject({ kind: 'NoSpace' });
      const left: string[] = [];
      for await (const b of small.list('')) left.push(b.key);
      expect(left).toEqual(['rampart/first']);
      expect((await small.get('rampart/first')).equals(first)).toBe(true);
    } finally {
      await small.close();
    }
  });

  it('an export the server does not have, or a server that does not answer, fails naming the export and why', async () => {
    await expect(checkNfsShare(`${ganesha.address}:/not/exported`, silentSteps, { timeoutMs: TIMEOUT })).rejects.toThrow(
      /Cannot mount the NFS export .*:\/not\/exported: .*not inside any export/,
    );
    await expect(checkNfsShare('127.0.0.1:/nothing/here', silentSteps, { timeoutMs: 5000 })).rejects.toThrow(
      /Cannot mount the NFS export 127\.0\.0\.1:\/nothing\/here: cannot connect to 127\.0\.0\.1:20048 \(ECONNREFUSED\)/,
    );
    await expect(checkNfsShare('no-colon-path', silentSteps, { timeoutMs: 5000 })).rejects.toThrow(/not an NFS export such as server:\/export\/folder/);
  });
});
