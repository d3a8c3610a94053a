/**
 * Fixed indexes: docs/repository-format.md §5 (PBS's FixedIndexHeader).
 *
 *   0 magic "RMPFIDX1"  8 uuid(16)  24 ctime i64 LE ms  32 csum SHA-256(digests)
 *   64 size u64 LE  72 chunk size u64 LE  80 reserved(4016)  4096 digests, 32 bytes each
 */
import { createHash, randomBytes } from 'node:crypto';
import { ChunkStoreError } from './errors.js';
import { ZERO_DIGEST } from './chunk-codec.js';

export const INDEX_MAGIC = Buffer.from('RMPFIDX1', 'ascii');
export const INDEX_HEADER_SIZE = 4096;
const DIGEST = 32;

export interface FixedIndex {
  uuid: string;
  ctimeMs: number;
  size: number;
  chunkSize: number;
  /** count × 32 bytes; the all-zero digest marks an all-zero chunk. */
  digests: Buffer;
  /** SHA-256 of `digests`, hex. */
  csum: string;
}

export const chunkCount = (size: number, chunkSize: number) => Math.ceil(size / chunkSize);

export function digestAt(index: FixedIndex, i: number): Buffer {
  return index.digests.subarray(i * DIGEST, (i + 1) * DIGEST);
}

export function isZeroDigest(digest: Buffer): boolean {
  return digest.equals(ZERO_DIGEST);
}

/** Length in bytes of chunk i (the last one may be short). */
export function chunkLength(index: Pick<FixedIndex, 'size' | 'chunkSize'>, i: number): number {
  return Math.min(index.chunkSize, index.size - i * index.chunkSize);
}

export function newIndex(size: number, chunkSize: number): FixedIndex {
  if (!Number.isSafeInteger(size) || size < 0) throw new ChunkStoreError('InvalidArgument', `disk size ${size} is not a byte count`);
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) throw new ChunkStoreError('InvalidArgument', `chunk size ${chunkSize} is not a byte count`);
  return { uuid: randomBytes(16).toString('hex'), ctimeMs: Date.now(), size, chunkSize, digests: Buffer.alloc(chunkCount(size, chunkSize) * DIGEST), csum: '' };
}

export function sealIndex(index: FixedIndex): FixedIndex {
  index.csum = createHash('sha256').update(index.digests).digest('hex');
  return index;
}

export function encodeIndex(index: FixedIndex): Buffer {
  const header = Buffer.alloc(INDEX_HEADER_SIZE);
  INDEX_MAGIC.copy(header, 0);
  Buffer.from(index.uuid, 'hex').copy(header, 8);
  header.writeBigInt64LE(BigInt(index.ctimeMs), 24);
  Buffer.from(sealIndex(index).csum, 'hex').copy(header, 32);
  header.writeBigUInt64LE(BigInt(index.size), 64);
  header.writeBigUInt64LE(BigInt(index.chunkSize), 72);
  return Buffer.concat([header, index.digests]);
}

/** Parses and checks an index file; `what` names it in errors; `expectedCsum` comes from the manifest. */
export function decodeIndex(file: Buffer, what: string, expectedCsum?: string): FixedIndex {
  const bad = (why: string) => new ChunkStoreError('CorruptIndex', `The index ${what} is corrupt: ${why}.`);
  if (file.length < INDEX_HEADER_SIZE || !file.subarray(0, 8).equals(INDEX_MAGIC)) throw bad('not a rampart fixed index (bad magic)');
  const size = Number(file.readBigUInt64LE(64));
  const chunkSize = Number(file.readBigUInt64LE(72));
  if (!Number.isSafeInteger(size) || !Number.isSafeInteger(chunkSize) || chunkSize <= 0) throw bad('size fields out of range');
  const digests = file.subarray(INDEX_HEADER_SIZE);
  if (digests.length !== chunkCount(size, chunkSize) * DIGEST) throw bad(`${digests.length} bytes of digests for ${chunkCount(size, chunkSize)} chunks`);
  const csum = createHash('sha256').update(digests).digest('hex');
  if (csum !== file.subarray(32, 64).toString('hex')) throw bad('checksum mismatch');
  if (expectedCsum !== undefined && csum !== expectedCsum) throw bad('it is not the index its manifest names');
  return { uuid: file.subarray(8, 24).toString('hex'), ctimeMs: Number(file.readBigInt64LE(24)), size, chunkSize, digests: Buffer.from(digests), csum };
}
