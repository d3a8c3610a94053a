import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLocalFolder } from '../../src/storage/local-folder.js';
import { checkObjectStorage, measureObjectStorage } from '../../src/storage/object-storage.js';
import { StatesRefresher } from '../../src/storage/refresher.js';
import { silentSteps, type StepRunner } from '../../src/storage/steps.js';
import type { ObjectStorageTarget } from '../../src/storage/object-endpoint.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, startBlackHole, startLocalS3, type LocalS3 } from '../support/s3.js';

function recordingSteps(): StepRunner & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    async step(title, work, done) {
      try {
        const v = await work();
        lines.push(`ok ${done ? done(v) : title}`);
        return v;
      } catch (err) {
        lines.push(`failed ${title}: ${(err as Error).message}`);
        throw err;
      }
    },
    async note(title) {
      lines.push(`note ${title}`);
    },
  };
}

describe('local folder checks', () => {
  let root: string;
  beforeAll(async () => (root = await mkdtemp(path.join(tmpdir(), 'rampart-repo-'))));
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('creates a missing folder, proves it writable and leaves no probe file', async () => {
    const folder = path.join(root, 'a', 'b');
    const steps = recordingSteps();
    const f = await checkLocalFolder(folder, steps);
    expect(f.source).toBe('filesystem');
    expect(f.capacityBytes).toBeGreaterThan(0);
    expect(f.freeBytes).toBeGreaterThan(0);
    expect(steps.lines[0]).toContain('created');
    expect(steps.lines[1]).toContain('Wrote, read back and deleted');
    expect(await readdir(folder)).toEqual([]);
  });

  it('refuses a relative path, a file in the way and a read-only folder', async () => {
    await expect(checkLocalFolder('relative/path', silentSteps)).rejects.toThrow(/not absolute/);
    await writeFile(path.join(root, 'file'), 'x');
    await expect(checkLocalFolder(path.join(root, 'file'), silentSteps)).rejects.toThrow(/not a folder/);
  });

  const canMount =
    process.getuid?.() === 0 &&
    (() => {
      try {
        execFileSync('mount', ['--version'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();

  it.runIf(canMount)('a full volume (tmpfs of 64 KiB, filled up) fails the write check saying so', async () => {
    const mnt = await mkdtemp(path.join(tmpdir(), 'rampart-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
    } catch {
      await rm(mnt, { recursive: true, force: true });
      return; // no mount permission in this container: the quota path is covered by the object-storage limit tests
    }
    try {
      // Fill it: write until ENOSPC.
      try {
        for (let i = 0; i < 64; i++) await writeFile(path.join(mnt, `fill-${i}`), Buffer.alloc(4096));
      } catch {
        /* full */
      }
      await expect(checkLocalFolder(mnt, silentSteps)).rejects.toThrow(/no space left on the volume/);
    } finally {
      execFileSync('umount', [mnt]);
      await rm(mnt, { recursive: true, force: true });
    }
  });
});

describe('object storage checks against a local S3 server', () => {
  let s3: LocalS3;
  const target = (over: Partial<ObjectStorageTarget> = {}): ObjectStorageTarget => ({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    bucket: 'plain',
    folder: 'veeam',
    accessKey: S3_ACCESS_KEY,
    secretKey: S3_SECRET_KEY,
    forcePathStyle: true,
    ...over,
  });
  beforeAll(async () => {
    s3 = await startLocalS3(['plain', 'sosapi']);
    await s3.putCapacityXml('sosapi', { capacity: 10 * 1024 ** 4, available: 4 * 1024 ** 4, used: 6 * 1024 ** 4 });
  });
  afterAll(() => s3.stop());

  it('bucket with capacity.xml: capacity, free and used come from the Smart Object Storage API', async () => {
    const steps = recordingSteps();
    const f = await checkObjectStorage(target({ bucket: 'sosapi' }), steps, { timeoutMs: 5000 });
    expect(f).toEqual({ capacityBytes: 10 * 1024 ** 4, freeBytes: 4 * 1024 ** 4, usedBytes: 6 * 1024 ** 4, source: 'sosapi' });
    expect(steps.lines.join('\n')).toMatch(/Folder "veeam" is in place[\s\S]*probe object[\s\S]*Smart Object Storage API/);
  });

  it('without capacity.xml: the consumption limit is the capacity; without one the capacity is unknown', async () => {
    const limited = await checkObjectStorage(target(), silentSteps, { timeoutMs: 5000, consumptionLimit: { count: 2, kind: 'TB' } });
    expect(limited.source).toBe('consumptionLimit');
    expect(limited.capacityBytes).toBe(2 * 1024 ** 4);
    const unknown = await measureObjectStorage(target(), { timeoutMs: 5000 });
    expect(unknown).toMatchObject({ capacityBytes: null, freeBytes: null, source: 'unknown' });
  });

  it('says what to fix: missing bucket, unknown access key, object lock absent', async () => {
    await expect(checkObjectStorage(target({ bucket: 'nope' }), silentSteps, { timeoutMs: 5000 })).rejects.toThrow(/does not exist/);
    // s3rver does not verify V4 signatures, so a wrong secret key is not refused by it (test/support/s3-gateway.ts does:
    // see test/api/repositories-wasabi-google.test.ts); an unknown access key is. HeadBucket's bare 403 is followed by a
    // listing whose answer names the reason.
    await expect(checkObjectStorage(target({ accessKey: 'NOBODY' }), silentSteps, { timeoutMs: 5000 })).rejects.toThrow(/does not know the access key "NOBODY"/);
    // s3rver has no object lock: the refusal path is what can be tested here.
    await expect(checkObjectStorage(target(), silentSteps, { timeoutMs: 5000, immutabilityDays: 30 })).rejects.toThrow(/object lock/);
  });

  it('a service point that stopped answering fails within the timeout', async () => {
    const hole = await startBlackHole();
    try {
      const started = Date.now();
      await expect(checkObjectStorage(target({ endpoint: `http://127.0.0.1:${hole.port}` }), silentSteps, { timeoutMs: 500 })).rejects.toThrow(/did not answer in time/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await hole.stop();
    }
  });
});

describe('states refresher', () => {
  it('bounded concurrency, per-measurement timeout, a dead host is not asked again in the pass', async () => {
    const saved = new Map<string, string>();
    let inFlight = 0;
    let peak = 0;
    let deadCalls = 0;
    const refresher = new StatesRefresher({
      intervalMs: 0,
      concurrency: 4,
      perHostConcurrency: 2,
      timeoutMs: 200,
      targets: async () => [
        ...Array.from({ length: 20 }, (_, i) => ({
          id: `ok-${i}`,
          hostKey: `h${i % 5}`,
          measure: async () => {
            inFlight++;
            peak = Math.max(peak, inFlight);
            await new Promise((r) => setTimeout(r, 10));
            inFlight--;
            return { capacityBytes: 1, freeBytes: 1, usedBytes: 0, source: 'filesystem' as const };
          },
        })),
        ...Array.from({ length: 10 }, (_, i) => ({
          id: `dead-${i}`,
          hostKey: 'dead',
          measure: () => {
            deadCalls++;
            return new Promise<never>(() => undefined);
          },
        })),
      ],
      save: async (o) => void saved.set(o.id, o.error ?? 'ok'),
    });
    const summary = await refresher.refreshAll();
    expect(summary.measured).toBe(20);
    expect(saved.size).toBe(30);
    expect(peak).toBeLessThanOrEqual(4);
    expect(deadCalls).toBeLessThanOrEqual(2);
    expect(saved.get('dead-9')).toMatch(/did not answer|No answer/);
  });
});
