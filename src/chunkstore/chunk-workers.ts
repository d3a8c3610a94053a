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
const { crc32 } = require('node:zlib');
const { compress } = require(workerData.zstdPath);
const MAGIC = Buffer.from('RMPCHNK1', 'ascii');
const held = new Map();
parentPort.on('message', (m) => {
  try {
    if (m.op === 'hash') {
      const plain = Buffer.from(m.data);
      const digest = m.idKey ? crypto.createHmac('sha256', m.idKey).update(plain).digest() : crypto.createHash('sha256').update(plain).digest();
      held.set(m.id, plain);
      parentPort.postMessage({ id: m.id, digest });
    } else if (m.op === 'drop') {
      held.delete(m.id);
    } else if (m.op === 'seal') {
      const plain = held.get(m.id);
      held.delete(m.id);
      let flags = 0;
      let payload = plain;
      if (m.level > 0) {
        const packed = compress(plain, { compressionLevel: m.level });
        if (packed.length < plain.length) { payload = packed; flags |= 1; }
      }
      let body = payload;
      if (m.dataKey) {
        flags |= 2;
        const iv = crypto.randomBytes(12);
        const cipher = crypto.createCipheriv('aes-256-gcm', m.dataKey, iv);
        cipher.setAAD(Buffer.concat([Buffer.from(m.digest), Buffer.of(flags)]));
        const sealed = Buffer.concat([cipher.update(payload), cipher.final()]);
        body = Buffer.concat([iv, cipher.getAuthTag(), sealed]);
      }
      const blob = Buffer.allocUnsafeSlow(20 + body.length);
      MAGIC.copy(blob, 0);
      blob[8] = flags; blob[9] = 0; blob[10] = 0; blob[11] = 0;
      blob.writeUInt32LE(plain.length, 12);
      blob.writeUInt32LE(crc32(body), 16);
      body.copy(blob, 20);
      parentPort.postMessage({ id: m.id, blob: blob.buffer }, [blob.buffer]);
    }
  } catch (err) {
    held.delete(m.id);
    parentPort.postMessage({ id: m.id, error: String(err && err.message || err) });
  }
});
`;

interface Pending {
  resolve(value: { digest?: Uint8Array; blob?: ArrayBuffer }): void;
  reject(err: Error): void;
}

/** A chunk handed to a worker: hashed, waiting for seal() or drop(). */
export interface HeldChunk {
  digest: Buffer;
  seal(level: number): Promise<Buffer>;
  drop(): void;
}

export interface ChunkWorkers {
  hash(plain: Buffer, key: StoreKey | undefined): Promise<HeldChunk>;
  close(): Promise<void>;
}

/** Starts `threads` workers (default 2: this machine kind's cores). */
export function startChunkWorkers(threads = 2): ChunkWorkers {
  const zstdPath = createRequire(import.meta.url).resolve('zstd-napi');
  const pending = new Map<number, Pending>();
  let failure: Error | undefined;
  const workers = Array.from({ length: Math.max(1, threads) }, () => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { zstdPath } });
    worker.on('message', (m: { id: number; error?: string; digest?: Uint8Array; blob?: ArrayBuffer }) => {
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
    new Promise<{ digest?: Uint8Array; blob?: ArrayBuffer }>((resolve, reject) => {
      if (failure) return reject(failure);
      pending.set(message.id as number, { resolve, reject });
      worker.postMessage(message, transfer);
    });
  return {
    async hash(plain, key) {
      const worker = workers[turn++ % workers.length]!;
      const id = nextId++;
      // Transfer when the buffer owns its whole ArrayBuffer; otherwise the structured clone copies it.
      const own = plain.byteOffset === 0 && plain.byteLength === plain.buffer.byteLength && plain.buffer instanceof ArrayBuffer;
      const data = own ? plain.buffer : plain;
      const answer = await call(worker, { op: 'hash', id, data, idKey: key?.idKey }, own ? [plain.buffer as ArrayBuffer] : []);
      const digest = Buffer.from(answer.digest!);
      return {
        digest,
        async seal(level) {
          const sealed = await call(worker, { op: 'seal', id, digest, level, dataKey: key?.dataKey });
          return Buffer.from(sealed.blob!);
        },
        drop() {
          worker.postMessage({ op: 'drop', id });
        },
      };
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
