import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionWaiters } from '../support/sessions.js';
import { startVsphereLab, stopVsphereLab } from '../support/vsphere-lab.js';
import { backupJobSpec } from '../support/vsphere-specs.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { vcsimSession, type PreparedDisk, type Vcsim } from '../support/vcsim.js';
import { createSnapshot } from '../../src/vsphere/snapshots.js';
import { retrieveObject } from '../../src/vsphere/property-collector.js';
import { localFolderBackend, openChunkStore, verifyRestorePoints } from '../../src/chunkstore/index.js';
import { run } from '../support/tls.js';
import { startTcpRelay } from '../support/peers.js';

const MiB = 1024 * 1024;

let t: TestServer;
let token: string;
let vcsim: Vcsim;
let disks: PreparedDisk[];
let root: string;
let repositoryId: string;
let databaseUrl: string | undefined;

const { finished, logText, sessionDone } = sessionWaiters(() => ({ t, token }));

function spec(name: string, vms: PreparedDisk[]) {
  return backupJobSpec(name, vms, repositoryId, { restorePoints: 2 });
}

async function snapshotsOf(d: PreparedDisk) {
  const session = await vcsimSession(vcsim);
  try {
    return (await retrieveObject(session, d.vmRef, ['snapshot']))?.props.get('snapshot');
  } finally {
    await session.logout();
  }
}

/** A snapshot as a run takes it, recorded in a run lease as a dead node would leave it. */
async function leftBehind(jobId: string, nodeId: string, leaseUntil: string, d: PreparedDisk) {
  const session = await vcsimSession(vcsim);
  let snapshot;
  try {
    snapshot = await createSnapshot(session, d.vmRef, { name: 'left by a dead run' });
  } finally {
    await session.logout();
  }
  const sessionId = crypto.randomUUID();
  const now = new Date().toISOString();
  await t.server.store.db
    .insertInto('sessions')
    .values({
      id: sessionId,
      name: 'dead run',
      activity_id: sessionId,
      session_type: 'Job',
      state: 'Working',
      creation_time: now,
      end_time: null,
      progress_percent: 10,
      result: 'None',
      result_message: null,
      is_canceled: 0,
      resource_id: jobId,
      resource_reference: `/api/v1/jobs/${jobId}`,
      parent_session_id: null,
      usn: 0,
      node_id: nodeId,
      created_by: null,
    })
    .execute();
  await t.server.store.db
    .insertInto('job_runs')
    .values({
      session_id: sessionId,
      job_id: jobId,
      node_id: nodeId,
      lease_until: leaseUntil,
      snapshots: JSON.stringify([{ hostName: '127.0.0.1', vm: d.vmRef.value, snapshot: snapshot.value }]),
    })
    .execute();
  return sessionId;
}

beforeAll(async () => {
  const lab = await startVsphereLab({ name: 'jobs-faults', diskBytes: 16 * MiB, env: { RAMPART_PROBE_TIMEOUT_MS: '3000' } });
  ({ vcsim, disks, root, t, token, repositoryId, databaseUrl } = lab);
}, 120_000);

afterAll(() => stopVsphereLab({ t, vcsim, root }));

