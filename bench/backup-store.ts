// bench/backup-store: the chunk store's data path on a 1 GiB disk image (first half random, second
// half zeros and copies of one block), from a local file into a local-folder repository, all in one
// run so the ratios compare like with like on this machine's 2 shared cores:
//   - full backup (zstd Optimal = level 3, 4 MiB chunks; plain and encrypted) ÷ reading the raw file,
//   - incremental after changing 1 % of the blocks, with and without changed extents (bytes stored, time),
//   - restore of the full as an ordered stream (every chunk checked) ÷ reading the raw file,
//   - verification of every chunk ÷ reading the chunk files raw, both from the disk (the chunk files
//     dropped from the page cache first, as a repository's old backups are) and from the page cache,
//   - peak resident memory (workers included: they are threads of this process).
//   npm run bench:store     (BENCH_STORE_MIB=1024 BENCH_STORE_CHUNK=LocalTargetLarge BENCH_STORE_LEVEL=Optimal)
import { createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { decompress } from 'zstd-napi';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  beginRestorePoint,
  chunkSizeFor,
  localFolderBackend,
  openChunkStore,
  openDisk,
  readRestorePoint,
  verifyRestorePoints,
  zstdLevelFor,
  type ChunkStore,
  type CompressionLevel,
  type DiskSource,
  type Extent,
  type RestorePointRef,
  type StorageOptimization,
} from '../src/chunkstore/index.js';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_STORE_MIB ?? 1024) * MiB;
const CHUNK = chunkSizeFor((process.env.BENCH_STORE_CHUNK ?? 'LocalTargetLarge') as StorageOptimization);
const LEVEL = zstdLevelFor((process.env.BENCH_STORE_LEVEL ?? 'Optimal') as CompressionLevel);
const PASSWORD = 'Bench-Store-Passw0rd';

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

async function makeImage(file: string): Promise<void> {
  const handle = await open(file, 'w');
  const block = randomBytes(CHUNK);
  for (let at = 0; at < SIZE; at += CHUNK) {
    const len = Math.min(CHUNK, SIZE - at);
    let data: Buffer;
    if (at < SIZE / 2) data = randomBytes(len);
    else if (Math.floor(at / CHUNK) % 2 === 0) data = Buffer.alloc(len);
    else data = block.subarray(0, len);
    await handle.write(data, 0, len, at);
  }
  await handle.close();
}

async function fileSource(file: string, changed?: Extent[]): Promise<DiskSource & { close(): Promise<void> }> {
  const handle = await open(file, 'r');
  return {
    size: SIZE,
    changed,
    handsOverBuffers: true,
    async read(offset, length) {
      const buffer = Buffer.allocUnsafeSlow(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
    },
    close: () => handle.close(),
  };
}

async function rawRead(files: string[], blockSize: number): Promise<{ seconds: number; bytes: number }> {
  const started = process.hrtime.bigint();
  let bytes = 0;
  const buffer = Buffer.allocUnsafe(blockSize);
  for (const file of files) {
    const handle = await open(file, 'r');
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, blockSize, null);
      if (!bytesRead) break;
      bytes += bytesRead;
    }
    await handle.close();
  }
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, bytes };
}

/** The floor of any content-addressed store: read and SHA-256 every non-zero chunk, one thread. */
async function readAndHash(file: string): Promise<number> {
  const source = await fileSource(file);
  const started = process.hrtime.bigint();
  const zero = Buffer.alloc(CHUNK);
  for (let at = 0; at < SIZE; at += CHUNK) {
    const read = await source.read!(at, Math.min(CHUNK, SIZE - at));
    const data = Buffer.from(read.buffer, read.byteOffset, read.byteLength);
    if (!data.equals(zero.subarray(0, data.length))) createHash('sha256').update(data).digest();
  }
  await source.close();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function backup(store: ChunkStore, ref: RestorePointRef, file: string, options: { password?: string; base?: RestorePointRef; changed?: Extent[] }) {
  const source = await fileSource(file, options.changed);
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const w = await beginRestorePoint(store, { ...ref, compressionLevel: LEVEL, password: options.password, base: options.base });
  const stats = await w.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: CHUNK }, source);
  await w.commit();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  await source.close();
  return { ...stats, seconds, cpuSeconds: (used.user + used.system) / 1e6 };
}

