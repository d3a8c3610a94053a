import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginRestorePoint, collectGarbage, listRestorePoints, localFolderBackend, openChunkStore, verifyRestorePoints, type ChunkStore } from '../../src/chunkstore/index.js';
import { bufferSource, diskImage, KiB, MiB, readWholeDisk, sameBytes, tempFolder } from './helpers.js';

const HOUR = 3_600_000;

describe('a writer killed with SIGKILL mid-write', () => {
  let folder: Awaited<ReturnType<typeof tempFolder>>;
  let store: ChunkStore;
  beforeAll(async () => {
    folder = await tempFolder('crash');
    store = await openChunkStore(localFolderBackend(folder.dir));
  });
  afterAll(() => folder.remove());

  it('leaves no visible restore point, a store that verifies clean, and garbage that GC removes once the lock is stale', async () => {
    const image = diskImage(1 * MiB, 256 * KiB, 4);
    const w = await beginRestorePoint(store, { backupId: 'bk', objectId: 'vm', restorePointId: 'good', compressionLevel: 3, password: 'Crash-Pw-1' });
    await w.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: 256 * KiB }, bufferSource(image));
    await w.commit();

    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('test/fixtures/chunkstore/crash-writer.ts'), folder.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stderr.on('data', (c) => (out += c));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c) => {
        out += c;
        if (out.includes('writing')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the writer exited (${code}) before writing:\n${out}`)));
    });
    // Let some chunks land, then kill without any chance to clean up.
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(out).not.toContain('committed');

    const chunksLeft = (await readdir(path.join(folder.dir, 'rampart/chunks'), { recursive: true })).length;
    expect(chunksLeft).toBeGreaterThan(3);
    expect((await readdir(path.join(folder.dir, 'rampart/locks'))).length).toBe(1);

    const listed = await listRestorePoints(store, { passwords: ['Crash-Pw-1'] });
    expect(listed.map((p) => p.restorePointId)).toEqual(['good']);
    const report = await verifyRestorePoints(store, { passwords: ['Crash-Pw-1'] });
    expect(report.badChunks).toEqual([]);
    expect(report.damagedRestorePoints).toEqual([]);
    expect(sameBytes(await readWholeDisk(store, { backupId: 'bk', objectId: 'vm', restorePointId: 'good' }, '2000', 'Crash-Pw-1'), image)).toBe(true);

    // The dead writer's lock holds GC back (it cannot know the writer is dead) until it is stale.
    const held = await collectGarbage(store, { now: Date.now() + 2 * HOUR });
    expect(held.deletedChunks).toBe(0);
    const swept = await collectGarbage(store, { now: Date.now() + 2 * HOUR, staleLockMs: HOUR });
    expect(swept.staleLocks.length).toBe(1);
    expect(await readdir(path.join(folder.dir, 'rampart/locks'))).toEqual([]);
    expect(swept.deletedChunks).toBeGreaterThan(0);
    const remaining = await readdir(path.join(folder.dir, 'rampart/chunks'), { recursive: true, withFileTypes: true });
    expect(remaining.filter((e) => e.isFile()).length).toBe(swept.markedChunks);
    expect(remaining.filter((e) => e.isFile() && e.name.includes('.tmp-'))).toEqual([]);
    expect((await verifyRestorePoints(store, { passwords: ['Crash-Pw-1'] })).badChunks).toEqual([]);
  });
});
