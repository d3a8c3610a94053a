import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyRetention,
  beginRestorePoint,
  flagRestorePoint,
  gfsKeptUntil,
  gfsPeriodStart,
  gfsPeriodsFor,
  listRestorePoints,
  localFolderBackend,
  openChunkStore,
  readGfsPeriods,
  type ChunkStore,
  type GfsPolicy,
} from '../../src/chunkstore/index.js';
import { bufferSource, diskImage, KiB, tempFolder } from './helpers.js';

// Local-time dates throughout: GFS periods are in the server's local time, whatever TZ the test runs in.
const day = (month: number, date: number, hours = 22) => new Date(2026, month, date, hours, 0, 0);

describe('GFS periods (local time)', () => {
  const policy: GfsPolicy = {
    isEnabled: true,
    weekly: { isEnabled: true, keepForNumberOfWeeks: 2, desiredTime: 'sunday' },
    monthly: { isEnabled: true, keepForNumberOfMonths: 1, desiredTime: 'Last' },
    yearly: { isEnabled: true, keepForNumberOfYears: 3, desiredTime: 'March' },
  };

  it('a week starts on the desired day, a month in its desired week, a year on the 1st of its month', () => {
    expect(gfsPeriodStart('Weekly', policy, day(0, 7))).toEqual(new Date(2026, 0, 4)); // Wednesday → the Sunday before
    expect(gfsPeriodStart('Weekly', policy, day(0, 4, 0))).toEqual(new Date(2026, 0, 4));
    expect(gfsPeriodStart('Monthly', policy, day(1, 23))).toEqual(new Date(2026, 1, 22)); // February 2026 has 28 days: its last week starts on the 22nd
    expect(gfsPeriodStart('Monthly', policy, day(1, 10))).toEqual(new Date(2026, 0, 25)); // before it: January's last week still runs
    expect(gfsPeriodStart('Monthly', { ...policy, monthly: { isEnabled: true, desiredTime: 'Second' } }, day(0, 8))).toEqual(new Date(2026, 0, 8));
    expect(gfsPeriodStart('Yearly', policy, day(1, 10))).toEqual(new Date(2025, 2, 1));
    expect(gfsPeriodStart('Yearly', policy, day(2, 1, 0))).toEqual(new Date(2026, 2, 1));
  });

  it('the first point of a period takes its flag; a flag is held for its keep time from the point’s creation', () => {
    expect(gfsPeriodsFor(policy, day(0, 4), [])).toEqual(['Weekly', 'Monthly', 'Yearly']);
    const chain = [{ createdAt: day(0, 4).toISOString(), periods: ['Weekly' as const, 'Monthly' as const, 'Yearly' as const] }];
    expect(gfsPeriodsFor(policy, day(0, 6), chain)).toEqual([]);
    expect(gfsPeriodsFor(policy, day(0, 11), chain)).toEqual(['Weekly']);
    expect(gfsPeriodsFor(policy, day(0, 25), chain)).toEqual(['Weekly', 'Monthly']);
    expect(gfsPeriodsFor({ ...policy, isEnabled: false }, day(0, 4), [])).toEqual([]);
    expect(gfsKeptUntil(policy, { createdAt: day(0, 4).toISOString(), periods: ['Weekly'] })).toEqual(day(0, 18));
    expect(gfsKeptUntil(policy, { createdAt: day(0, 4).toISOString(), periods: ['Weekly', 'Monthly'] })).toEqual(day(1, 4));
    expect(gfsKeptUntil(policy, { createdAt: day(0, 4).toISOString(), periods: ['Yearly'] })).toEqual(new Date(2029, 0, 4, 22));
    // A period whose keeping was turned off since no longer holds the point.
    expect(gfsKeptUntil({ ...policy, yearly: { isEnabled: false } }, { createdAt: day(0, 4).toISOString(), periods: ['Yearly'] })).toBeUndefined();
  });
});

describe('retention with GFS on real restore points', () => {
  let folder: { dir: string; remove(): Promise<void> };
  let store: ChunkStore;
  beforeAll(async () => {
    folder = await tempFolder('gfs');
    store = await openChunkStore(localFolderBackend(folder.dir), { create: true });
  });
  afterAll(() => folder.remove());

  it('a daily job keeping 3 points also keeps its weekly and monthly points until their time is up', async () => {
    const policy: GfsPolicy = {
      isEnabled: true,
      weekly: { isEnabled: true, keepForNumberOfWeeks: 2, desiredTime: 'sunday' },
      monthly: { isEnabled: true, keepForNumberOfMonths: 1, desiredTime: 'First' },
    };
    const chain = { backupId: 'bk', objectId: 'vm-1' };
    const image = diskImage(256 * KiB, 64 * KiB);
    const flags: Record<number, string[]> = {};
    // One run a day at 22:00 from Thursday 1 to Wednesday 21 January 2026, each followed by retention as a job run does it.
    for (let date = 1; date <= 21; date++) {
      const ref = { ...chain, restorePointId: `rp-${String(date).padStart(2, '0')}` };
      const w = await beginRestorePoint(store, { ...ref, compressionLevel: 1, createdAt: day(0, date) });
      await w.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: 64 * KiB }, bufferSource(image));
      await w.commit();
      flags[date] = await flagRestorePoint(store, ref, policy);
      await applyRetention(store, chain, { keepRestorePoints: 3, gfs: policy, now: day(0, date, 23) });
    }
    // 1 January opens the week of Sunday 28 December and January's first week; then each Sunday opens a week.
    expect(flags[1]).toEqual(['Weekly', 'Monthly']);
    expect(flags[2]).toEqual([]);
    expect(flags[4]).toEqual(['Weekly']);
    expect(flags[11]).toEqual(['Weekly']);
    expect(flags[18]).toEqual(['Weekly']);
    expect(flags[21]).toEqual([]);
    expect(await readGfsPeriods(store, { ...chain, restorePointId: 'rp-11' })).toEqual(['Weekly']);
    // Left: the monthly point (until 1 February), the weekly points of 11 and 18 January (2 weeks), the newest 3.
    // The weekly point of 4 January went when its 2 weeks ended (18 January, 22:00).
    const left = (await listRestorePoints(store, { within: chain })).map((p) => p.restorePointId);
    expect(left).toEqual(['rp-01', 'rp-11', 'rp-18', 'rp-19', 'rp-20', 'rp-21']);

    // Without GFS the same rule keeps only the newest 3.
    const result = await applyRetention(store, chain, { keepRestorePoints: 3, now: day(0, 21, 23) });
    expect(result.deleted.map((p) => p.restorePointId)).toEqual(['rp-18', 'rp-11', 'rp-01']);
  });
});
