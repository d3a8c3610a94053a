import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/server.js';
import { sessionWaiters } from '../support/sessions.js';
import type { PreparedDisk, Vcsim } from '../support/vcsim.js';
import { startVsphereLab, stopVsphereLab } from '../support/vsphere-lab.js';
import { backupJobSpec } from '../support/vsphere-specs.js';

const PATH = '/api/v1/trafficRules';
const MiB = 1024 * 1024;
/** Small enough for a run of a few seconds at the limit, large enough that start-up costs are lost in it. */
const DISK_BYTES = 64 * MiB;
const LIMIT_MIB = 8;

let t: TestServer;
let token: string;
let vcsim: Vcsim;
let disk: PreparedDisk;
let root: string;
let jobId: string;

const { finished } = sessionWaiters(() => ({ t, token }));

/** Runs the job as an active full (the whole disk is read every time) and answers its log records. */
async function runJob(): Promise<{ title: string; description: string; startTime: string; updateTime: string }[]> {
  const start = await t.api.post(`/api/v1/jobs/${jobId}/start`, { token, json: { performActiveFull: true } });
  expect(start.status, start.text).toBe(201);
  const done = await finished(start.body.id);
  const logs = await t.api.get(`/api/v1/sessions/${start.body.id}/logs`, { token });
  expect(done.result.result, JSON.stringify(logs.body.records)).toBe('Success');
  return logs.body.records;
}

const allHours = (on: (hour: number) => boolean) => Array.from({ length: 24 }, (_, h) => (on(h) ? '1' : '0')).join(',');
const week = (hours: string, days = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']) => ({
  days: days.map((day) => ({ day, hours })),
});

const rule = (extra: Record<string, unknown> = {}) => ({
  name: 'Loopback',
  sourceIPStart: '127.0.0.1',
  sourceIPEnd: '127.0.0.1',
  targetIPStart: '127.0.0.0',
  targetIPEnd: '127.255.255.255',
  encryptionEnabled: false,
  throttlingEnabled: true,
  throttlingUnit: 'MbytePerSec',
  throttlingValue: LIMIT_MIB,
  throttlingWindowEnabled: false,
  ...extra,
});

/** Cheap to compress yet unique in every 4 KiB, so each 1 MiB chunk is a new file in the repository. */
function diskContent(size: number): Buffer {
  const content = Buffer.alloc(size, 0x5a);
  for (let offset = 0; offset < size; offset += 4096) content.writeBigUInt64LE(BigInt(offset), offset);
  return content;
}

/** When each chunk file of the repository was written, in order. */
async function chunkTimes(): Promise<number[]> {
  const folder = path.join(root, 'repo', 'rampart', 'chunks');
  const times: number[] = [];
  for (const prefix of await readdir(folder)) {
    for (const name of await readdir(path.join(folder, prefix))) times.push((await stat(path.join(folder, prefix, name))).mtimeMs);
  }
  return times.sort((a, b) => a - b);
}

beforeAll(async () => {
  // Every VM's disk gets the size; only the first gets its content written (the others stay a few bytes long).
  let first = '';
  const lab = await startVsphereLab({
    name: 'traffic',
    diskBytes: DISK_BYTES,
    diskContent: (vm, _key, size) => {
      first ||= vm;
      return vm === first ? diskContent(size) : Buffer.alloc(4096, 1);
    },
    env: { RAMPART_PROBE_TIMEOUT_MS: '5000' },
    repository: { taskLimitEnabled: true, maxTaskCount: 4 },
  });
  ({ vcsim, root, t, token } = lab);
  disk = lab.disks.find((d) => d.vm === first)!;
  const job = await t.api.post('/api/v1/jobs', { token, json: backupJobSpec('Throttled', disk, lab.repositoryId, { description: 'traffic rules test', restorePoints: 3 }) });
  expect(job.status, job.text).toBe(201);
  jobId = job.body.id;
}, 180_000);