describe('job runs under faults', () => {
  it('a graceful stop lets the current VM finish and ends the run there (Warning)', async () => {
    const vms = [...new Map(disks.map((d) => [d.vm, d])).values()].slice(0, 3);
    const job = await t.api.post('/api/v1/jobs', { token, json: spec('Three VMs', vms) });
    expect(job.status, job.text).toBe(201);
    const start = await t.api.post(`/api/v1/jobs/${job.body.id}/start`, { token, json: { performActiveFull: false } });
    const stop = await t.api.post(`/api/v1/jobs/${job.body.id}/stop`, { token, json: { gracefulStop: true }, version: '1.2-rev1' });
    expect(stop.status, stop.text).toBe(201);
    const done = await finished(start.body.id);
    const log = await logText(start.body.id);
    expect(done.result.result, log).toBe('Warning');
    expect(log).toMatch(/graceful stop/);
    const points = await t.api.get(`/api/v1/objectRestorePoints`, { token });
    expect(points.body.pagination.total).toBeGreaterThanOrEqual(1);
    expect(points.body.pagination.total).toBeLessThan(3);
    for (const d of vms) expect(await snapshotsOf(d)).toBeUndefined();
  }, 120_000);

  it('a run whose node stopped renewing its lease becomes Failed on the next tick, and its snapshot is removed', async () => {
    const job = await t.api.post('/api/v1/jobs', { token, json: spec('Lease', [disks[0]!]) });
    // The test drives the ticks itself: the server's own timer could fail the lapsed lease before the first look.
    await t.server.scheduler.stop();
    const sessionId = await leftBehind(job.body.id, 'another-node', new Date(Date.now() - 1000).toISOString(), disks[0]!);
    expect(await snapshotsOf(disks[0]!)).toBeDefined();
    expect((await t.api.get(`/api/v1/jobs/states?idFilter=${job.body.id}`, { token })).body.data[0].status).toBe('running');
    await t.server.scheduler.tick();
    const session = (await t.api.get(`/api/v1/sessions/${sessionId}`, { token })).body;
    expect(session).toMatchObject({ state: 'Stopped', result: { result: 'Failed' } });
    expect(session.result.message).toMatch(/another-node.*lease/);
    expect(await snapshotsOf(disks[0]!)).toBeUndefined();
    expect((await t.api.get(`/api/v1/jobs/states?idFilter=${job.body.id}`, { token })).body.data[0]).toMatchObject({ status: 'inactive', lastResult: 'Failed' });
    t.server.scheduler.start(5000);
  }, 60_000);

  it('after a restart, the runs this node left are Failed and their snapshots gone', async () => {
    const job = await t.api.post('/api/v1/jobs', { token, json: spec('Restart', [disks[0]!]) });
    const nodeId = (await t.server.store.db.selectFrom('sessions').select('node_id').limit(1).executeTakeFirstOrThrow()).node_id;
    const sessionId = await leftBehind(job.body.id, nodeId, new Date(Date.now() + 3_600_000).toISOString(), disks[0]!);
    await t.stop();
    t = await startTestServer({ RAMPART_PROBE_TIMEOUT_MS: '3000', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) }, t.dataDir);
    token = await t.adminToken();
    const session = (await t.api.get(`/api/v1/sessions/${sessionId}`, { token })).body;
    expect(session).toMatchObject({ state: 'Stopped', result: { result: 'Failed' } });
    expect(await snapshotsOf(disks[0]!)).toBeUndefined();
    // The job can run again.
    const start = await t.api.post(`/api/v1/jobs/${job.body.id}/start`, { token, json: { performActiveFull: false } });
    expect(start.status, start.text).toBe(201);
    expect((await finished(start.body.id)).result.result).toBe('Success');
  }, 120_000);

  it('retention keeps the newest restore points (2 here): older ones leave the repository and the catalogue', async () => {
    const job = await t.api.post('/api/v1/jobs', { token, json: spec('Retention', [disks[1]!]) });
    let last = '';
    for (let i = 0; i < 3; i++) {
      const start = await t.api.post(`/api/v1/jobs/${job.body.id}/start`, { token, json: { performActiveFull: false } });
      expect((await finished(start.body.id)).result.result).toBe('Success');
      last = start.body.id;
    }
    expect(await logText(last)).toMatch(/Retention \(2 restore point\(s\)\): 1 restore point\(s\) of .* removed/);
    const backup = (await t.api.get(`/api/v1/backups?jobIdFilter=${job.body.id}`, { token })).body.data[0];
    const points = await t.api.get(`/api/v1/objectRestorePoints?backupIdFilter=${backup.id}`, { token });
    expect(points.body.pagination.total).toBe(2);
    const object = (await t.api.get(`/api/v1/backups/${backup.id}/objects`, { token })).body.data[0];
    expect(object.restorePointsCount).toBe(2);
  }, 120_000);

  it('a disk read error mid-run fails the run: no restore point, snapshot removed, the store verifies clean', async () => {
    // The same vCenter reached through a proxy that cuts any connection once 2 MiB went through it: the datastore GET breaks mid-disk.
    let armed = false;
    const sent = new WeakMap<net.Socket, number>();
    const proxy = await startTcpRelay(vcsim.port, (chunk, { client, upstream }) => {
      const total = (sent.get(upstream) ?? 0) + chunk.length;
      sent.set(upstream, total);
      if (!armed || total <= 2 * MiB) return true;
      client.destroy();
      upstream.destroy();
      return false;
    });
    try {
      const port = proxy.port;
      const creds = await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: vcsim.username, password: vcsim.password } });
      await sessionDone('/api/v1/backupInfrastructure/managedServers', {
        name: 'localhost',
        description: 'vcsim through a breaking proxy',
        type: 'ViHost',
        credentialsId: creds.body.id,
        port,
        certificateThumbprint: vcsim.thumbprint,
      });
      const d = disks[1]!;
      const job = await t.api.post('/api/v1/jobs', {
        token,
        json: { ...spec('Read error', [d]), virtualMachines: { includes: [{ hostName: 'localhost', name: d.vm, type: 'VirtualMachine', objectId: d.vmRef.value }] } },
      });
      expect(job.status, job.text).toBe(201);
      const before = (await t.api.get('/api/v1/objectRestorePoints', { token })).body.pagination.total;
      armed = true;
      const start = await t.api.post(`/api/v1/jobs/${job.body.id}/start`, { token, json: { performActiveFull: true } });
      const done = await finished(start.body.id);
      armed = false;
      const log = await logText(start.body.id);
      expect(done.result.result, log).toBe('Failed');
      expect(log).toMatch(/Removing snapshot/);
      expect((await t.api.get('/api/v1/objectRestorePoints', { token })).body.pagination.total).toBe(before);
      expect(await snapshotsOf(d)).toBeUndefined();
      const store = await openChunkStore(localFolderBackend(path.join(root, 'repo')));
      const report = await verifyRestorePoints(store);
      expect(report.badChunks).toEqual([]);
      expect(report.damagedRestorePoints).toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it.skipIf(process.getuid?.() !== 0)(
    'a full repository fails the run with "no space"; no restore point, no partial file, the store verifies clean',
    async () => {
      const folder = path.join(root, 'tiny');
      await mkdir(folder, { recursive: true });
      await run('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', folder]);
      try {
        const backupServerId = (await t.server.store.db.selectFrom('settings').select('value').where('key', '=', 'backup_server_id').executeTakeFirstOrThrow()).value;
        const tinyId = await sessionDone('/api/v1/backupInfrastructure/repositories', {
          type: 'LinuxLocal',
          name: 'Tiny',
          description: '3 MiB tmpfs',
          hostId: backupServerId,
          repository: { path: path.join(folder, 'repo') },
          mountServer: { mountServerId: backupServerId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
        });
        const job = await t.api.post('/api/v1/jobs', {
          token,
          json: { ...spec('Too big', [disks[0]!]), storage: { ...spec('x', []).storage, backupRepositoryId: tinyId } },
        });
        expect(job.status, job.text).toBe(201);
        const start = await t.api.post(`/api/v1/jobs/${job.body.id}/start`, { token, json: { performActiveFull: true } });
        const done = await finished(start.body.id);
        expect(done.result.result, await logText(start.body.id)).toBe('Failed');
        expect(done.result.message).toMatch(/no space/i);
        expect(await snapshotsOf(disks[0]!)).toBeUndefined();
        const points = await t.api.get(`/api/v1/backups?jobIdFilter=${job.body.id}`, { token });
        expect(points.body.data ?? []).toHaveLength(0);
        const store = await openChunkStore(localFolderBackend(path.join(folder, 'repo')));
        const report = await verifyRestorePoints(store);
        expect(report.badChunks).toEqual([]);
        const files = (await readdir(path.join(folder, 'repo'), { recursive: true })).map(String);
        expect(files.filter((f) => f.includes('.tmp'))).toEqual([]);
        expect(files.filter((f) => f.includes('manifest'))).toEqual([]);
      } finally {
        await run('umount', [folder]).catch(() => undefined);
      }
    },
    120_000,
  );

  it('backupHealth: on a scheduled day the run verifies its restore points, and names a corrupt one (Failed)', async () => {
    const d = disks[2] ?? disks[0]!;
    const everyDay = { isEnabled: true, weekly: { isEnabled: true, days: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] } };
    const base = spec('Health', [d]);
    const job = await t.api.post('/api/v1/jobs', {
      token,
      json: { ...base, storage: { ...base.storage, advancedSettings: { backupModeType: 'Incremental', backupHealth: everyDay } } },
    });
    expect(job.status, job.text).toBe(201);
    const first = await t.api.post(`/api/v1/jobs/${job.body.id}/start`, { token, json: { performActiveFull: true } });
    expect((await finished(first.body.id)).result.result, await logText(first.body.id)).toBe('Success');
    expect(await logText(first.body.id)).toMatch(/Health check: 1 restore point\(s\), \d+ chunk\(s\) verified, no corruption found/);

    // Damage every chunk of the repository (this is the last test using it): the next point reuses them.
    const chunksDir = path.join(root, 'repo', 'rampart', 'chunks');
    const files = (await readdir(chunksDir, { recursive: true })).map(String).filter((f) => /^[0-9a-f]{4}\/[0-9a-f]{64}$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const bytes = await readFile(path.join(chunksDir, file));
      bytes[bytes.length - 1] ^= 0xff;
      await writeFile(path.join(chunksDir, file), bytes);
    }

    const second = await t.api.post(`/api/v1/jobs/${job.body.id}/start`, { token, json: { performActiveFull: false } });
    const done = await finished(second.body.id);
    const log = await logText(second.body.id);
    expect(done.result.result, log).toBe('Failed');
    expect(done.result.message).toMatch(/Health check: 1 corrupt restore point/);
    const points = await t.api.get(`/api/v1/objectRestorePoints?nameFilter=${encodeURIComponent(d.vm)}`, { token });
    const newest = points.body.data.sort((a: { creationTime: string }, b: { creationTime: string }) => b.creationTime.localeCompare(a.creationTime))[0];
    expect(log).toContain(`Health check: restore point ${newest.id} of ${d.vm} is corrupt`);
  }, 120_000);

  it('an unreachable vCenter fails the session with the reason, and no restore point appears', async () => {
    const job = await t.api.post('/api/v1/jobs', { token, json: spec('Unreachable', [disks[0]!]) });
    const before = (await t.api.get('/api/v1/objectRestorePoints', { token })).body.pagination.total;
    await vcsim.stop();
    const start = await t.api.post(`/api/v1/jobs/${job.body.id}/start`, { token, json: { performActiveFull: false } });
    expect(start.status, start.text).toBe(201);
    const done = await finished(start.body.id);
    expect(done.result.result).toBe('Failed');
    expect(done.result.message).toMatch(/127\.0\.0\.1/);
    expect((await t.api.get('/api/v1/objectRestorePoints', { token })).body.pagination.total).toBe(before);
  }, 60_000);
});
