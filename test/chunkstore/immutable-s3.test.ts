import { CreateBucketCommand, DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyRetention,
  beginRestorePoint,
  ChunkStoreError,
  collectGarbage,
  deleteRestorePoint,
  listRestorePoints,
  openChunkStore,
  openS3Backend,
  type ChunkStore,
} from '../../src/chunkstore/index.js';
import { startLocalS3, S3_ACCESS_KEY, S3_SECRET_KEY, type LocalS3 } from '../support/s3.js';
import { startObjectLockStandIn, type ObjectLockStandIn } from '../support/s3-object-lock.js';
import { bufferSource, diskImage, KiB, readWholeDisk } from './helpers.js';

// A short "day count" so the period can pass inside the test: 4 seconds.
const PERIOD_MS = 4000;
const DAYS = PERIOD_MS / 86_400_000;
const BUCKET = 'locked';
const chain = { backupId: 'b1', objectId: 'vm1' };

describe('S3 object lock (bucket.immutability) through the chunk store', () => {
  let s3: LocalS3;
  let lock: ObjectLockStandIn;
  let store: ChunkStore;
  let raw: S3Client;
  const image = diskImage(512 * KiB, 64 * KiB, 3);
  const changed = Buffer.from(image);

  beforeAll(async () => {
    s3 = await startLocalS3([]);
    await s3.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    lock = await startObjectLockStandIn(s3.port);
    const target = { endpoint: lock.endpoint, region: 'us-east-1', bucket: BUCKET, folder: 'repo', accessKey: S3_ACCESS_KEY, secretKey: S3_SECRET_KEY, forcePathStyle: true };
    store = await openChunkStore(openS3Backend(target, { immutableDays: DAYS }));
    raw = new S3Client({ region: 'us-east-1', endpoint: lock.endpoint, forcePathStyle: true, credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY } });
  });
  afterAll(async () => {
    raw?.destroy();
    await store?.backend.close();
    await lock?.stop();
    await s3?.stop();
  });

  const write = async (restorePointId: string, data: Buffer, base?: string) => {
    const w = await beginRestorePoint(store, { ...chain, restorePointId, compressionLevel: 3, ...(base ? { base: { ...chain, restorePointId: base } } : {}) });
    await w.writeDisk({ key: 'd0', name: 'disk0', chunkSize: 64 * KiB }, bufferSource(data));
    await w.commit();
  };

  it('locks every chunk, index and manifest in COMPLIANCE mode, refuses early deletes, extends reused chunks, and lets retention remove after expiry', async () => {
    const t0 = Date.now();
    await write('rp1', image);
    const keys: string[] = [];
    for await (const b of store.backend.list('rampart/')) keys.push(b.key);
    const retained = keys.filter((k) => k.startsWith('rampart/chunks/') || k.startsWith('rampart/backups/'));
    expect(retained.some((k) => k.endsWith('manifest.json'))).toBe(true);
    expect(retained.some((k) => k.endsWith('.fidx'))).toBe(true);
    expect(retained.filter((k) => k.startsWith('rampart/chunks/')).length).toBeGreaterThan(1);
    for (const k of retained) expect(lock.retainedUntil(BUCKET, `repo/${k}`)?.getTime()).toBeGreaterThanOrEqual(t0 + PERIOD_MS - 50);
    // Locks and config stay removable.
    expect(lock.retainedUntil(BUCKET, 'repo/rampart/config.json')).toBeUndefined();
    const manifestUntil = lock.retainedUntil(BUCKET, 'repo/rampart/backups/b1/vm1/rp1/manifest.json')!;

    // Rampart refuses, naming the date.
    const refused = await deleteRestorePoint(store, { ...chain, restorePointId: 'rp1' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ChunkStoreError);
    expect((refused as ChunkStoreError).kind).toBe('Immutable');
    expect((refused as ChunkStoreError).message).toContain(`immutable until ${manifestUntil.toISOString()}`);
    // The storage refuses too, whoever asks.
    await expect(raw.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'repo/rampart/backups/b1/vm1/rp1/manifest.json' }))).rejects.toMatchObject({ name: 'AccessDenied' });
    expect((await listRestorePoints(store)).map((p) => p.restorePointId)).toEqual(['rp1']);

    // An incremental later on: the chunks it reuses get their retention extended past rp1's.
    await new Promise((r) => setTimeout(r, 1500));
    randomize(changed, 0, 64 * KiB);
    await write('rp2', changed, 'rp1');
    const rp2Until = lock.retainedUntil(BUCKET, 'repo/rampart/backups/b1/vm1/rp2/manifest.json')!.getTime();
    const chunkKeys = retained.filter((k) => k.startsWith('rampart/chunks/'));
    const extended = chunkKeys.filter((k) => lock.retainedUntil(BUCKET, `repo/${k}`)!.getTime() >= rp2Until - 1000);
    // Every chunk but the one rp2 replaced is still in use and now lasts as long as rp2.
    expect(extended.length).toBeGreaterThanOrEqual(chunkKeys.length - 1);

    // Rampart's own retention cannot remove rp1 before its date…
    const early = await applyRetention(store, chain, { keepRestorePoints: 1 });
    expect(early.deleted).toEqual([]);
    expect(early.protected.map((p) => p.restorePointId)).toEqual(['rp1']);

    // …and does once it has passed; rp2 still restores, and its chunks outlive GC.
    await new Promise((r) => setTimeout(r, Math.max(0, manifestUntil.getTime() - Date.now() + 100)));
    const later = await applyRetention(store, chain, { keepRestorePoints: 1 });
    expect(later.deleted.map((p) => p.restorePointId)).toEqual(['rp1']);
    await collectGarbage(store, { graceMs: 0 });
    expect((await readWholeDisk(store, { ...chain, restorePointId: 'rp2' }, 'd0')).equals(changed)).toBe(true);
    await expect(deleteRestorePoint(store, { ...chain, restorePointId: 'rp2' })).rejects.toMatchObject({ kind: 'Immutable' });
  }, 60_000);
});

function randomize(buf: Buffer, from: number, length: number) {
  for (let i = from; i < from + length; i++) buf[i] = (i * 131 + 7) & 0xff;
}
