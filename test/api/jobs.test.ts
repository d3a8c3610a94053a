import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/server.js';
import { exportFrom, importInto } from './automation-support.js';
import { forgetCatalogue, rescanRepository } from '../support/repositories.js';
import { sessionWaiters } from '../support/sessions.js';
import { startVsphereLab, stopVsphereLab } from '../support/vsphere-lab.js';
import { NO_GUEST_CREDENTIALS } from '../support/vsphere-specs.js';
import { vcsimSession, type PreparedDisk, type Vcsim } from '../support/vcsim.js';
import { localFolderBackend, openChunkStore, openDisk, readRestorePoint } from '../../src/chunkstore/index.js';
import { writeDatastoreFile } from '../../src/vsphere/datastore-files.js';

const MiB = 1024 * 1024;

let t: TestServer;
let token: string;
let vcsim: Vcsim;
let disks: PreparedDisk[];
let root: string;
let repositoryId: string;
let passwordId: string;

const { finished, logText } = sessionWaiters(() => ({ t, token }));

/** What the Ansible module posts: booleans as strings, credsId zeros, no advancedSettings. */
function ansibleSpec(name: string, includes: unknown[], extra: Record<string, unknown> = {}) {
  return {
    name,
    description: 'Created by a test',
    type: 'Backup',
    isHighPriority: 'false',
    virtualMachines: { includes },
    storage: {
      backupRepositoryId: repositoryId,
      backupProxies: { autoSelection: 'true' },
      retentionPolicy: { type: 'RestorePoints', quantity: 7 },
    },
    guestProcessing: {
      appAwareProcessing: { isEnabled: 'false' },
      guestFSIndexing: { isEnabled: 'false' },
      ...NO_GUEST_CREDENTIALS,
    },
    schedule: { runAutomatically: 'false' },
    ...extra,
  };
}

const vmObject = (d: PreparedDisk) => ({ hostName: '127.0.0.1', name: d.vm, type: 'VirtualMachine', objectId: d.vmRef.value });

beforeAll(async () => {
  ({ t, token, vcsim, disks, root, repositoryId } = await startVsphereLab({
    name: 'jobs',
    diskBytes: 8 * MiB,
    vcsim: { cbt: true },
    env: { RAMPART_PROBE_TIMEOUT_MS: '5000' },
    repository: { taskLimitEnabled: true, maxTaskCount: 4 },
  }));
  const pw = await t.api.post('/api/v1/encryptionPasswords', { token, json: { password: 'Job-Secret-1', hint: 'job key' } });
  expect(pw.status, pw.text).toBe(201);
  passwordId = pw.body.id;
}, 120_000);

afterAll(() => stopVsphereLab({ t, vcsim, root }));

