import { createHash, randomUUID } from 'node:crypto';
import { access, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localFolderBackend, openChunkStore, openDisk, readRestorePoint } from '../../src/chunkstore/index.js';
import { sessionWaiters } from '../support/sessions.js';
import { startVsphereLab } from '../support/vsphere-lab.js';
import type { TestServer } from '../support/server.js';
import type { PreparedDisk, Vcsim } from '../support/vcsim.js';

/**
 * The later revisions' operations on backups, through the HTTP API: backup files
 * (1.2-rev1), the on-demand health check (1.3-rev1) and deleting one object (1.3-rev0),
 * over a real backup of two vcsim VMs in a local repository.
 */

const MiB = 1024 * 1024;

let t: TestServer;
let token: string;
let vcsim: Vcsim;
let root: string;
let repositoryId: string;
let a: PreparedDisk;
let b: PreparedDisk;
let c: PreparedDisk;
let backupId: string;
let jobId: string;
/** Restore points per VM name, as the API lists them. */
const points = new Map<string, string[]>();

const { finished, logText } = sessionWaiters(() => ({ t, token }));
const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );
const repo = () => path.join(root, 'repo');
/** The files (not folders: a local repository leaves emptied folders behind) under a folder of the repository. */
async function filesUnder(...parts: string[]): Promise<string[]> {
  const dir = path.join(repo(), ...parts);
  const entries = (await readdir(dir, { recursive: true }).catch(() => [])).map(String);
  const files: string[] = [];
  for (const e of entries) if ((await stat(path.join(dir, e))).isFile()) files.push(e);
  return files;
}

async function readsBack(disk: PreparedDisk, restorePointId: string) {
  const store = await openChunkStore(localFolderBackend(repo()));
  const rp = await readRestorePoint(store, { backupId, objectId: disk.vmRef.value, restorePointId });
  const reader = await openDisk(store, rp, rp.manifest.disks[0]!.key);
  return { rp, same: Buffer.from(await reader.read(0, disk.capacityInBytes)).equals(disk.content) };
}

/** A job over `vms` run twice (a full, then an increment with nothing changed); returns the job's id. */
async function backupTwice(name: string, vms: PreparedDisk[], gfsPolicy?: unknown): Promise<string> {
  const vm = (d: PreparedDisk) => ({ hostName: '127.0.0.1', name: d.vm, type: 'VirtualMachine', objectId: d.vmRef.value });
  const job = await t.api.post('/api/v1/jobs', {
    token,
    json: {
      name,
      description: '',
      type: 'Backup',
      isHighPriority: false,
      virtualMachines: { includes: vms.map(vm) },
      storage: {
        backupRepositoryId: repositoryId,
        backupProxies: { autoSelection: true },
        retentionPolicy: { type: 'RestorePoints', quantity: 7 },
        ...(gfsPolicy ? { gfsPolicy } : {}),
      },
      guestProcessing: { appAwareProcessing: { isEnabled: false }, guestFSIndexing: { isEnabled: false } },
      schedule: { runAutomatically: false },
    },
  });
  expect(job.status, job.text).toBe(201);
  for (let i = 0; i < 2; i++) {
    const start = await t.api.post(`/api/v1/jobs/${job.body.id}/start`, { token, json: { performActiveFull: false } });
    expect((await finished(start.body.id)).result.result, await logText(start.body.id)).toBe('Success');
  }
  return job.body.id;
}

beforeAll(async () => {
  const lab = await startVsphereLab({ name: 'backups-ops', diskBytes: 4 * MiB });
  ({ vcsim, root, t, token, repositoryId } = lab);
  t.api.strict = true;
  a = lab.disks[0]!;
  b = lab.disks.find((d) => d.vm !== a.vm)!;
  c = lab.disks.find((d) => d.vm !== a.vm && d.vm !== b.vm) ?? a;
  jobId = await backupTwice('Two VMs', [a, b]);
  backupId = (await t.api.get(`/api/v1/backups?jobIdFilter=${jobId}`, { token })).body.data[0].id;
  const listed = await t.api.get(`/api/v1/restorePoints?backupIdFilter=${backupId}&orderColumn=CreationTime&orderAsc=true`, { token, version: '1.2-rev1' });
  for (const p of listed.body.data) points.set(p.name, [...(points.get(p.name) ?? []), p.id]);
  expect([...points.values()].map((ids) => ids.length)).toEqual([2, 2]);
}, 240_000);