/**
 * What verification costs per stage, one thread, over the same chunk files:
 * read (into one reused buffer) → CRC-32 → AES-256-GCM (measured on the same
 * bytes with a throwaway key: the cost, not a check) → zstd (only compressed
 * chunks) → SHA-256. The sum bounds what one worker can do; two workers at
 * best halve it.
 */
function verifyStages(files: string[]): Record<'read' | 'crc' | 'gcm' | 'zstd' | 'sha' | 'mib', number> {
  const t = { read: 0, crc: 0, gcm: 0, zstd: 0, sha: 0, mib: 0 };
  let buffer = Buffer.allocUnsafe(0);
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const time = (stage: keyof typeof t, f: () => void) => {
    const started = process.hrtime.bigint();
    f();
    t[stage] += Number(process.hrtime.bigint() - started) / 1e6;
  };
  for (const file of files) {
    let blob: Buffer = buffer;
    time('read', () => {
      const fd = openSync(file, 'r');
      const size = fstatSync(fd).size;
      if (buffer.length < size) buffer = Buffer.allocUnsafe(size);
      let got = 0;
      for (let n = 1; got < size && n > 0; got += n) n = readSync(fd, buffer, got, size - got, got);
      closeSync(fd);
      blob = buffer.subarray(0, got);
    });
    const body = blob.subarray(20);
    let plain: Buffer = body;
    time('crc', () => void crc32(body));
    time('gcm', () => void createDecipheriv('aes-256-gcm', key, iv).update(body));
    if (blob[8]! & 1) time('zstd', () => void (plain = decompress(body)));
    time('sha', () => void createHash('sha256').update(plain).digest());
    t.mib += blob.length / MiB;
  }
  return t;
}

/**
 * Drops files from the page cache (GNU dd's documented "iflag=nocache count=0":
 * posix_fadvise DONTNEED over the whole file), so the next read comes from the
 * disk, as it does when a repository's backups are verified days after they were
 * written. Needs no root (coreutils' dd and sync).
 */
function dropFromCache(files: string[]): void {
  // Dirty pages stay cached whatever fadvise says: write them back first.
  spawnSync('sync');
  for (const file of files) {
    const done = spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
    if (done.status !== 0) throw new Error(`dd could not drop ${file} from the page cache: ${done.stderr.toString()}`);
  }
}

