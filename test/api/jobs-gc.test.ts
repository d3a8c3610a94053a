import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localFolderBackend, openChunkStore, verifyRestorePoints } from '../../src/chunkstore/index.js';
import { writeDatastoreFile } from '../../src/vsphere/datastore-files.js';
import { sessionWaiters } from '../support/sessions.js';
import { diskContent, vcsimSession } from '../support/vcsim.js';
import { startVsphereLab, stopVsphereLab, type VsphereLab } from '../support/vsphere-lab.js';
import { backupJobSpec } from '../support/vsphere-specs.js';

/**
 * Retention removes restore points; the chunks only they used must then go too,
 * or a repository grows with every run. The grace window is 0 here (the runs are
 * seconds apart); the default hour is covered by test/chunkstore/maintenance.test.ts.
 */

const MiB = 1024 * 1024;
let lab: VsphereLab;
const { finished, logText } = sessionWaiters(() => lab);

async function chunkFiles(): Promise<string[]> {
  const root = path.join(lab.root, 'repo', 'rampart', 'chunks');
  return (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
}

beforeAll(async () => {
  lab = await startVsphereLab({ name: 'jobs-gc', diskBytes: 4 * MiB, env: { RAMPART_GC_GRACE_SECONDS: '0' } });
}, 120_000);

afterAll(() => stopVsphereLab(lab));

describe('garbage collection after retention', () => {
  it('deletes the chunks of the restore points retention removed, keeps every chunk the kept point needs, and says so in the log', async () => {
    const disk = lab.disks[0]!;
    const job = await lab.t.api.post('/api/v1/jobs', { token: lab.token, json: backupJobSpec('GC', disk, lab.repositoryId, { restorePoints: 1 }) });
    expect(job.status, job.text).toBe(201);
    const run = async () => {
      const start = await lab.t.api.post(`/api/v1/jobs/${job.body.id}/start`, { token: lab.token, json: { performActiveFull: false } });
      expect((await finished(start.body.id)).result.result, await logText(start.body.id)).toBe('Success');
      return logText(start.body.id);
    };

    const first = await run();
    expect(first).not.toMatch(/Removing unreferenced data/);
    const firstChunks = await chunkFiles();
    expect(firstChunks.length).toBeGreaterThan(0);

    // New content in the whole disk: none of the first point's chunks is used by the second.
    const session = await vcsimSession(lab.vcsim);
    try {
      const content = diskContent('jobs-gc/second', disk.capacityInBytes);
      await writeDatastoreFile(session, disk.file, content, content.length);
    } finally {
      await session.logout();
    }
    const second = await run();
    expect(second).toMatch(/Retention \(1 restore point\(s\)\): 1 restore point\(s\) of .* removed/);
    expect(second).toMatch(new RegExp(`Removing unreferenced data: ${firstChunks.length} chunk\\(s\\) deleted, [0-9.]+ [KM]iB freed`));

    const left = await chunkFiles();
    expect(left.filter((name) => firstChunks.includes(name))).toEqual([]);
    // What is left is exactly what the kept point needs, and it is whole.
    const store = await openChunkStore(localFolderBackend(path.join(lab.root, 'repo')));
    const report = await verifyRestorePoints(store);
    expect(report.restorePoints).toBe(1);
    expect(report.badChunks).toEqual([]);
    expect(report.checkedChunks).toBe(left.length);
  }, 180_000);

  it('deleting the backup through the API removes its chunks too', async () => {
    const backup = (await lab.t.api.get('/api/v1/backups', { token: lab.token })).body.data[0];
    const before = await chunkFiles();
    expect(before.length).toBeGreaterThan(0);
    const res = await lab.t.api.request('DELETE', `/api/v1/backups/${backup.id}`, { token: lab.token, version: '1.2-rev1' });
    // 1.2-rev1 documents 200 for this delete (the 1.3 documents 201).
    expect(res.status, res.text).toBe(200);
    expect((await finished(res.body.id)).result.result, await logText(res.body.id)).toBe('Success');
    expect(await logText(res.body.id)).toMatch(new RegExp(`Removing unreferenced data: ${before.length} chunk\\(s\\) deleted`));
    expect(await chunkFiles()).toEqual([]);
  }, 120_000);
});