afterAll(async () => {
  await t?.cleanup();
  await vcsim?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('backup files (GET /api/v1/backups/{id}/backupFiles, 1.2-rev1+)', () => {
  it('lists one file per restore point: its manifest, the disk size, the bytes its new chunks took, ratios and GFS flags', async () => {
    const res = await t.api.get(`/api/v1/backups/${backupId}/backupFiles?orderColumn=CreationTime&orderAsc=true`, { token, version: '1.2-rev1' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.pagination).toEqual({ total: 4, count: 4, skip: 0, limit: 200 });
    for (const file of res.body.data) {
      expect(file.restorePointIds).toHaveLength(1);
      expect(file.id).toBe(file.restorePointIds[0]);
      expect(file.backupId).toBe(backupId);
      expect(file.name).toMatch(new RegExp(`^rampart/backups/${backupId}/[^/]+/${file.id}/manifest\\.json$`));
      expect(await exists(path.join(repo(), file.name))).toBe(true);
      expect(file.dataSize).toBe(4 * MiB);
      expect(file.gfsPeriods).toEqual(['None']);
      expect(file.objectIds).toBeUndefined();
    }
    const [fullA, fullB, incA, incB] = res.body.data;
    for (const full of [fullA, fullB]) {
      // Half the disk is random (stored, incompressible: a little over its size), half zeros (never stored).
      expect(full.backupSize).toBeGreaterThan(2 * MiB);
      expect(full.backupSize).toBeLessThan(2.1 * MiB);
      expect(full.dedupRatio).toBe(50);
      expect(full.compressRatio).toBeGreaterThanOrEqual(100);
      expect(full.compressRatio).toBeLessThanOrEqual(105);
    }
    for (const inc of [incA, incB]) expect(inc).toMatchObject({ backupSize: 0, dedupRatio: 0, compressRatio: 100 });
    expect(new Set([fullA.objectId, fullB.objectId]).size).toBe(2);
    // 1.3-rev2 names the objects in a list.
    const rev2 = await t.api.get(`/api/v1/backups/${backupId}/backupFiles/${fullA.id}`, { token, version: '1.3-rev2' });
    expect(rev2.status, rev2.text).toBe(200);
    expect(rev2.body).toMatchObject({ id: fullA.id, objectIds: [fullA.objectId], backupSize: fullA.backupSize });
    expect(rev2.body.objectId).toBeUndefined();
  });

  it('filters, orders and pages as documented', async () => {
    const get = (q: string) => t.api.get(`/api/v1/backups/${backupId}/backupFiles?${q}`, { token, version: '1.3-rev1' });
    const bySize = await get('orderColumn=BackupSize&orderAsc=false&limit=2');
    expect(bySize.body.pagination).toEqual({ total: 4, count: 2, skip: 0, limit: 2 });
    expect(bySize.body.data.every((f: { backupSize: number }) => f.backupSize > 0)).toBe(true);
    const page2 = await get('orderColumn=BackupSize&orderAsc=false&skip=2&limit=2');
    expect(page2.body.data.every((f: { backupSize: number }) => f.backupSize === 0)).toBe(true);
    const one = points.get(a.vm)![0]!;
    expect((await get(`nameFilter=*${one}*`)).body.data.map((f: { id: string }) => f.id)).toEqual([one]);
    expect((await get('gfsPeriodFilter=None')).body.pagination.total).toBe(4);
    expect((await get('gfsPeriodFilter=Weekly')).body.pagination.total).toBe(0);
    expect((await get(`createdAfterFilter=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).body.pagination.total).toBe(0);
    const badOrder = await get('orderColumn=Colour');
    expect(badOrder.status).toBe(400);
    expect(badOrder.body.message).toContain('orderColumn');
    expect((await get('gfsPeriodFilter=Daily')).status).toBe(400);
  });

  it('unknown ids are 404, malformed ones 400, and revisions before 1.2 have no such operation', async () => {
    const unknownFile = await t.api.get(`/api/v1/backups/${backupId}/backupFiles/${randomUUID()}`, { token, version: '1.2-rev1' });
    expect(unknownFile.status).toBe(404);
    expect(unknownFile.body.errorCode).toBe('NotFound');
    expect((await t.api.get(`/api/v1/backups/${randomUUID()}/backupFiles`, { token, version: '1.2-rev1' })).status).toBe(404);
    const malformed = await t.api.get('/api/v1/backups/not-a-uuid/backupFiles', { token, version: '1.2-rev1' });
    expect(malformed.status).toBe(400);
    const old = await t.api.get(`/api/v1/backups/${backupId}/backupFiles`, { token, version: '1.1-rev0' });
    expect(old.status).toBe(404);
    expect(old.body.message).toContain('1.2-rev1');
  });
});

describe('health check (POST /api/v1/backups/runHealthcheck, 1.3-rev1+)', () => {
  it('refuses bad bodies with a 400 naming the field, and is not there before 1.3-rev1', async () => {
    const post = (json: unknown, version = '1.3-rev2') => t.api.post('/api/v1/backups/runHealthcheck', { token, version, json });
    const empty = await post({});
    expect(empty.status).toBe(400);
    expect(empty.body.message).toContain('backupIds');
    const missing = randomUUID();
    const unknown = await post({ backupIds: [backupId, missing] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain('backupIds[1]');
    expect(unknown.body.resourceId).toBe(missing);
    const noJob = await post({ jobIds: [randomUUID()] });
    expect(noJob.status).toBe(400);
    expect(noJob.body.message).toContain('jobIds[0]');
    const repair = await post({ backupIds: [backupId], isRepair: true });
    expect(repair.status).toBe(400);
    expect(repair.body.message).toContain('isRepair');
    expect((await post({ backupIds: ['nope'] })).status).toBe(400);
    expect((await post({ backupIds: [backupId] }, '1.3-rev0')).status).toBe(404);
  });

  it('a clean backup verifies clean (named by its job)', async () => {
    const res = await t.api.post('/api/v1/backups/runHealthcheck', { token, version: '1.3-rev1', json: { jobIds: [jobId] } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.pagination.total).toBe(1);
    const session = res.body.data[0];
    expect(session).toMatchObject({ sessionType: 'FileBackupHealthCheck', resourceId: backupId });
    const done = await finished(session.id);
    expect(done.result.result, await logText(session.id)).toBe('Success');
    expect(await logText(session.id)).toMatch(/Health check: 4 restore point\(s\), \d+ chunk\(s\) verified, no corruption found/);
  });
});

describe('deleting one object (DELETE /api/v1/backups/{id}/objects/{objectId}, 1.3-rev0+)', () => {
  let objectOf: Map<string, string>;

  beforeAll(async () => {
    const objects = await t.api.get(`/api/v1/backups/${backupId}/objects`, { token, version: '1.3-rev0' });
    objectOf = new Map(objects.body.data.map((o: { name: string; id: string }) => [o.name, o.id]));
  });

  it('unknown ids are 404, malformed ones 400, and revisions before 1.3 have no such operation', async () => {
    const del = (url: string, version = '1.3-rev0') => t.api.request('DELETE', url, { token, version });
    const unknownObject = await del(`/api/v1/backups/${backupId}/objects/${randomUUID()}`);
    expect(unknownObject.status).toBe(404);
    expect(unknownObject.body.errorCode).toBe('NotFound');
    expect((await del(`/api/v1/backups/${randomUUID()}/objects/${objectOf.get(a.vm)}`)).status).toBe(404);
    expect((await del(`/api/v1/backups/${backupId}/objects/not-a-uuid`)).status).toBe(400);
    expect((await del(`/api/v1/backups/${backupId}/objects/${objectOf.get(b.vm)}`, '1.2-rev1')).status).toBe(404);
    // Nothing was deleted by any of these.
    expect((await t.api.get(`/api/v1/backups/${backupId}/objects`, { token })).body.data).toHaveLength(2);
  });

  it("removes one VM's restore points from the repository and the catalogue; the other VM stays restorable", async () => {
    const res = await t.api.request('DELETE', `/api/v1/backups/${backupId}/objects/${objectOf.get(b.vm)}`, { token, version: '1.3-rev2' });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ sessionType: 'DeleteBackup', resourceId: backupId });
    const done = await finished(res.body.id);
    expect(done.result.result, await logText(res.body.id)).toBe('Success');
    expect(await logText(res.body.id)).toContain(`2 restore point(s) of "${b.vm}" removed`);

    const objects = await t.api.get(`/api/v1/backups/${backupId}/objects`, { token, version: '1.3-rev2' });
    expect(objects.body.data.map((o: { name: string }) => o.name)).toEqual([a.vm]);
    const left = await t.api.get(`/api/v1/restorePoints?backupIdFilter=${backupId}`, { token, version: '1.3-rev2' });
    expect(left.body.data.map((p: { id: string }) => p.id).sort()).toEqual([...points.get(a.vm)!].sort());
    for (const id of points.get(b.vm)!) {
      expect((await t.api.get(`/api/v1/restorePoints/${id}`, { token, version: '1.3-rev2' })).status).toBe(404);
      expect(await filesUnder('rampart', 'backups', backupId, b.vmRef.value, id)).toEqual([]);
    }
    const files = await t.api.get(`/api/v1/backups/${backupId}/backupFiles`, { token, version: '1.3-rev2' });
    expect(files.body.pagination.total).toBe(2);
    for (const id of points.get(a.vm)!) expect((await readsBack(a, id)).same).toBe(true);
  });

  it('a health check finds a corrupt chunk and names the restore points that need it', async () => {
    const { rp } = await readsBack(a, points.get(a.vm)![0]!);
    // Unencrypted chunks are named by the SHA-256 of their bytes (docs/repository-format.md §4): the first chunk of A's disk.
    const digest = createHash('sha256').update(a.content.subarray(0, rp.manifest.disks[0]!.chunkSize)).digest('hex');
    const file = path.join(repo(), 'rampart', 'chunks', digest.slice(0, 4), digest);
    const bytes = await readFile(file);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(file, bytes);

    const res = await t.api.post('/api/v1/backups/runHealthcheck', { token, version: '1.3-rev2', json: { backupIds: [backupId] } });
    expect(res.status, res.text).toBe(201);
    const id = res.body.data[0].id;
    const done = await finished(id);
    const log = await logText(id);
    expect(done.result.result, log).toBe('Failed');
    expect(done.result.message).toContain('2 corrupt restore point(s)');
    // Both of A's points use the chunk (the increment reuses it); each is named, with the chunk and offset.
    for (const point of points.get(a.vm)!) expect(log).toContain(`Health check: restore point ${point} of ${a.vm} is corrupt`);
    expect(log).toContain(`chunk ${digest} is corrupt`);
    // Quarantined as verify does for the scheduled check: the next backup stores it again.
    expect(await exists(`${file}.bad`)).toBe(true);
  });

  it('deleting the last object deletes the backup', async () => {
    const res = await t.api.request('DELETE', `/api/v1/backups/${backupId}/objects/${objectOf.get(a.vm)}`, { token, version: '1.3-rev1' });
    expect(res.status, res.text).toBe(201);
    const done = await finished(res.body.id);
    expect(done.result.result, await logText(res.body.id)).toBe('Success');
    expect(await logText(res.body.id)).toContain('had no object left and was removed');
    expect((await t.api.get(`/api/v1/backups/${backupId}`, { token, version: '1.3-rev1' })).status).toBe(404);
    expect(await filesUnder('rampart', 'backups', backupId)).toEqual([]);
  });
});

describe('GFS-flagged restore points', () => {
  it('are listed with their flag, kept by an object delete without includeGFS and deleted with it', async () => {
    const weekly = await backupTwice('Weekly', [c], { isEnabled: true, weekly: { isEnabled: true, keepForNumberOfWeeks: 2, desiredTime: 'Sunday' } });
    const backup = (await t.api.get(`/api/v1/backups?jobIdFilter=${weekly}`, { token })).body.data[0].id;
    const rps = await t.api.get(`/api/v1/restorePoints?backupIdFilter=${backup}&orderColumn=CreationTime&orderAsc=true`, { token, version: '1.3-rev2' });
    const [flagged, plain] = rps.body.data.map((p: { id: string }) => p.id);
    const files = (q: string) => t.api.get(`/api/v1/backups/${backup}/backupFiles?${q}`, { token, version: '1.3-rev2' });
    const weeklyFiles = await files('gfsPeriodFilter=Weekly');
    expect(weeklyFiles.body.data.map((f: { id: string; gfsPeriods: string[] }) => [f.id, f.gfsPeriods])).toEqual([[flagged, ['Weekly']]]);
    expect((await files('gfsPeriodFilter=None')).body.data.map((f: { id: string }) => f.id)).toEqual([plain]);
    expect((await files('orderColumn=GFSPeriod&orderAsc=true')).body.data.map((f: { id: string }) => f.id)).toEqual([plain, flagged]);

    const objectId = (await t.api.get(`/api/v1/backups/${backup}/objects`, { token, version: '1.3-rev2' })).body.data[0].id;
    const url = `/api/v1/backups/${backup}/objects/${objectId}`;
    const kept = await t.api.request('DELETE', url, { token, version: '1.3-rev2' });
    expect(kept.status, kept.text).toBe(201);
    expect((await finished(kept.body.id)).result.result).toBe('Success');
    expect(await logText(kept.body.id)).toContain('1 restore point(s) with GFS flags kept');
    const left = await t.api.get(`/api/v1/restorePoints?backupIdFilter=${backup}`, { token, version: '1.3-rev2' });
    expect(left.body.data.map((p: { id: string }) => p.id)).toEqual([flagged]);

    const all = await t.api.request('DELETE', `${url}?includeGFS=true`, { token, version: '1.3-rev2' });
    expect(all.status, all.text).toBe(201);
    expect((await finished(all.body.id)).result.result, await logText(all.body.id)).toBe('Success');
    expect((await t.api.get(`/api/v1/backups/${backup}`, { token, version: '1.3-rev2' })).status).toBe(404);
    expect(await filesUnder('rampart', 'backups', backup)).toEqual([]);
  });
});