afterAll(() => stopVsphereLab({ t, vcsim, root }));

describe('traffic rules', () => {
  it("answers Veeam's defaults in every revision", async () => {
    for (const version of ['1.0-rev1', '1.1-rev0', '1.2-rev1', '1.3-rev0', '1.3-rev2']) {
      const res = await t.api.get(PATH, { token, version });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        useMultipleStreamsPerJob: true,
        uploadStreamsCount: 5,
        trafficRules: [
          {
            id: expect.any(String),
            name: 'Internet',
            sourceIPStart: 'Any',
            sourceIPEnd: '',
            targetIPStart: 'Internet',
            targetIPEnd: '',
            encryptionEnabled: true,
            throttlingEnabled: false,
            throttlingUnit: 'MbitPerSpec',
            throttlingValue: 1,
            throttlingWindowEnabled: false,
          },
        ],
        preferredNetworks: { isEnabled: false, networks: [] },
      });
    }
    expect((await t.api.get(PATH, { token })).body.trafficRules[0].id).toBe((await t.api.get(PATH, { token, version: '1.3-rev2' })).body.trafficRules[0].id);
  });

  it('refuses bad rules with a 400 naming the field, and writes nothing', async () => {
    const before = await t.api.get(PATH, { token });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ trafficRules: [rule({ sourceIPStart: '10.0.0.300' })] }, /trafficRules\[0\]\.sourceIPStart/],
      [{ trafficRules: [rule({ targetIPStart: '10.0.0.9', targetIPEnd: '10.0.0.1' })] }, /trafficRules\[0\]\.targetIPEnd: the end 10\.0\.0\.1 comes before the start/],
      [{ trafficRules: [rule({ sourceIPStart: '10.0.0.1', sourceIPEnd: 'fd00::1' })] }, /trafficRules\[0\]\.sourceIPEnd: .*same address family/],
      [{ trafficRules: [rule({ sourceIPStart: 'Internet', sourceIPEnd: '' })] }, /trafficRules\[0\]\.sourceIPEnd: `Internet` is a target only/],
      [{ trafficRules: [rule({ targetIPStart: 'Any', targetIPEnd: '10.0.0.1' })] }, /trafficRules\[0\]\.targetIPEnd: must be empty/],
      [{ trafficRules: [rule({ throttlingValue: 0 })] }, /throttlingValue/],
      [{ trafficRules: [rule({ throttlingValue: undefined })] }, /trafficRules\[0\]\.throttlingValue: required/],
      [{ trafficRules: [rule({ throttlingUnit: 'GbitPerSec' })] }, /throttlingUnit/],
      [{ trafficRules: [rule({ throttlingUnit: undefined })] }, /trafficRules\[0\]\.throttlingUnit: required/],
      [{ trafficRules: [rule({ throttlingWindowEnabled: true })] }, /trafficRules\[0\]\.throttlingWindowOptions: required/],
      [{ trafficRules: [rule({ throttlingWindowEnabled: true, throttlingWindowOptions: week('1,1,1') })] }, /throttlingWindowOptions\.days\[0\]\.hours: must be 24/],
      [{ trafficRules: [rule({ throttlingWindowOptions: { days: [{ day: 'someday', hours: allHours(() => true) }] } })] }, /days\[0\]\.day: "someday"/],
      [{ trafficRules: [rule({ name: '  ' })] }, /trafficRules\[0\]\.name: must not be empty/],
      [{ trafficRules: [rule(), rule({ name: 'loopback' })] }, /trafficRules\[1\]\.name: another rule/],
      [{ trafficRules: [rule({ name: undefined })] }, /name/],
      [{ uploadStreamsCount: 0 }, /uploadStreamsCount/],
      [{ preferredNetworks: { isEnabled: true, networks: [{ ipAddress: '10.1.0.0', subnetMask: '255.0.255.0' }] } }, /preferredNetworks\.networks\[0\]\.subnetMask/],
      [{ preferredNetworks: { isEnabled: true, networks: [{ ipAddress: '10.1.0.0', subnetMask: '255.255.0.0', cidrNotation: '24' }] } }, /networks\[0\]\.cidrNotation/],
      [{ preferredNetworks: { isEnabled: true, networks: [{ ipAddress: 'ten', cidrNotation: '8' }] } }, /networks\[0\]\.ipAddress/],
    ];
    for (const [override, message] of cases) {
      const res = await t.api.request('PUT', PATH, { token, json: { useMultipleStreamsPerJob: true, ...override } });
      expect(res.status, JSON.stringify(override)).toBe(400);
      expect(res.body.errorCode).toBe('UnexpectedContent');
      expect(res.body.message, JSON.stringify(override)).toMatch(message);
    }
    const missing = await t.api.request('PUT', PATH, { token, json: { uploadStreamsCount: 3 } });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/useMultipleStreamsPerJob/);
    expect((await t.api.get(PATH, { token })).body).toEqual(before.body);
  });

  it("stores rules (201), keeps ids, and answers each revision's spelling of the window days", async () => {
    const window = week(
      allHours((h) => h >= 8 && h < 18),
      ['Monday', 'tuesday', 'WEDNESDAY'],
    );
    const put = await t.api.request('PUT', PATH, {
      token,
      version: '1.3-rev2',
      json: {
        useMultipleStreamsPerJob: false,
        uploadStreamsCount: 3,
        trafficRules: [
          rule({ name: 'Office hours', throttlingWindowEnabled: true, throttlingWindowOptions: window }),
          rule({ name: 'WAN', sourceIPStart: 'any', sourceIPEnd: '', targetIPStart: 'fd00::1', targetIPEnd: 'fd00::ff', throttlingEnabled: false }),
        ],
        preferredNetworks: {
          isEnabled: true,
          networks: [
            { ipAddress: '10.1.0.0', cidrNotation: '16' },
            { ipAddress: '192.168.5.0', subnetMask: '255.255.255.0' },
          ],
        },
      },
    });
    expect(put.status, put.text).toBe(201);
    expect(put.body.trafficRules.map((r: any) => r.name)).toEqual(['Office hours', 'WAN']);
    expect(put.body.trafficRules[1]).toMatchObject({ sourceIPStart: 'Any', targetIPStart: 'fd00::1', targetIPEnd: 'fd00::ff' });
    expect(put.body.trafficRules[0].throttlingWindowOptions.days.map((d: any) => d.day)).toEqual(['Monday', 'Tuesday', 'Wednesday']);
    expect(put.body.preferredNetworks.networks).toEqual([
      { ipAddress: '10.1.0.0', subnetMask: '255.255.0.0', cidrNotation: '16' },
      { ipAddress: '192.168.5.0', subnetMask: '255.255.255.0', cidrNotation: '24' },
    ]);
    const ids = put.body.trafficRules.map((r: any) => r.id);
    expect(ids.every((id: string) => /^[0-9a-f-]{36}$/.test(id))).toBe(true);

    const v11 = await t.api.get(PATH, { token, version: '1.1-rev0' });
    expect(v11.body.trafficRules[0].throttlingWindowOptions.days.map((d: any) => d.day)).toEqual(['monday', 'tuesday', 'wednesday']);
    expect(v11.body).toMatchObject({ useMultipleStreamsPerJob: false, uploadStreamsCount: 3 });
    expect((await t.api.get(PATH, { token, version: '1.3-rev0' })).body.trafficRules[0].throttlingWindowOptions.days[0].day).toBe('monday');
    expect((await t.api.get(PATH, { token, version: '1.3-rev1' })).body.trafficRules[0].throttlingWindowOptions.days[0].day).toBe('Monday');

    // A PUT of the rules it got back keeps their ids; the parts it leaves out keep their values.
    const again = await t.api.request('PUT', PATH, { token, json: { useMultipleStreamsPerJob: true, trafficRules: v11.body.trafficRules } });
    expect(again.status).toBe(201);
    expect(again.body.trafficRules.map((r: any) => r.id)).toEqual(ids);
    expect(again.body.preferredNetworks).toEqual(v11.body.preferredNetworks);
    expect(again.body.uploadStreamsCount).toBe(3);
  });

  it(`limits a backup's reads to a matching rule's ${LIMIT_MIB} MB/s (±10 %) and logs the rule`, async () => {
    const put = await t.api.request('PUT', PATH, { token, json: { useMultipleStreamsPerJob: true, trafficRules: [rule({ name: 'Lab loopback' })] } });
    expect(put.status, put.text).toBe(201);
    const records = await runJob();
    const throttling = records.filter((r) => r.title.startsWith('Throttling'));
    expect(throttling).toHaveLength(1);
    expect(throttling[0]!.title).toMatch(/traffic rule "Lab loopback" limits reading from 127\.0\.0\.1 to 127\.0\.0\.1 to 8 MB\/s/);
    // Measured by the repository's clock: the chunk files (1 MiB each, all new) are written as
    // the bytes come through; first to last spans all but one chunk and no set-up or tail.
    const times = await chunkTimes();
    expect(times.length).toBeGreaterThanOrEqual(DISK_BYTES / MiB);
    const rate = (times.length - 1) / ((times[times.length - 1]! - times[0]!) / 1000);
    expect(rate, `${rate.toFixed(2)} MiB/s`).toBeGreaterThanOrEqual(LIMIT_MIB * 0.9);
    expect(rate, `${rate.toFixed(2)} MiB/s`).toBeLessThanOrEqual(LIMIT_MIB * 1.1);
    // And the disk's own log record, set-up and tail included, never runs ahead of the limit.
    const read = records.find((r) => /^Hard disk 1 \(64 MiB\): /.test(r.title))!;
    expect(read, JSON.stringify(records)).toBeDefined();
    const seconds = (Date.parse(read.updateTime) - Date.parse(read.startTime)) / 1000;
    expect(DISK_BYTES / MiB / seconds).toBeLessThanOrEqual(LIMIT_MIB * 1.1);
  }, 120_000);

  it('does not throttle outside the window nor for a rule whose ranges do not hold both ends', async () => {
    const now = new Date();
    const soon = new Date(now.getTime() + 3_600_000);
    // The window is closed this hour and the next (the run cannot start past them), open the rest of the week.
    const closed = week(allHours((h) => h !== now.getHours() && h !== soon.getHours()));
    const put = await t.api.request('PUT', PATH, {
      token,
      json: {
        useMultipleStreamsPerJob: true,
        trafficRules: [
          rule({ name: 'Closed now', throttlingValue: 1, throttlingWindowEnabled: true, throttlingWindowOptions: closed }),
          rule({ name: 'Other source', sourceIPStart: '10.9.0.0', sourceIPEnd: '10.9.255.255', throttlingValue: 1 }),
          rule({ name: 'Other target', targetIPStart: '::1', targetIPEnd: '::1', throttlingValue: 1 }),
          rule({ name: 'To the Internet', targetIPStart: 'Internet', targetIPEnd: '', throttlingValue: 1 }),
        ],
      },
    });
    expect(put.status, put.text).toBe(201);
    const records = await runJob();
    expect(records.filter((r) => r.title.startsWith('Throttling'))).toEqual([]);
    const read = records.find((r) => /^Hard disk 1 \(64 MiB\): /.test(r.title))!;
    // At 1 MB/s the disk would take over a minute: it went through unthrottled.
    expect(Date.parse(read.updateTime) - Date.parse(read.startTime)).toBeLessThan(30_000);
  }, 120_000);
});
