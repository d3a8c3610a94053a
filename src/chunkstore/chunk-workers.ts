/**
 * A pool of worker threads that hash and seal chunks, so both cores work: the
 * main thread reads the source and talks to the storage while the workers do
 * SHA-256/HMAC, zstd, AES-256-GCM and CRC-32 (measured on this machine kind:
 * each of those runs at ~400 MiB/s on random data, so one thread doing all of
 * them manages ~120 MiB/s).
 *
 * A chunk is hashed first; the worker keeps it until the main thread decides
 * (after the dedup check) whether to seal it or drop it, so the bytes cross
 * the thread boundary once (transferred, not copied).
 *
 * The worker runs from source text (an eval worker), so it works the same
 * under tsx, vitest and the esbuild bundle, which has no separate worker file.
 * It implements docs/repository-format.md §4 exactly as chunk-codec.ts does;
 * test/chunkstore/codec.test.ts checks that what it writes decodes with
 * decodeChunk.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { StoreKey } from './keys.js';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { crc32 } = require('node:zlib');
const { compress, decompress } = require(workerData.zstdPath);
const MAGIC = Buffer.from('RMPCHNK1', 'ascii');
const held = new Map();
// Same rule as worthCompressing in chunk-codec.ts.
function worthCompressing(plain) {
  if (plain.length < 256 * 1024) return true;
  const samples = [0, (plain.length >> 1) - 8192, plain.length - 16384].map((at) => plain.subarray(at, at + 16384));
  const packed = samples.reduce((n, s) => n + compress(s, { compressionLevel: 1 }).length, 0);
  return packed < 0.97 * 3 * 16384;
}
// Same checks, same order, same words as decodeChunk in chunk-codec.ts (docs §4).
function check(blob, digest, idKey, dataKey, keep) {
  if (blob.length < 20 || !blob.subarray(0, 8).equals(MAGIC)) return 'not a rampart chunk (bad magic)';
  const flags = blob[8];
  if (flags & ~3) return 'unknown flags 0x' + flags.toString(16);
  const plainLength = blob.readUInt32LE(12);
  if (plainLength > 64 * 1024 * 1024) return 'plain length ' + plainLength + ' out of range';
  if (crc32(blob.subarray(20)) !== blob.readUInt32LE(16)) return 'CRC-32 mismatch';
  let payload = blob.subarray(20);
  if (flags & 2) {
    if (!dataKey) return 'PASSWORD';
    if (payload.length < 28) return 'truncated';
    const decipher = crypto.createDecipheriv('aes-256-gcm', dataKey, payload.subarray(0, 12));
    decipher.setAAD(Buffer.concat([digest, Buffer.of(flags)]));
    decipher.setAuthTag(payload.subarray(12, 28));
    try { payload = Buffer.concat([decipher.update(payload.subarray(28)), decipher.final()]); }
    catch { return 'AES-GCM authentication failed (altered, or sealed under another key)'; }
  } else if (dataKey) return 'stored unencrypted in an encrypted restore point';
  let plain = payload;
  if (flags & 1) {
    try { plain = decompress(payload); } catch (err) { return 'zstd cannot decompress it (' + err.message + ')'; }
  }
  if (plain.length !== plainLength) return 'length ' + plain.length + ' instead of ' + plainLength;
  const actual = idKey ? crypto.createHmac('sha256', idKey).update(plain).digest() : crypto.createHash('sha256').update(plain).digest();
  if (!actual.equals(digest)) return 'its content does not match its digest';
  if (keep) keep.plain = plain;
  return undefined;
}
// Files are read on libuv's thread pool while this thread checks the file before
// (a repository on disk: the reads overlap the hashing instead of taking turns
// with it). At most two files per worker are read or held at once (the one being
// checked and the next), so memory stays at two chunk buffers per worker whatever
// the caller queues; buffers are reused (a fresh one per chunk costs page faults and GC).
const spare = [];
async function readWhole(path) {
  const handle = await fs.promises.open(path, 'r');
  try {
    const { size } = await handle.stat();
    let buffer = spare.pop();
    // Rounded up to whole MiB, so a buffer serves the next chunks of that size too.
    if (!buffer || buffer.length < size) buffer = Buffer.allocUnsafe(Math.ceil((size + 1) / 1048576) * 1048576);
    let got = 0;
    for (let n = 1; got < size && n > 0; got += n) n = (await handle.read(buffer, got, size - got, got)).bytesRead;
    return { buffer, blob: buffer.subarray(0, got) };
  } finally {
    await handle.close();
  }
}
const waiting = [];
let underWay = 0;
// Checks run in the order their messages came, each as soon as its file is read.
let checked = Promise.resolve();
function checkFile(m) {
  waiting.push(m);
  startReads();
}
function startReads() {
  while (underWay < 2 && waiting.length > 0) {
    const m = waiting.shift();
    underWay++;
    const reading = readWhole(m.path);
    reading.catch(() => {});
    checked = checked.then(async () => {
      let read;
      try {
        read = await reading;
        parentPort.postMessage({ id: m.id, problem: check(read.blob, Buffer.from(m.digest), m.idKey, m.dataKey), bytes: read.blob.length });
      } catch (err) {
        if (err && err.code === 'ENOENT') parentPort.postMessage({ id: m.id, missing: true });
        else parentPort.postMessage({ id: m.id, error: String((err && err.message) || err) });
      } finally {
        if (read && spare.length < 2) spare.push(read.buffer);
        underWay--;
        startReads();
      }
    });
  }
}
parentPort.on('message', (m) => {
  try {
    if (m.op === 'checkFile') checkFile(m);
    else if (m.op === 'hash') {
      const plain = Buffer.from(m.data, 0, m.length);
      const digest = m.idKey ? crypto.createHmac('sha256', m.idKey).update(plain).digest() : crypto.createHash('sha256').update(plain).digest();
      held.set(m.id, plain);
      parentPort.postMessage({ id: m.id, digest });
    } else if (m.op === 'drop') {
      const plain = held.get(m.id);
      held.delete(m.id);
      parentPort.postMessage({ id: m.id, plain: plain.buffer }, [plain.buffer]);
    } else if (m.op === 'check') {
      const keep = m.open ? {} : undefined;
      const problem = check(Buffer.from(m.blob), Buffer.from(m.digest), m.idKey, m.dataKey, keep);
      if (keep && keep.plain) {
        // A fresh copy the main thread may own whole (the plain bytes may be a view of a larger buffer).
        const plain = Buffer.allocUnsafeSlow(keep.plain.length);
        keep.plain.copy(plain);
        parentPort.postMessage({ id: m.id, plain: plain.buffer }, [plain.buffer]);
      } else parentPort.postMessage({ id: m.id, problem });
    } else if (m.op === 'seal') {
      const plain = held.get(m.id);
      held.delete(m.id);
      let flags = 0;
      let payload = plain;
      if (m.level > 0 && worthCompressing(plain)) {
        const packed = compress(plain, { compressionLevel: m.level });
        if (packed.length < plain.length) { payload = packed; flags |= 1; }
      }
      if (m.dataKey) flags |= 2;
      // The blob is written into the buffer the main thread lent (it fits: a payload is never longer than the plain chunk).
      const room = m.out && m.out.byteLength >= 48 + payload.length ? Buffer.from(m.out) : Buffer.allocUnsafeSlow(48 + payload.length);
      let length;
      if (m.dataKey) {
        const iv = crypto.randomBytes(12);
        const cipher = crypto.createCipheriv('aes-256-gcm', m.dataKey, iv);
        cipher.setAAD(Buffer.concat([Buffer.from(m.digest), Buffer.of(flags)]));
        const sealed = cipher.update(payload);
        const rest = cipher.final();
        iv.copy(room, 20);
        cipher.getAuthTag().copy(room, 32);
        sealed.copy(room, 48);
        rest.copy(room, 48 + sealed.length);
        length = 48 + sealed.length + rest.length;
      } else {
        payload.copy(room, 20);
        length = 20 + payload.length;
      }
      MAGIC.copy(room, 0);
      room[8] = flags; room[9] = 0; room[10] = 0; room[11] = 0;
      room.writeUInt32LE(plain.length, 12);
      room.writeUInt32LE(crc32(room.subarray(20, length)), 16);
      parentPort.postMessage({ id: m.id, blob: room.buffer, length, plain: plain.buffer }, [room.buffer, plain.buffer]);
    }
  } catch (err) {
    held.delete(m.id);
    parentPort.postMessage({ id: m.id, error: String(err && err.message || err) });
  }
});
`;

interface Answer {
  missing?: boolean;
  bytes?: number;
  digest?: Uint8Array;
  blob?: ArrayBuffer;
  length?: number;
  plain?: ArrayBuffer;
  problem?: string;
}

interface Pending {
  resolve(value: Answer): void;
  reject(err: Error): void;
}

/** A chunk handed to a worker: hashed, waiting for seal() or drop(). */
export interface HeldChunk {
  digest: Buffer;
  /**
   * The stored form (docs §4), written into `room` when it is lent (a buffer
   * of at least plain length + 48 bytes that owns its memory); the plain
   * chunk's buffer comes back too, for reuse.
   */
  seal(level: number, room?: Buffer): Promise<{ blob: Buffer; plain: Buffer }>;
  /** Forgets the chunk (deduplicated); its buffer comes back for reuse. */
  drop(): Promise<Buffer>;
}

