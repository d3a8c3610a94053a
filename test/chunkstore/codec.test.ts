import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chunkDigest, decodeChunk, encodeChunk, FLAG_COMPRESSED, FLAG_ENCRYPTED } from '../../src/chunkstore/chunk-codec.js';
import { startChunkWorkers } from '../../src/chunkstore/chunk-workers.js';
import { decodeIndex, encodeIndex, newIndex } from '../../src/chunkstore/fixed-index.js';
import type { StoreKey } from '../../src/chunkstore/keys.js';
import { chooseExtent, ChunkStoreError, type ExtentState } from '../../src/chunkstore/index.js';

const key: StoreKey = { fingerprint: 'f'.repeat(32), dataKey: randomBytes(32), idKey: randomBytes(32) };
const otherKey: StoreKey = { fingerprint: 'e'.repeat(32), dataKey: randomBytes(32), idKey: randomBytes(32) };
const text = Buffer.from('a disk block of text that compresses well. '.repeat(12_000));
const noise = randomBytes(512 * 1024);

describe('chunk codec (docs/repository-format.md §4)', () => {
  it('the worker threads and encodeChunk write the same format: each decodes what the other wrote', async () => {
    const workers = startChunkWorkers(1);
    try {
      for (const k of [undefined, key]) {
        for (const plain of [text, noise, Buffer.from('tiny')]) {
          const held = await workers.hash(Buffer.from(plain), k);
          expect(held.digest.equals(chunkDigest(plain, k))).toBe(true);
          const { blob: fromWorker } = await held.seal(3);
          expect(decodeChunk(fromWorker, held.digest, k, 'chunk').equals(plain)).toBe(true);
          const fromCodec = encodeChunk(plain, held.digest, 3, k);
          expect(fromCodec[8]).toBe(fromWorker[8]);
          // check() and hash() take the buffer over (transferred to the worker): hand them a copy.
          expect(await workers.check(Buffer.from(fromCodec), held.digest, k)).toBeUndefined();
          expect(fromCodec[8]! & FLAG_ENCRYPTED).toBe(k ? FLAG_ENCRYPTED : 0);
          expect(fromCodec[8]! & FLAG_COMPRESSED).toBe(plain === text ? FLAG_COMPRESSED : 0);
          if (plain === text) expect(fromCodec.length).toBeLessThan(plain.length / 10);
        }
      }
    } finally {
      await workers.close();
    }
  });

  it('refuses a flipped payload byte, a flipped flag, another digest and another key, saying which check failed', async () => {
    const workers = startChunkWorkers(1);
    try {
      const digest = chunkDigest(text, key);
      const blob = encodeChunk(text, digest, 3, key);
      const cases: Array<[Buffer, Buffer, StoreKey | undefined, RegExp]> = [];
      const flipped = Buffer.from(blob);
      flipped[flipped.length - 1] ^= 0x80;
      cases.push([flipped, digest, key, /CRC-32 mismatch/]);
      // Flags flipped and the CRC recomputed (a careful attacker): the GCM AAD catches it.
      const flags = Buffer.from(blob);
      flags[8] = FLAG_ENCRYPTED;
      cases.push([flags, digest, key, /AES-GCM authentication failed/]);
      cases.push([blob, chunkDigest(noise, key), key, /AES-GCM authentication failed/]);
      cases.push([blob, digest, otherKey, /AES-GCM authentication failed/]);
      const plainBlob = encodeChunk(text, chunkDigest(text, undefined), 3, undefined);
      cases.push([plainBlob, chunkDigest(noise, undefined), undefined, /does not match its digest/]);
      cases.push([Buffer.from('not a chunk at all, just text'), digest, key, /bad magic/]);
      for (const [b, d, k, why] of cases) {
        const err = (() => {
          try {
            decodeChunk(b, d, k, 'The chunk X');
          } catch (e) {
            return e;
          }
        })();
        expect(err).toBeInstanceOf(ChunkStoreError);
        expect((err as Error).message).toMatch(why);
        expect(await workers.check(Buffer.from(b), d, k)).toMatch(why);
      }
      expect(() => decodeChunk(blob, digest, undefined, 'The chunk X')).toThrow(/no encryption password/);
      expect(await workers.check(Buffer.from(blob), digest, undefined)).toBe('PASSWORD');
    } finally {
      await workers.close();
    }
  });

  it('fixed index: round trip, and any change to header or digests is refused', () => {
    const index = newIndex(10 * 1024 * 1024 + 5, 4 * 1024 * 1024);
    randomBytes(32).copy(index.digests, 0);
    const file = encodeIndex(index);
    expect(file.length).toBe(4096 + 3 * 32);
    const back = decodeIndex(file, 'x', index.csum);
    expect([back.size, back.chunkSize, back.uuid, back.digests.equals(index.digests)]).toEqual([index.size, index.chunkSize, index.uuid, true]);
    const digestFlip = Buffer.from(file);
    digestFlip[4096 + 40] ^= 1;
    expect(() => decodeIndex(digestFlip, 'x')).toThrow(/checksum mismatch/);
    expect(() => decodeIndex(file.subarray(0, file.length - 32), 'x')).toThrow(/digests for 3 chunks/);
    expect(() => decodeIndex(file, 'x', 'ab'.repeat(32))).toThrow(/not the index its manifest names/);
  });
});

describe('scale-out placement (data locality)', () => {
  const extents: ExtentState[] = [
    { id: 'a', freeBytes: 100, acceptsNewChains: true, writable: true },
    { id: 'b', freeBytes: 500, acceptsNewChains: true, writable: true },
    { id: 'sealed', freeBytes: 9000, acceptsNewChains: false, writable: false },
  ];
  it('keeps a chain on its extent, starts new chains on the emptiest usable one, moves a chain only when it must', () => {
    expect(chooseExtent(extents, { holdingChain: ['a'] })).toMatchObject({ extent: { id: 'a' }, newChain: false });
    expect(chooseExtent(extents, { holdingChain: [] })).toMatchObject({ extent: { id: 'b' }, newChain: true });
    expect(chooseExtent(extents, { holdingChain: ['sealed'] })).toMatchObject({ extent: { id: 'b' }, newChain: true });
    expect(chooseExtent(extents, { holdingChain: ['a'], expectedBytes: 200 })).toMatchObject({ extent: { id: 'b' }, newChain: true });
    expect(chooseExtent(extents, { holdingChain: [], expectedBytes: 1000 })).toBeUndefined();
  });
});
