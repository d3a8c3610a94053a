import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionWaiters } from '../support/sessions.js';
import { startVsphereLab, stopVsphereLab } from '../support/vsphere-lab.js';
import { backupJobSpec } from '../support/vsphere-specs.js';
import type { TestServer } from '../support/server.js';
import type { PreparedDisk, Vcsim } from '../support/vcsim.js';

/** Job settings acted on: repository task limits (`enableTaskLimit`/`maxTaskCount`) bound concurrent runs; scheduled active fulls. */

const MiB = 1024 * 1024;

let t: TestServer;
let token: string;
let vcsim: Vcsim;
let disks: PreparedDisk[];
let root: string;
let repositoryId: string;

const { finished, logText } = sessionWaiters(() => ({ t, token }));

function spec(name: string, d: PreparedDisk) {
  return backupJobSpec(name, d, repositoryId, { restorePoints: 1 });
}

beforeAll(async () => {
  const lab = await startVsphereLab({ name: 'jobs-limits', diskBytes: 16 * MiB, repository: { enableTaskLimit: true, maxTaskCount: 1 } });
  ({ vcsim, disks, root, t, token, repositoryId } = lab);
}, 120_000);

afterAll(() => stopVsphereLab({ t, vcsim, root }));

describe('task limits', () => {
  it('with one task allowed on the repository, a second run waits for the first to end before it touches a VM', async () => {
    const vms = [...new Map(disks.map((d) => [d.vm, d])).values()].slice(0, 2);
    const jobs = [];
    for (const [i, d] of vms.entries()) {
      const job = await t.api.post('/api/v1/jobs', { token, json: spec(`Limited ${i}`, d) });
      expect(job.status, job.text).toBe(201);
      jobs.push(job.body.id as string);
    }
    const runs = await Promise.all(jobs.map((id) => t.api.post(`/api/v1/jobs/${id}/start`, { token, json: { performActiveFull: false } })));
    const done = await Promise.all(runs.map((r) => finished(r.body.id)));
    expect(done).toHaveLength(2);
    for (const [i, d] of done.entries()) expect(d.result.result, await logText(runs[i]!.body.id)).toBe('Success');
    const logs = await Promise.all(runs.map(async (r) => (await t.api.get(`/api/v1/sessions/${r.body.id}/logs`, { token })).body.records));
    const waited = logs.findIndex((records: { title: string }[]) =>
      records.some((r) => /Waiting for a free task slot on repository "Local" \(1 of 1 task\(s\) in use\)/.test(r.title)),
    );
    expect(waited, JSON.stringify(logs)).toBeGreaterThanOrEqual(0);
    // The slot is given back when the first run's work is over: after its last log line.
    const firstFinished = logs[1 - waited].find((r: { title: string }) => r.title.startsWith('Backup finished')).startTime as string;
    const snapshotAt = logs[waited].find((r: { title: string }) => r.title.startsWith('Creating snapshot')).startTime as string;
    expect(Date.parse(snapshotAt)).toBeGreaterThanOrEqual(Date.parse(firstFinished));
    // The other run never waited.
    expect(logs[1 - waited].some((r: { title: string }) => r.title.startsWith('Waiting'))).toBe(false);
  }, 120_000);
});

describe('scheduled active fulls', () => {
  it('on a scheduled day the first run of each VM is a full; later runs that day are increments', async () => {
    const d = disks[0]!;
    const base = spec('Active fulls', d);
    const job = await t.api.post('/api/v1/jobs', { token, json: base });
    expect(job.status, job.text).toBe(201);
    const run = async () => {
      const start = await t.api.post(`/api/v1/jobs/${job.body.id}/start`, { token, json: { performActiveFull: false } });
      expect((await finished(start.body.id)).result.result, await logText(start.body.id)).toBe('Success');
      return logText(start.body.id);
    };
    await run();
    await run();
    const everyDay = { isEnabled: true, weekly: { isEnabled: true, days: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] } };
    const storage = { ...base.storage, retentionPolicy: { type: 'RestorePoints', quantity: 10 }, advancedSettings: { backupModeType: 'Incremental', activeFulls: everyDay } };
    const edited = await t.api.request('PUT', `/api/v1/jobs/${job.body.id}`, { token, json: { ...base, id: job.body.id, storage } });
    expect(edited.status, edited.text).toBe(200);
    expect(await run()).toMatch(/scheduled active full backup/);
    expect(await run()).not.toMatch(/scheduled active full/);
    const backup = (await t.api.get(`/api/v1/backups?jobIdFilter=${job.body.id}`, { token })).body.data[0];
    const points = (await t.api.get(`/api/v1/restorePoints?backupIdFilter=${backup.id}&orderColumn=CreationTime&orderAsc=true`, { token, version: '1.2-rev1' })).body.data;
    // Retention kept 1 point before the edit: the second run's increment, then the scheduled full and an increment.
    expect(points.map((p: { type: string }) => p.type)).toEqual(['Increment', 'Full', 'Increment']);
  }, 120_000);
});