async function chunkFiles(root: string): Promise<string[]> {
  const entries = await readdir(path.join(root, 'rampart/chunks'), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

const mibs = (bytes: number, seconds: number) => (bytes / MiB / seconds).toFixed(0);
const fmt = (n: number) => (n / MiB).toFixed(1);

const work = await mkdtemp(path.join(tmpdir(), 'rampart-bench-store-'));
try {
  const image = path.join(work, 'disk.img');
  await makeImage(image);
  const repo = path.join(work, 'repo');
  const store = await openChunkStore(localFolderBackend(repo));
  console.log(`disk ${SIZE / MiB} MiB (half random, half zeros/copies), chunks ${CHUNK / MiB} MiB, zstd level ${LEVEL}`);

  await rawRead([image], CHUNK); // warm the page cache: both sides then read from memory
  const raw = await rawRead([image], CHUNK);
  console.log(`raw read of the image:            ${raw.seconds.toFixed(2)} s, ${mibs(raw.bytes, raw.seconds)} MiB/s`);

  const hashSeconds = await readAndHash(image);
  console.log(`read + SHA-256, one thread:        ${hashSeconds.toFixed(2)} s, ${mibs(SIZE, hashSeconds)} MiB/s`);
  const idleRss = process.memoryUsage().rss;
  peakRss = idleRss;
  const ref = (rp: string) => ({ backupId: 'bench', objectId: 'vm', restorePointId: rp });
  const full = await backup(store, ref('full'), image, {});
  console.log(
    `full backup:                      ${full.seconds.toFixed(2)} s, ${mibs(SIZE, full.seconds)} MiB/s, ${full.newChunks} new chunks, ${fmt(full.bytesStored)} MiB stored, ${full.cpuSeconds.toFixed(1)} CPU s; ratio to raw read ${(raw.seconds / full.seconds).toFixed(2)}, to read + SHA-256 ${(hashSeconds / full.seconds).toFixed(2)}`,
  );
  const encRepo = path.join(work, 'repo-enc');
  const encStore = await openChunkStore(localFolderBackend(encRepo));
  const enc = await backup(encStore, ref('full'), image, { password: PASSWORD });
  console.log(
    `full backup, encrypted:           ${enc.seconds.toFixed(2)} s, ${mibs(SIZE, enc.seconds)} MiB/s, ${enc.cpuSeconds.toFixed(1)} CPU s; ratio to raw read ${(raw.seconds / enc.seconds).toFixed(2)}, to read + SHA-256 ${(hashSeconds / enc.seconds).toFixed(2)}`,
  );
  const fullRss = peakRss;

  // Change 1 % of the blocks (chunk-sized blocks), scattered.
  const blocks = SIZE / CHUNK;
  const changedBlocks = Math.max(1, Math.round(blocks / 100));
  const handle = await open(image, 'r+');
  const changed: Extent[] = [];
  for (let k = 0; k < changedBlocks; k++) {
    const offset = Math.floor(((k + 0.5) * blocks) / changedBlocks) * CHUNK + 4096;
    await handle.write(randomBytes(4096), 0, 4096, offset);
    changed.push({ offset, length: 4096 });
  }
  await handle.close();
  const incFull = await backup(store, ref('inc-read-all'), image, { base: ref('full') });
  // Another 1 % for the run with changed extents (the first 1 % is stored already).
  const again = await open(image, 'r+');
  const changedAgain: Extent[] = changed.map((e) => ({ offset: e.offset + CHUNK, length: e.length }));
  for (const e of changedAgain) await again.write(randomBytes(e.length), 0, e.length, e.offset);
  await again.close();
  const incCbt = await backup(store, ref('inc-cbt'), image, { base: ref('inc-read-all'), changed: changedAgain });
  console.log(
    `incremental, ${changedBlocks} of ${blocks} blocks changed, reading everything: ${incFull.seconds.toFixed(2)} s (${((incFull.seconds / full.seconds) * 100).toFixed(1)} % of the full), ${fmt(incFull.bytesStored)} MiB stored (${((incFull.bytesStored / SIZE) * 100).toFixed(2)} % of the disk)`,
  );
  console.log(
    `incremental with changed extents: ${incCbt.seconds.toFixed(2)} s (${((incCbt.seconds / full.seconds) * 100).toFixed(1)} % of the full), ${fmt(incCbt.bytesRead)} MiB read, ${fmt(incCbt.bytesStored)} MiB stored`,
  );

  const restoreStarted = process.hrtime.bigint();
  const disk = await openDisk(store, await readRestorePoint(store, ref('full')), '2000');
  let restored = 0;
  for await (const part of disk.stream()) restored += part.length;
  const restoreSeconds = Number(process.hrtime.bigint() - restoreStarted) / 1e9;
  console.log(
    `restore (ordered stream, verified): ${restoreSeconds.toFixed(2)} s, ${mibs(restored, restoreSeconds)} MiB/s; ratio to raw read ${(raw.seconds / restoreSeconds).toFixed(2)}`,
  );

  const files = await chunkFiles(repo);
  // From the disk: the case a scheduled health check meets (backups written days ago are no longer cached).
  dropFromCache(files);
  const coldRaw = await rawRead(files, 4 * MiB);
  dropFromCache(files);
  const coldStarted = process.hrtime.bigint();
  const coldReport = await verifyRestorePoints(store);
  const coldVerify = Number(process.hrtime.bigint() - coldStarted) / 1e9;
  if (coldReport.badChunks.length) throw new Error('verification found bad chunks');
  console.log(
    `verification, from the disk:      ${coldReport.checkedChunks} chunks, ${fmt(coldReport.checkedBytes)} MiB in ${coldVerify.toFixed(2)} s (${mibs(coldReport.checkedBytes, coldVerify)} MiB/s); raw read of the chunk files ${coldRaw.seconds.toFixed(2)} s (${mibs(coldRaw.bytes, coldRaw.seconds)} MiB/s); ratio ${(coldRaw.seconds / coldVerify).toFixed(2)}`,
  );
  // From the page cache: the CPU-bound ceiling (SHA-256 of every byte on two cores against a memory copy).
  await rawRead(files, 4 * MiB);
  const rawChunks = await rawRead(files, 4 * MiB);
  const started = process.hrtime.bigint();
  const report = await verifyRestorePoints(store);
  const verifySeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (report.badChunks.length) throw new Error('verification found bad chunks');
  console.log(
    `verification, from the page cache: ${report.checkedChunks} chunks, ${fmt(report.checkedBytes)} MiB in ${verifySeconds.toFixed(2)} s (${mibs(report.checkedBytes, verifySeconds)} MiB/s); raw read of the chunk files ${rawChunks.seconds.toFixed(2)} s; ratio ${(rawChunks.seconds / verifySeconds).toFixed(2)}`,
  );
  const stages = verifyStages(files);
  const perMiB = (ms: number) => (ms / stages.mib).toFixed(2);
  const oneThread = stages.read + stages.crc + stages.zstd + stages.sha;
  console.log(
    `  verification stages, one thread, ms per MiB: read ${perMiB(stages.read)}, CRC-32 ${perMiB(stages.crc)}, zstd ${perMiB(stages.zstd)}, SHA-256 ${perMiB(stages.sha)} (AES-GCM when encrypted ${perMiB(stages.gcm)}); all of them ${perMiB(oneThread)}: with both cores at best ${(oneThread / 2 / stages.mib).toFixed(2)} ms/MiB, ratio to the raw read at best ${((rawChunks.seconds * 1000) / (oneThread / 2)).toFixed(2)}`,
  );
  const encFiles = await chunkFiles(encRepo);
  dropFromCache(encFiles);
  const encColdRaw = await rawRead(encFiles, 4 * MiB);
  dropFromCache(encFiles);
  let encStarted = process.hrtime.bigint();
  await verifyRestorePoints(encStore, { passwords: [PASSWORD] });
  const encColdVerify = Number(process.hrtime.bigint() - encStarted) / 1e9;
  const encRaw = await rawRead(encFiles, 4 * MiB);
  encStarted = process.hrtime.bigint();
  await verifyRestorePoints(encStore, { passwords: [PASSWORD] });
  const encVerify = Number(process.hrtime.bigint() - encStarted) / 1e9;
  console.log(
    `verification, encrypted:          from the disk ${encColdVerify.toFixed(2)} s, raw read ${encColdRaw.seconds.toFixed(2)} s, ratio ${(encColdRaw.seconds / encColdVerify).toFixed(2)}; from the page cache ${encVerify.toFixed(2)} s, raw read ${encRaw.seconds.toFixed(2)} s, ratio ${(encRaw.seconds / encVerify).toFixed(2)}`,
  );
  console.log(
    `peak resident memory: ${(fullRss / MiB).toFixed(0)} MiB during the full backups (${(idleRss / MiB).toFixed(0)} MiB before them), ${(peakRss / MiB).toFixed(0)} MiB overall`,
  );
} finally {
  clearInterval(sampler);
  await rm(work, { recursive: true, force: true });
}
