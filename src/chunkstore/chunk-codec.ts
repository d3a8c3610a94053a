/**
 * Chunk blobs: docs/repository-format.md §4.
 *
 *   0  magic "RMPCHNK1"   8  flags   9  reserved(3)   12 plain length u32 LE
 *   16 crc32 u32 LE of bytes 20..end   20 [iv 12 | tag 16]   payload (zstd frame or raw, then AES-256-GCM)
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { compress, decompress } from 'zstd-napi';
import { ChunkStoreError } from './errors.js';
import type { StoreKey } from './keys.js';

export const CHUNK_MAGIC = Buffer.from('RMPCHNK1', 'ascii');
export const FLAG_COMPRESSED = 1;
export const FLAG_ENCRYPTED = 2;
const HEADER = 20;
const IV = 12;
const TAG = 16;
/** Largest chunk size the format allows (8 MiB is the largest written). */
export const MAX_PLAIN = 64 * 1024 * 1024;
export const ZERO_DIGEST = Buffer.alloc(32);

/** SHA-256(plain), or HMAC-SHA-256(idKey, plain) when encrypted (so digests reveal nothing). */
export function chunkDigest(plain: Uint8Array, key: StoreKey | undefined): Buffer {
  return key ? createHmac('sha256', key.idKey).update(plain).digest() : createHash('sha256').update(plain).digest();
}

const aad = (digest: Buffer, flags: number) => Buffer.concat([digest, Buffer.of(flags)]);

const SAMPLE = 16 * 1024;

/**
 * Whether zstd is worth running on a chunk: three 16 KiB samples (start,
 * middle, end) at level 1 cost ~1/60 of compressing the chunk; when they do
 * not shrink by 3 %, the chunk is stored raw (random or already compressed
 * data: zstd would spend ~2.5 ms per MiB for nothing). Small chunks are
 * always tried. Only storage efficiency depends on this, never correctness.
 */
export function worthCompressing(plain: Uint8Array): boolean {
  if (plain.length < 256 * 1024) return true;
  const samples = [0, (plain.length >> 1) - SAMPLE / 2, plain.length - SAMPLE].map((at) => plain.subarray(at, at + SAMPLE));
  const packed = samples.reduce((n, s) => n + compress(s, { compressionLevel: 1 }).length, 0);
  return packed < 0.97 * 3 * SAMPLE;
}

/**
 * The stored form of a chunk. `level` 0 stores it raw; otherwise zstd at that
 * level, kept only when smaller (random data stays raw, no inflation).
 */
export function encodeChunk(plain: Uint8Array, digest: Buffer, level: number, key: StoreKey | undefined): Buffer {
  let flags = 0;
  let payload: Uint8Array = plain;
  if (level > 0 && worthCompressing(plain)) {
    const packed = compress(plain, { compressionLevel: level });
    if (packed.length < plain.length) {
      payload = packed;
      flags |= FLAG_COMPRESSED;
    }
  }
  let body: Buffer;
  if (key) {
    flags |= FLAG_ENCRYPTED;
    const iv = randomBytes(IV);
    const cipher = createCipheriv('aes-256-gcm', key.dataKey, iv);
    cipher.setAAD(aad(digest, flags));
    const sealed = Buffer.concat([cipher.update(payload), cipher.final()]);
    body = Buffer.concat([iv, cipher.getAuthTag(), sealed]);
  } else {
    body = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  }
  const header = Buffer.alloc(HEADER);
  CHUNK_MAGIC.copy(header, 0);
  header[8] = flags;
  header.writeUInt32LE(plain.length, 12);
  header.writeUInt32LE(crc32(body), 16);
  return Buffer.concat([header, body]);
}

export interface ChunkCheck {
  /** How the chunk is named in errors: "chunk 3f2a… (disk 2000 at offset 4194304)". */
  what: string;
}

function corrupt(what: string, why: string): ChunkStoreError {
  return new ChunkStoreError('CorruptChunk', `${what} is corrupt: ${why}.`);
}

/** Only the checks that need no key: magic, flags, length, CRC. */
export function checkChunkFrame(blob: Buffer, what: string): { flags: number; plainLength: number } {
  if (blob.length < HEADER || !blob.subarray(0, 8).equals(CHUNK_MAGIC)) throw corrupt(what, 'not a rampart chunk (bad magic)');
  const flags = blob[8]!;
  if (flags & ~(FLAG_COMPRESSED | FLAG_ENCRYPTED)) throw corrupt(what, `unknown flags 0x${flags.toString(16)}`);
  const plainLength = blob.readUInt32LE(12);
  if (plainLength > MAX_PLAIN) throw corrupt(what, `plain length ${plainLength} out of range`);
  if (crc32(blob.subarray(HEADER)) !== blob.readUInt32LE(16)) throw corrupt(what, 'CRC-32 mismatch');
  return { flags, plainLength };
}

/** The plain chunk, after every check of §4: frame, CRC, GCM tag, length, digest. */
export function decodeChunk(blob: Buffer, digest: Buffer, key: StoreKey | undefined, what: string): Buffer {
  const { flags, plainLength } = checkChunkFrame(blob, what);
  let payload = blob.subarray(HEADER);
  if (flags & FLAG_ENCRYPTED) {
    if (!key) throw new ChunkStoreError('PasswordRequired', `${what} is encrypted and no encryption password was given.`);
    if (payload.length < IV + TAG) throw corrupt(what, 'truncated');
    const decipher = createDecipheriv('aes-256-gcm', key.dataKey, payload.subarray(0, IV));
    decipher.setAAD(aad(digest, flags));
    decipher.setAuthTag(payload.subarray(IV, IV + TAG));
    try {
      payload = Buffer.concat([decipher.update(payload.subarray(IV + TAG)), decipher.final()]);
    } catch {
      throw corrupt(what, 'AES-GCM authentication failed (altered, or sealed under another key)');
    }
  } else if (key) {
    throw corrupt(what, 'stored unencrypted in an encrypted restore point');
  }
  let plain: Buffer;
  if (flags & FLAG_COMPRESSED) {
    try {
      plain = decompress(payload);
    } catch (err) {
      throw corrupt(what, `zstd cannot decompress it (${(err as Error).message})`);
    }
  } else plain = payload;
  if (plain.length !== plainLength) throw corrupt(what, `length ${plain.length} instead of ${plainLength}`);
  if (!chunkDigest(plain, key).equals(digest)) throw corrupt(what, 'its content does not match its digest');
  return plain;
}