/** hash() and check() take their buffer over: it is transferred to a worker and empty afterwards. */
export interface ChunkWorkers {
  hash(plain: Buffer, key: StoreKey | undefined): Promise<HeldChunk>;
  /**
   * Every check of docs §4 on a stored blob: undefined when good, else what is
   * wrong; "PASSWORD" when it is encrypted and no key was given (only the CRC
   * was checked then).
   */
  check(blob: Buffer, digest: Buffer, key: StoreKey | undefined): Promise<string | undefined>;
  /**
   * check() of a blob in a file of this machine, read by the worker itself
   * (verification of a local repository: the bytes never cross threads and
   * each worker reuses one buffer). `missing` when the file is absent.
   */
  checkFile(path: string, digest: Buffer, key: StoreKey | undefined): Promise<{ problem?: string; bytes: number; missing?: boolean }>;
  /** check() that also returns the plain chunk when it is good. */
  open(blob: Buffer, digest: Buffer, key: StoreKey | undefined): Promise<{ plain?: Buffer; problem?: string }>;
  close(): Promise<void>;
}

/** Transferred when the Buffer owns its whole ArrayBuffer (not a slice of Node's pool); otherwise the structured clone copies it. */
const lent = new WeakSet<ArrayBufferLike>();
const ownsBuffer = (b: Buffer) => b.byteOffset === 0 && b.buffer instanceof ArrayBuffer && (b.byteLength === b.buffer.byteLength || lent.has(b.buffer));

