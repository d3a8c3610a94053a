import { describe, expect, it } from 'vitest';
import { sharedThrottle, throttled, TransferThrottle } from '../../src/mover/throttle.js';

const MiB = 1024 * 1024;

async function drain(stream: AsyncIterable<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const part of stream) bytes += part.length;
  return bytes;
}

async function* parts(count: number, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < count; i++) yield Buffer.alloc(size, i);
}

describe('TransferThrottle', () => {
  it('lets a stream through at its rate (±10 %), large parts included', async () => {
    const throttle = new TransferThrottle(4 * MiB);
    const started = performance.now();
    // 2 MiB in parts larger than the bucket: each waits piece by piece.
    expect(await drain(throttled(parts(4, MiB / 2), throttle))).toBe(2 * MiB);
    const seconds = (performance.now() - started) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(0.45);
    // The upper bound is loose: a busy machine may only be slower, never faster.
    expect(seconds).toBeLessThanOrEqual(2);
  });

  it('shares one rule’s rate between transfers running at once', async () => {
    const throttle = sharedThrottle('test-rule', 4 * MiB);
    expect(sharedThrottle('test-rule', 4 * MiB)).toBe(throttle);
    expect(sharedThrottle('test-rule', 8 * MiB)).not.toBe(throttle);
    const started = performance.now();
    await Promise.all([drain(throttled(parts(16, 64 * 1024), throttle)), drain(throttled(parts(16, 64 * 1024), throttle))]);
    const seconds = (performance.now() - started) / 1000;
    // Together 2 MiB at 4 MiB/s: half a second, not a quarter.
    expect(seconds).toBeGreaterThanOrEqual(0.45);
    expect(seconds).toBeLessThanOrEqual(2);
  });

  it('stops waiting when the transfer is stopped', async () => {
    const throttle = new TransferThrottle(64 * 1024);
    const stop = new AbortController();
    setTimeout(() => stop.abort(new Error('stopped')), 200);
    const started = performance.now();
    await expect(throttle.take(10 * MiB, stop.signal)).rejects.toThrow('stopped');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses a rate of 0', () => {
    expect(() => new TransferThrottle(0)).toThrow(RangeError);
  });
});
