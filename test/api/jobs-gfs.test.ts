import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionWaiters } from '../support/sessions.js';
import { startVsphereLab, stopVsphereLab } from '../support/vsphere-lab.js';
import { backupJobSpec } from '../support/vsphere-specs.js';
import type { TestServer } from '../support/server.js';
import type { PreparedDisk, Vcsim } from '../support/vcsim.js';

/** Long-term (GFS) retention acted on by job runs, through the API. */

const MiB = 1024 * 1024;

let t: TestServer;
let token: string;
let vcsim: Vcsim;
let disks: PreparedDisk[];
let root: string;
let repositoryId: string;

const { finished, logText } = sessionWaiters(() => ({ t, token }));

function spec(name: string, d: PreparedDisk, gfsPolicy: unknown) {
  return backupJobSpec(name, d, repositoryId, { restorePoints: 1, storage: { gfsPolicy } });
}

beforeAll(async () => {
  const lab = await startVsphereLab({ name: 'jobs-gfs', diskBytes: 4 * MiB });
  ({ vcsim, disks, root, t, token, repositoryId } = lab);
}, 120_000);

afterAll(() => stopVsphereLab({ t, vcsim, root }));

describe('GFS retention in job runs', () => {
  it('a bad GFS policy is a 400 naming the field', async () => {
    const d = disks[0]!;
    const bad = await t.api.post('/api/v1/jobs', {
      token,
      json: spec('Bad GFS', d, { isEnabled: true, weekly: { isEnabled: true, keepForNumberOfWeeks: 2, desiredTime: 'funday' } }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('storage.gfsPolicy.weekly.desiredTime');
    const noKeep = await t.api.post('/api/v1/jobs', { token, json: spec('Bad GFS', d, { isEnabled: 'true', monthly: { isEnabled: 'true' } }) });
    expect(noKeep.status).toBe(400);
    expect(noKeep.body.message).toContain('storage.gfsPolicy.monthly.keepForNumberOfMonths');
  });

  it('the first point of the week is flagged Weekly and survives the short-term retention (1 point) that removes the others', async () => {
    const d = disks[0]!;
    const gfs = { isEnabled: 'true', weekly: { isEnabled: 'true', keepForNumberOfWeeks: '2', desiredTime: 'Sunday' } };
    const job = await t.api.post('/api/v1/jobs', { token, json: spec('Weekly', d, gfs) });
    expect(job.status, job.text).toBe(201);
    expect(job.body.storage.gfsPolicy).toEqual({ isEnabled: true, weekly: { isEnabled: true, keepForNumberOfWeeks: 2, desiredTime: 'sunday' } });
    const runs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const start = await t.api.post(`/api/v1/jobs/${job.body.id}/start`, { token, json: { performActiveFull: false } });
      expect((await finished(start.body.id)).result.result, await logText(start.body.id)).toBe('Success');
      runs.push(start.body.id);
    }
    expect(await logText(runs[0]!)).toMatch(/GFS: restore point of .* flagged Weekly/);
    expect(await logText(runs[1]!)).not.toMatch(/flagged/);
    expect(await logText(runs[2]!)).toMatch(/Retention \(1 restore point\(s\)\): 1 restore point\(s\) of .* removed; 1 kept by GFS flags/);
    const backup = (await t.api.get(`/api/v1/backups?jobIdFilter=${job.body.id}`, { token })).body.data[0];
    const points = (await t.api.get(`/api/v1/restorePoints?backupIdFilter=${backup.id}`, { token, version: '1.2-rev1' })).body.data;
    // The weekly point (made by the first run) and the newest one.
    expect(points.map((p: { sessionId: string }) => p.sessionId).sort()).toEqual([runs[0], runs[2]].sort());
    // The flag is in the repository, beside the manifest: a rescan after a lost database keeps it.
    const flagFiles = (await readdir(path.join(root, 'repo', 'rampart', 'backups'), { recursive: true })).map(String).filter((f) => f.endsWith('gfs.json'));
    expect(flagFiles).toHaveLength(1);
  }, 120_000);
});