/**
 * A buffer of `capacity` bytes that may be moved between threads whole, also
 * when only its start is in use (chunk buffers are reused for shorter chunks).
 */
export function movableBuffer(capacity: number): Buffer {
  const buffer = Buffer.allocUnsafeSlow(capacity);
  lent.add(buffer.buffer);
  return buffer;
}

const movedBack = (buffer: ArrayBuffer, length?: number) => {
  lent.add(buffer);
  return Buffer.from(buffer, 0, length);
};

/** A pool of its own, with what sharing it needs. */
interface ChunkWorkerPool extends ChunkWorkers {
  readonly failed: boolean;
  /** Whether the workers keep the process alive (only while someone uses them). */
  ref(on: boolean): void;
}

/** Starts `threads` workers (default 2: this machine kind's cores). */
export function startChunkWorkers(threads = 2): ChunkWorkerPool {
  const zstdPath = createRequire(import.meta.url).resolve('zstd-napi');
  const pending = new Map<number, Pending>();
  let failure: Error | undefined;
  const workers = Array.from({ length: Math.max(1, threads) }, () => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { zstdPath } });
    worker.on('message', (m: Answer & { id: number; error?: string }) => {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (!p) return;
      if (m.error !== undefined) p.reject(new Error(`chunk worker: ${m.error}`));
      else p.resolve(m);
    });
    worker.on('error', (err) => {
      failure = err;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
    return worker;
  });
  let nextId = 1;
  let turn = 0;
  const call = (worker: Worker, message: Record<string, unknown>, transfer: ArrayBuffer[] = []) =>
    new Promise<Answer>((resolve, reject) => {
      if (failure) return reject(failure);
      pending.set(message.id as number, { resolve, reject });
      worker.postMessage(message, transfer);
    });
  return {
    async hash(plain, key) {
      const worker = workers[turn++ % workers.length]!;
      const id = nextId++;
      const own = ownsBuffer(plain);
      const data = own ? plain.buffer : Uint8Array.prototype.slice.call(plain).buffer;
      const answer = await call(worker, { op: 'hash', id, data, length: plain.length, idKey: key?.idKey }, [data as ArrayBuffer]);
      const digest = Buffer.from(answer.digest!);
      return {
        digest,
        async seal(level, room) {
          const lend = room && ownsBuffer(room) ? room.buffer : undefined;
          const sealed = await call(worker, { op: 'seal', id, digest, level, dataKey: key?.dataKey, out: lend }, lend ? [lend as ArrayBuffer] : []);
          return { blob: movedBack(sealed.blob!, sealed.length), plain: movedBack(sealed.plain!) };
        },
        async drop() {
          return movedBack((await call(worker, { op: 'drop', id })).plain!);
        },
      };
    },
    async check(blob, digest, key) {
      const worker = workers[turn++ % workers.length]!;
      const own = ownsBuffer(blob);
      const answer = await call(
        worker,
        { op: 'check', id: nextId++, blob: own ? blob.buffer : blob, digest, idKey: key?.idKey, dataKey: key?.dataKey },
        own ? [blob.buffer as ArrayBuffer] : [],
      );
      return answer.problem;
    },
    async checkFile(path, digest, key) {
      const worker = workers[turn++ % workers.length]!;
      const answer = await call(worker, { op: 'checkFile', id: nextId++, path, digest, idKey: key?.idKey, dataKey: key?.dataKey });
      return answer.missing ? { missing: true, bytes: 0 } : { problem: answer.problem, bytes: answer.bytes ?? 0 };
    },
    async open(blob, digest, key) {
      const worker = workers[turn++ % workers.length]!;
      const own = ownsBuffer(blob);
      const answer = await call(
        worker,
        { op: 'check', open: true, id: nextId++, blob: own ? blob.buffer : blob, digest, idKey: key?.idKey, dataKey: key?.dataKey },
        own ? [blob.buffer as ArrayBuffer] : [],
      );
      return answer.plain ? { plain: Buffer.from(answer.plain) } : { problem: answer.problem ?? 'unreadable' };
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
    get failed() {
      return failure !== undefined;
    },
    ref(on) {
      for (const w of workers)
        if (on) w.ref();
        else w.unref();
    },
  };
}