describe('jobs', () => {
  let jobId: string;

  it('creates a job from string booleans (201) and answers in each revision’s shape', async () => {
    const res = await t.api.post('/api/v1/jobs', { token, json: ansibleSpec('Nightly', [vmObject(disks[0]!)]), version: '1.1-rev0' });
    expect(res.status, res.text).toBe(201);
    jobId = res.body.id;
    expect(res.body).toMatchObject({ name: 'Nightly', type: 'Backup', isDisabled: false, isHighPriority: false });
    expect(res.body.virtualMachines.includes[0]).toEqual({ inventoryObject: vmObject(disks[0]!) });
    expect(res.body.storage.backupProxies).toEqual({ autoSelection: true, proxyIds: [] });
    expect(JSON.stringify(res.body)).not.toContain('null');

    const v12 = await t.api.get(`/api/v1/jobs/${jobId}`, { token, version: '1.2-rev1' });
    expect(v12.body.virtualMachines.includes[0]).toEqual({ platform: 'VMware', ...vmObject(disks[0]!) });
    expect(v12.body.storage.backupProxies).toEqual({ autoSelectEnabled: true, proxyIds: [] });
    expect(v12.body.guestProcessing.guestCredentials).toEqual({ credentialsId: '00000000-0000-0000-0000-000000000000', credentialsType: 'Standard' });

    const list = await t.api.get('/api/v1/jobs?nameFilter=night*', { token });
    expect(list.body.pagination).toMatchObject({ total: 1, count: 1 });
  });

  it('refuses every unknown reference with a 400 naming the field, and stores nothing', async () => {
    const missing = '11111111-2222-3333-4444-555555555555';
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ storage: { backupRepositoryId: missing, backupProxies: { autoSelection: true }, retentionPolicy: { type: 'Days', quantity: 3 } } }, /storage\.backupRepositoryId/],
      [
        { storage: { backupRepositoryId: repositoryId, backupProxies: { autoSelection: false, proxyIds: [missing] }, retentionPolicy: { type: 'Days', quantity: 3 } } },
        /proxyIds\[0\]/,
      ],
      [
        {
          storage: {
            backupRepositoryId: repositoryId,
            backupProxies: { autoSelection: true },
            retentionPolicy: { type: 'Days', quantity: 3 },
            advancedSettings: { backupModeType: 'Incremental', storageData: { encryption: { isEnabled: true, encryptionPasswordIdOrNull: missing } } },
          },
        },
        /encryptionPasswordIdOrNull/,
      ],
      [{ virtualMachines: { includes: [{ hostName: '127.0.0.1', name: 'ghost', type: 'VirtualMachine', objectId: 'vm-99999' }] } }, /virtualMachines\.includes\[0\].*ghost/],
      [{ virtualMachines: { includes: [{ hostName: 'vc.unknown', name: 'x', type: 'VirtualMachine' }] } }, /includes\[0\]\.hostName/],
      [{ isHighPriority: 'maybe' }, /isHighPriority/],
      [{ schedule: { runAutomatically: true, daily: { isEnabled: true, localTime: '25:00' } } }, /schedule\.daily\.localTime/],
    ];
    for (const [override, message] of cases) {
      const res = await t.api.post('/api/v1/jobs', { token, json: { ...ansibleSpec('Bad', [vmObject(disks[0]!)]), ...override } });
      expect(res.status, JSON.stringify(override)).toBe(400);
      expect(res.body.errorCode).toBe('UnexpectedContent');
      expect(res.body.message).toMatch(message);
    }
    const list = await t.api.get('/api/v1/jobs', { token });
    expect(list.body.data.map((j: any) => j.name)).toEqual(['Nightly']);
  });

  it('runs a full backup: session Job (BackupJob under 1.2), restore points with disks, bytes read back equal the VM disk', async () => {
    const start = await t.api.post(`/api/v1/jobs/${jobId}/start`, { token, json: { performActiveFull: 'false' }, version: '1.2-rev1' });
    expect(start.status, start.text).toBe(201);
    expect(start.body.sessionType).toBe('BackupJob');
    const done = await finished(start.body.id);
    const log = await logText(start.body.id);
    expect(done.result.result, log).toBe('Success');
    expect(done.sessionType).toBe('Job');
    expect(log).toMatch(/Creating snapshot/);
    expect(log).toMatch(/Hard disk 1 \(8 MiB\): \d+ new chunk\(s\), [\d.]+ (KiB|MiB) stored/);
    expect(log).toMatch(/Removing snapshot/);

    const backups = await t.api.get(`/api/v1/backups?jobIdFilter=${jobId}`, { token });
    expect(backups.body.data).toHaveLength(1);
    expect(backups.body.data[0]).toMatchObject({ jobId, name: 'Nightly', platformName: 'VMware', repositoryId, type: 'Backup' });
    const backupId = backups.body.data[0].id;
    const objects = await t.api.get(`/api/v1/backups/${backupId}/objects`, { token });
    expect(objects.body.data[0]).toMatchObject({ name: disks[0]!.vm, objectId: disks[0]!.vmRef.value, platformName: 'VMware', restorePointsCount: 1, viType: 'VirtualMachine' });

    // 1.1: /objectRestorePoints with both spellings of the platform; /restorePoints is not there.
    const old = await t.api.get(`/api/v1/objectRestorePoints?backupIdFilter=${backupId}`, { token, version: '1.1-rev0' });
    expect(old.status).toBe(200);
    expect(old.body.data[0]).toMatchObject({ name: disks[0]!.vm, platformName: 'VMware', paltformName: 'VMware', backupId, allowedOperations: [] });
    expect((await t.api.get('/api/v1/restorePoints', { token, version: '1.1-rev0' })).status).toBe(404);
    // 1.2: /restorePoints, one spelling, type and session; /objectRestorePoints is not there.
    const renamed = await t.api.get(`/api/v1/restorePoints?backupIdFilter=${backupId}`, { token, version: '1.2-rev1' });
    expect(renamed.body.data[0]).toMatchObject({ type: 'Full', sessionId: start.body.id });
    expect(renamed.body.data[0].paltformName).toBeUndefined();
    expect((await t.api.get('/api/v1/objectRestorePoints', { token, version: '1.2-rev1' })).status).toBe(404);

    const pointId = old.body.data[0].id;
    const diskList = await t.api.get(`/api/v1/objectRestorePoints/${pointId}/disks`, { token, version: '1.1-rev0' });
    expect(diskList.body.data).toEqual([{ uid: expect.any(String), type: 'Vi', name: 'Hard disk 1', capacity: 8 * MiB, state: 'Processed' }]);

    const store = await openChunkStore(localFolderBackend(path.join(root, 'repo')));
    const rp = await readRestorePoint(store, { backupId, objectId: disks[0]!.vmRef.value, restorePointId: pointId });
    const reader = await openDisk(store, rp, rp.manifest.disks[0]!.key);
    expect(Buffer.from(await reader.read(0, 8 * MiB)).equals(disks[0]!.content)).toBe(true);

    // No snapshot is left on the VM.
    const session = await vcsimSession(vcsim);
    try {
      const { retrieveObject } = await import('../../src/vsphere/property-collector.js');
      const vm = await retrieveObject(session, disks[0]!.vmRef, ['snapshot']);
      expect(vm?.props.get('snapshot')).toBeUndefined();
    } finally {
      await session.logout();
    }
  }, 120_000);

  it('an incremental after changing one block stores little and reads back the new bytes', async () => {
    const changed = Buffer.from(disks[0]!.content);
    changed.fill(0x5a, 3 * MiB, 3 * MiB + 4096);
    const session = await vcsimSession(vcsim);
    try {
      await writeDatastoreFile(session, disks[0]!.file, changed, changed.length);
    } finally {
      await session.logout();
    }
    const start = await t.api.post(`/api/v1/jobs/${jobId}/start`, { token, json: { performActiveFull: false } });
    const done = await finished(start.body.id);
    expect(done.result.result, await logText(start.body.id)).toBe('Success');
    const points = await t.api.get('/api/v1/objectRestorePoints?orderColumn=CreationTime&orderAsc=false', { token });
    expect(points.body.pagination.total).toBe(2);
    const newest = points.body.data[0];
    const disk = await t.server.store.db.selectFrom('restore_point_disks').selectAll().where('restore_point_id', '=', newest.id).executeTakeFirstOrThrow();
    const stats = JSON.parse(disk.stats);
    // One 1 MiB chunk (LocalTarget) holds the changed block; changed-block tracking named the area, nothing else was read.
    expect(stats.newChunks).toBe(1);
    expect(stats.bytesStored).toBeLessThan(1.1 * MiB);
    expect(stats.bytesRead).toBeLessThan(8 * MiB);
    expect(await logText(start.body.id)).toMatch(/changed-block tracking/);
    const store = await openChunkStore(localFolderBackend(path.join(root, 'repo')));
    const rp = await readRestorePoint(store, { backupId: newest.backupId, objectId: disks[0]!.vmRef.value, restorePointId: newest.id });
    expect(rp.manifest.kind).toBe('Increment');
    const reader = await openDisk(store, rp, rp.manifest.disks[0]!.key);
    expect(Buffer.from(await reader.read(0, 8 * MiB)).equals(changed)).toBe(true);
  }, 120_000);

  it('reports states with filters; disable hides nextRun and refuses a start; enable brings it back', async () => {
    const spec = ansibleSpec('Scheduled', [vmObject(disks[1]!)], { schedule: { runAutomatically: true, daily: { isEnabled: true, localTime: '22:00', dailyKind: 'Everyday' } } });
    const created = await t.api.post('/api/v1/jobs', { token, json: spec });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id;
    const states = await t.api.get('/api/v1/jobs/states?orderColumn=Name', { token });
    expect(states.body.pagination.total).toBe(2);
    const nightly = states.body.data.find((s: any) => s.id === jobId);
    expect(nightly).toMatchObject({ status: 'inactive', lastResult: 'Success', workload: 'vm', repositoryId, repositoryName: 'Local', objectsCount: 1 });
    expect(nightly.nextRun).toBeUndefined();
    const scheduled = states.body.data.find((s: any) => s.id === id);
    expect(new Date(scheduled.nextRun).getHours()).toBe(22);
    expect((await t.api.get('/api/v1/jobs/states?lastResultFilter=Success', { token })).body.data.map((s: any) => s.id)).toEqual([jobId]);
    expect((await t.api.get('/api/v1/jobs/states?statusFilter=running', { token })).body.pagination.total).toBe(0);

    expect((await t.api.post(`/api/v1/jobs/${id}/disable`, { token })).status).toBe(200);
    const disabled = (await t.api.get(`/api/v1/jobs/states?idFilter=${id}`, { token })).body.data[0];
    expect(disabled.status).toBe('disabled');
    expect(disabled.nextRun).toBeUndefined();
    expect((await t.api.get(`/api/v1/jobs/${id}`, { token })).body.isDisabled).toBe(true);
    expect((await t.api.post(`/api/v1/jobs/${id}/start`, { token, json: { performActiveFull: false } })).status).toBe(400);
    await t.api.post(`/api/v1/jobs/${id}/enable`, { token });
    expect((await t.api.get(`/api/v1/jobs/states?idFilter=${id}`, { token })).body.data[0].nextRun).toBeDefined();
  });

  it('answers 1.3-rev1 and 1.3-rev2 readers with their capitalised job enums, and 204 for enable/disable', async () => {
    const spec = ansibleSpec('Weekly shapes', [vmObject(disks[1]!)], {
      schedule: { runAutomatically: false, daily: { isEnabled: true, localTime: '21:00', dailyKind: 'SelectedDays', days: ['monday', 'friday'] } },
    });
    const created = await t.api.post('/api/v1/jobs', { token, json: spec, version: '1.2-rev1' });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id;
    try {
      expect(created.body.schedule.daily.days).toEqual(['monday', 'friday']);
      for (const version of ['1.3-rev1', '1.3-rev2']) {
        const job = await t.api.get(`/api/v1/jobs/${id}`, { token, version });
        expect(job.status, job.text).toBe(200);
        expect(job.body.schedule.daily.days).toEqual(['Monday', 'Friday']);
        expect(job.body.type).toBe('VSphereBackup');
        const state = (await t.api.get(`/api/v1/jobs/states?idFilter=${id}`, { token, version })).body.data[0];
        expect(state).toMatchObject({ type: 'VSphereBackup', status: 'Inactive', workload: 'Vm' });
        expect((await t.api.get(`/api/v1/jobs?typeFilter=VSphereBackup&nameFilter=Weekly*`, { token, version })).body.pagination.total).toBe(1);
        expect((await t.api.get(`/api/v1/jobs/states?idFilter=${id}&statusFilter=Inactive`, { token, version })).body.pagination.total).toBe(1);
        const disabled = await t.api.post(`/api/v1/jobs/${id}/disable`, { token, version });
        expect(disabled.status).toBe(204);
        expect(disabled.text).toBe('');
        expect((await t.api.get(`/api/v1/jobs/states?idFilter=${id}`, { token, version })).body.data[0].status).toBe('Disabled');
        expect((await t.api.post(`/api/v1/jobs/${id}/enable`, { token, version })).status).toBe(204);
      }
      // Earlier readers keep the lower-camel spelling, and 200 for enable/disable.
      expect((await t.api.get(`/api/v1/jobs/${id}`, { token, version: '1.3-rev0' })).body.schedule.daily.days).toEqual(['monday', 'friday']);
      expect((await t.api.get(`/api/v1/jobs/states?idFilter=${id}`, { token, version: '1.3-rev0' })).body.data[0].status).toBe('inactive');
      expect((await t.api.post(`/api/v1/jobs/${id}/disable`, { token, version: '1.3-rev0' })).status).toBe(200);
    } finally {
      expect((await t.api.request('DELETE', `/api/v1/jobs/${id}`, { token })).status).toBe(204);
    }
  });

  it('fires a due job exactly once when several schedulers tick together, and skips disabled jobs', async () => {
    const spec = ansibleSpec('Periodic', [vmObject(disks[1]!)], {
      schedule: { runAutomatically: true, periodically: { isEnabled: true, periodicallyKind: 'Hours', frequency: 1 } },
    });
    const id = (await t.api.post('/api/v1/jobs', { token, json: spec })).body.id;
    const { JobScheduler } = await import('../../src/api/jobs/scheduler.js');
    const other = new JobScheduler(t.server.store, t.server.jobs, { warn: () => undefined } as any);
    const later = new Date(Date.now() + 2 * 3_600_000);
    const fired = (await Promise.all([t.server.scheduler.tick(later), other.tick(later)])).flat();
    // "Scheduled" (daily 22:00) may also be due two hours from now.
    expect(fired.filter((f) => f === id)).toHaveLength(1);
    const row = await t.server.jobs.get(id);
    await finished(row.last_session_id!);
    expect((await t.server.jobs.get(id)).last_result).toBe('Success');
    for (const job of fired.filter((f) => f !== id)) await finished((await t.server.jobs.get(job)).last_session_id!);

    await t.api.post(`/api/v1/jobs/${id}/disable`, { token });
    expect(await t.server.scheduler.tick(new Date(Date.now() + 5 * 3_600_000))).not.toContain(id);
  }, 120_000);

  it('stops a run at once without gracefullStop; the snapshot is still removed', async () => {
    const start = await t.api.post(`/api/v1/jobs/${jobId}/start`, { token, json: { performActiveFull: true } });
    expect(start.status).toBe(201);
    const stop = await t.api.post(`/api/v1/jobs/${jobId}/stop`, { token, json: { gracefullStop: 'false' } });
    expect(stop.status, stop.text).toBe(201);
    const done = await finished(start.body.id);
    expect(done.result.result).toBe('Failed');
    expect(done.result.isCanceled).toBe(true);
    const session = await vcsimSession(vcsim);
    try {
      const { retrieveObject } = await import('../../src/vsphere/property-collector.js');
      const vm = await retrieveObject(session, disks[0]!.vmRef, ['snapshot']);
      expect(vm?.props.get('snapshot')).toBeUndefined();
    } finally {
      await session.logout();
    }
    expect((await t.api.post(`/api/v1/jobs/${jobId}/stop`, { token, json: { gracefullStop: true } })).status).toBe(400);
  }, 60_000);

  it('exports jobs with names for references and imports them under a new name; a missing repository is named and nothing is created', async () => {
    const exported = await exportFrom(t, token, 'jobs', { names: ['Sched*'] });
    expect(exported.jobs).toHaveLength(1);
    const job = exported.jobs[0];
    expect(job).toMatchObject({ name: 'Scheduled', type: 'Backup', storage: { backupRepository: { name: 'Local' }, backupProxies: { automaticSelection: true, proxies: [] } } });
    expect(JSON.stringify(exported)).not.toContain(repositoryId);
    const again = await importInto(t, token, 'jobs', { jobs: [{ ...job, name: 'Imported', description: 'moved' }] });
    expect(again.session.result.result, JSON.stringify(again.log)).toBe('Success');
    const imported = (await t.api.get('/api/v1/jobs?nameFilter=Imported', { token })).body.data[0];
    expect(imported).toMatchObject({ description: 'moved', storage: { backupRepositoryId: repositoryId } });
    const missing = await t.api.post('/api/v1/automation/jobs/import', {
      token,
      json: { jobs: [{ ...job, name: 'Orphan', storage: { ...job.storage, backupRepository: { name: 'Nowhere' } } }] },
    });
    expect(missing.status).toBe(201);
    // Automation skips an item whose references are missing, with a warning naming them.
    const done = await finished(missing.body.id);
    expect(done.result.result).toBe('Warning');
    expect((await t.api.get('/api/v1/jobs?nameFilter=Orphan', { token })).body.pagination.total).toBe(0);
  }, 60_000);

  it('pagination.total counts the whole filtered set while paging one item at a time', async () => {
    const first = await t.api.get(`/api/v1/objectRestorePoints?nameFilter=${disks[0]!.vm}&limit=1&orderColumn=CreationTime`, { token });
    expect(first.body.pagination.count).toBe(1);
    expect(first.body.pagination.total).toBeGreaterThanOrEqual(2);
    const second = await t.api.get(`/api/v1/objectRestorePoints?nameFilter=${disks[0]!.vm}&limit=1&skip=1&orderColumn=CreationTime`, { token });
    expect(second.body.pagination).toMatchObject({ total: first.body.pagination.total, count: 1, skip: 1, limit: 1 });
    expect(second.body.data[0].id).not.toBe(first.body.data[0].id);
    const jobs = await t.api.get('/api/v1/jobs/states?limit=1&workloadFilter=vm', { token });
    expect(jobs.body.pagination.total).toBeGreaterThan(1);
  });

  it('deleting a job (204) keeps its backups and restore points', async () => {
    const before = await t.api.get(`/api/v1/backups?jobIdFilter=${jobId}`, { token });
    expect(before.body.data).toHaveLength(1);
    expect((await t.api.request('DELETE', `/api/v1/jobs/${jobId}`, { token })).status).toBe(204);
    expect((await t.api.get(`/api/v1/jobs/${jobId}`, { token })).status).toBe(404);
    const after = await t.api.get(`/api/v1/backups/${before.body.data[0].id}`, { token });
    expect(after.status).toBe(200);
    expect((await t.api.get('/api/v1/objectRestorePoints', { token })).body.pagination.total).toBeGreaterThanOrEqual(2);
  });

  it('encrypts with the chosen password: the points open only with it', async () => {
    const spec = ansibleSpec('Encrypted', [vmObject(disks[0]!)], {
      storage: {
        backupRepositoryId: repositoryId,
        backupProxies: { autoSelection: true },
        retentionPolicy: { type: 'RestorePoints', quantity: 3 },
        advancedSettings: {
          backupModeType: 'Incremental',
          storageData: { compressionLevel: 'High', storageOptimization: 'LANTarget', encryption: { isEnabled: 'true', encryptionPasswordIdOrNull: passwordId } },
        },
      },
    });
    const created = await t.api.post('/api/v1/jobs', { token, json: spec });
    expect(created.status, created.text).toBe(201);
    const start = await t.api.post(`/api/v1/jobs/${created.body.id}/start`, { token, json: { performActiveFull: false } });
    const done = await finished(start.body.id);
    expect(done.result.result, await logText(start.body.id)).toBe('Success');
    const point = (await t.api.get(`/api/v1/objectRestorePoints?nameFilter=${disks[0]!.vm}&orderColumn=CreationTime&orderAsc=false&limit=1`, { token })).body.data[0];
    const store = await openChunkStore(localFolderBackend(path.join(root, 'repo')));
    const ref = { backupId: point.backupId, objectId: disks[0]!.vmRef.value, restorePointId: point.id };
    await expect(readRestorePoint(store, ref)).rejects.toThrow();
    const rp = await readRestorePoint(store, ref, { password: 'Job-Secret-1' });
    const reader = await openDisk(store, rp, rp.manifest.disks[0]!.key);
    expect((await reader.read(0, 4096)).length).toBe(4096);
    // The encryption password is now in use: it cannot be removed.
    expect((await t.api.request('DELETE', `/api/v1/encryptionPasswords/${passwordId}`, { token })).status).toBe(400);
    expect(t.logText()).not.toContain('Job-Secret-1');
  }, 120_000);

  it('a lost catalogue comes back from the repository: rescan re-imports every restore point (encrypted ones with the stored password)', async () => {
    const before = (await t.api.get('/api/v1/objectRestorePoints?limit=1000', { token })).body.data;
    expect(before.length).toBeGreaterThanOrEqual(3);
    const disksBefore = (await t.api.get(`/api/v1/objectRestorePoints/${before[0].id}/disks`, { token })).body;
    await forgetCatalogue(t);
    expect((await t.api.get('/api/v1/objectRestorePoints', { token })).body.pagination.total).toBe(0);
    expect(await rescanRepository({ t, token }, repositoryId)).toMatch(new RegExp(`${before.length} restore point\\(s\\) re-imported`));
    const after = (await t.api.get('/api/v1/objectRestorePoints?limit=1000', { token })).body.data;
    expect(after.map((p: any) => p.id).sort()).toEqual(before.map((p: any) => p.id).sort());
    expect((await t.api.get(`/api/v1/objectRestorePoints/${before[0].id}/disks`, { token })).body).toEqual(disksBefore);
    const backups = (await t.api.get('/api/v1/backups', { token })).body.data;
    // "Scheduled" (daily at 22:00) has a backup too when the test runs within two hours of it.
    expect(backups.map((b: any) => b.name)).toEqual(expect.arrayContaining(['Encrypted', 'Nightly', 'Periodic']));
  }, 60_000);
});
