import { describe, expect, it } from 'vitest';
import { RuleThrottle, ruleThrottle, throttled, TransferThrottle, type RuleChoice } from '../../src/mover/throttle.js';

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
    const first = ruleThrottle('test-rule', 4 * MiB);
    const second = ruleThrottle('test-rule', 4 * MiB);
    expect(second).not.toBe(first);
    const started = performance.now();
    await Promise.all([drain(throttled(parts(16, 64 * 1024), first)), drain(throttled(parts(16, 64 * 1024), second))]);
    const seconds = (performance.now() - started) / 1000;
    // Together 2 MiB under one 4 MiB/s rule: half a second, not a quarter (as two separate limits would allow).
    expect(seconds).toBeGreaterThanOrEqual(0.45);
    expect(seconds).toBeLessThanOrEqual(2);
  });

  it('catches up time the reader spent elsewhere, never running ahead of the rate since the start', async () => {
    const throttle = new TransferThrottle(4 * MiB);
    const started = performance.now();
    let passed = 0;
    let waited = 0;
    for (let i = 0; i < 8; i++) {
      const before = performance.now();
      await throttle.take(MiB / 4);
      waited += performance.now() - before;
      passed += MiB / 4;
      // Never ahead of the rate (a few ms of timer slack allowed).
      expect(passed / (4 * MiB)).toBeLessThanOrEqual((performance.now() - started) / 1000 + 0.01);
      // The reader is busy for 100 ms after every piece (a slower machine only makes it longer).
      await new Promise((r) => setTimeout(r, 100));
    }
    // 2 MiB at 4 MiB/s is 0.5 s of tokens: a bucket that dropped what accrued while the reader was
    // busy would wait about that long in all; this one waits only for the first piece (~62 ms).
    expect(waited).toBeLessThan(250);
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

  it('follows the rules while a transfer runs: limited when a window opens, free when it closes', async () => {
    const rule: RuleChoice = { ruleId: 'window-rule', bytesPerSecond: 2 * MiB, reason: 'traffic rule "Window"' };
    let open = false;
    const changes: string[] = [];
    const throttle = new RuleThrottle(
      async () => (open ? rule : undefined),
      async (now, before) => {
        changes.push(now ? `on ${now.reason}` : `off ${before?.reason ?? ''}`);
      },
      100,
    );
    let started = performance.now();
    await throttle.take(4 * MiB);
    // Outside the window: no limit, nothing logged.
    expect(performance.now() - started).toBeLessThan(1000);
    open = true;
    await new Promise((r) => setTimeout(r, 120));
    started = performance.now();
    await throttle.take(MiB / 2);
    await throttle.take(MiB / 2);
    // Inside it: 1 MiB at 2 MiB/s, from an empty bucket.
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
    open = false;
    await new Promise((r) => setTimeout(r, 120));
    started = performance.now();
    await throttle.take(4 * MiB);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(changes).toEqual(['on traffic rule "Window"', 'off traffic rule "Window"']);
  });
});