/** How long an unused shared pool stays up for the next restore point, verification or restore. */
const SHARED_IDLE_MS = 30_000;
let shared: { pool: ChunkWorkerPool; threads: number; leases: number; timer?: NodeJS.Timeout } | undefined;

/**
 * Workers shared by everything that uses them in this process, for as long as
 * one lease is open and SHARED_IDLE_MS after: starting two workers (an isolate
 * each, zstd loaded) costs tens of milliseconds of CPU, and a small
 * incremental (changed-block tracking, a few chunks) paid that on every
 * restore point. close() ends the lease; chunks it hashed and left undecided
 * are dropped from the workers, so nothing a lease abandoned stays held.
 */
export function leaseChunkWorkers(threads = 2): ChunkWorkers {
  if (!shared || shared.threads !== threads || shared.pool.failed) {
    const old = shared;
    if (old && old.leases === 0) {
      clearTimeout(old.timer);
      void old.pool.close();
    }
    shared = { pool: startChunkWorkers(threads), threads, leases: 0 };
  }
  const entry = shared;
  entry.leases++;
  clearTimeout(entry.timer);
  entry.pool.ref(true);
  const { pool } = entry;
  const undecided = new Set<HeldChunk>();
  let closed = false;
  return {
    async hash(plain, key) {
      const held = await pool.hash(plain, key);
      undecided.add(held);
      return {
        digest: held.digest,
        seal: (level, room) => {
          undecided.delete(held);
          return held.seal(level, room);
        },
        drop: () => {
          undecided.delete(held);
          return held.drop();
        },
      };
    },
    check: (blob, digest, key) => pool.check(blob, digest, key),
    checkFile: (path, digest, key) => pool.checkFile(path, digest, key),
    open: (blob, digest, key) => pool.open(blob, digest, key),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...undecided].map((h) => h.drop()));
      undecided.clear();
      if (--entry.leases > 0) return;
      if (shared !== entry || entry.pool.failed) {
        await entry.pool.close();
        if (shared === entry) shared = undefined;
        return;
      }
      entry.pool.ref(false);
      entry.timer = setTimeout(() => {
        if (shared === entry && entry.leases === 0) {
          shared = undefined;
          void entry.pool.close();
        }
      }, SHARED_IDLE_MS);
      entry.timer.unref();
    },
  };
}
