import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess } from '../support/server-process.js';
import { addLocalRepository, backupServerIdOf } from '../support/repositories.js';
import { sessionWaiters, until } from '../support/sessions.js';
import { addVcsimHost } from '../support/vsphere-lab.js';
import { startTcpRelay } from '../support/peers.js';
import { backupJobSpec } from '../support/vsphere-specs.js';
import { createTestDatabase, postgresUrl, requirePostgres } from '../support/postgres.js';
import { prepareDisks, startVcsim, vcsimSession, type PreparedDisk, type Vcsim } from '../support/vcsim.js';
import { retrieveObject } from '../../src/vsphere/property-collector.js';
import { listRestorePoints, localFolderBackend, openChunkStore, openDisk, readRestorePoint, verifyRestorePoints } from '../../src/chunkstore/index.js';

/**
 * kill -9 of the server in the middle of a run, for real: Rampart runs as a child
 * process, is SIGKILLed while it reads a disk, and a new process starts on the
 * same data folder and database.
 */

const MiB = 1024 * 1024;

let vcsim: Vcsim;
let disks: PreparedDisk[];

/**
 * vcsim behind a relay that, once armed, holds every byte from vcsim after the
 * first `holdAfter` bytes: the run's datastore read stalls with a few chunks
 * stored, so the kill lands mid-disk every time (not before, not after).
 */
async function stallingRelay(port: number, holdAfter: number) {
  const state = { armed: false, passed: 0, held: false };
  const relay = await startTcpRelay(port, (chunk, { upstream }) => {
    if (!state.armed) return true;
    state.passed += chunk.length;
    if (state.passed <= holdAfter) return true;
    state.held = true;
    upstream.pause();
    return false;
  });
  return { state, ...relay };
}

async function snapshotsOf(d: PreparedDisk) {
  const session = await vcsimSession(vcsim);
  try {
    return (await retrieveObject(session, d.vmRef, ['snapshot']))?.props.get('snapshot');
  } finally {
    await session.logout();
  }
}

beforeAll(async () => {
  vcsim = await startVcsim();
  disks = await prepareDisks(vcsim, { sizeBytes: 24 * MiB });
}, 120_000);

afterAll(async () => {
  await vcsim?.stop();
});

const kinds: ('SQLite' | 'PostgreSQL')[] = ['SQLite', ...(postgresUrl || requirePostgres ? (['PostgreSQL'] as const) : [])];

describe.each(kinds)('kill -9 during a run (%s)', (kind) => {
  it('after a restart the session is Failed, the snapshot is gone, nothing of the run is visible, the store verifies clean, and the next run restores byte for byte', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'rampart-jobs-crash-'));
    const env: Record<string, string> = kind === 'PostgreSQL' ? { DATABASE_URL: await createTestDatabase() } : {};
    // The mover reads up to three 1 MiB chunks at once, in any order on the wire: 5 MiB through
    // means the first chunk is whole (only chunks 0–2 can be in flight before it is), so the run
    // has progress to show when it stalls.
    const relay = await stallingRelay(vcsim.port, 5 * MiB);
    const relayPort = relay.port;
    let p = await startServerProcess(path.join(root, 'data'), { RAMPART_PROBE_TIMEOUT_MS: '5000', ...env });
    try {
      let token = await p.adminToken();
      const target = () => ({ api: p.api, token });
      await addVcsimHost(target(), vcsim, { port: relayPort, description: 'vcsim through a relay the test can stall' });
      const repoFolder = path.join(root, 'repo');
      const repositoryId = await addLocalRepository(target(), await backupServerIdOf(target()), repoFolder);
      const d = disks[0]!;
      const job = await p.api.post('/api/v1/jobs', { token, json: backupJobSpec('Crash', d, repositoryId, { restorePoints: 3 }) });
      expect(job.status, job.text).toBe(201);

      relay.state.armed = true;
      const start = await p.api.post(`/api/v1/jobs/${job.body.id}/start`, { token, json: { performActiveFull: false } });
      expect(start.status, start.text).toBe(201);
      const runId = start.body.id as string;
      // Working, with bytes already read and chunks stored, and the snapshot taken.
      await until('the run to make progress', async () => {
        const s = (await p.api.get(`/api/v1/sessions/${runId}`, { token })).body;
        expect(s.state).toBe('Working');
        return relay.state.held && s.progressPercent > 0 ? s : undefined;
      });
      expect(await snapshotsOf(d)).toBeDefined();
      await p.kill();
      // The dead run left chunks behind (and no manifest): what verify and the next run must cope with.
      const left = (await readdir(path.join(repoFolder, 'rampart', 'chunks'), { recursive: true })).map(String).filter((f) => /[0-9a-f]{64}$/.test(f));
      expect(left.length).toBeGreaterThan(0);

      relay.state.armed = false;
      p = await startServerProcess(path.join(root, 'data'), { RAMPART_PROBE_TIMEOUT_MS: '5000', ...env });
      token = await p.adminToken();
      const session = (await p.api.get(`/api/v1/sessions/${runId}`, { token })).body;
      expect(session).toMatchObject({ state: 'Stopped', result: { result: 'Failed' } });
      expect(session.result.message).toMatch(/server stopped/);
      // The start-up pass removes the snapshot before the server takes requests.
      expect(await snapshotsOf(d)).toBeUndefined();
      expect((await p.api.get(`/api/v1/backups?jobIdFilter=${job.body.id}`, { token })).body.data).toEqual([]);
      expect((await p.api.get(`/api/v1/objectRestorePoints?nameFilter=${encodeURIComponent(d.vm)}`, { token })).body.pagination.total).toBe(0);
      expect((await p.api.get(`/api/v1/jobs/states?idFilter=${job.body.id}`, { token })).body.data[0]).toMatchObject({ status: 'inactive', lastResult: 'Failed' });
      const store = await openChunkStore(localFolderBackend(repoFolder));
      expect(await listRestorePoints(store)).toEqual([]);
      const clean = await verifyRestorePoints(store);
      expect(clean.badChunks).toEqual([]);
      expect(clean.damagedRestorePoints).toEqual([]);

      // The job runs again; its restore point reads back the disk byte for byte.
      await sessionWaiters(target).runSession('POST', `/api/v1/jobs/${job.body.id}/start`, { performActiveFull: false });
      expect(await snapshotsOf(d)).toBeUndefined();
      const points = (await p.api.get(`/api/v1/objectRestorePoints?nameFilter=${encodeURIComponent(d.vm)}`, { token })).body.data;
      expect(points).toHaveLength(1);
      const backupId = (await p.api.get(`/api/v1/backups?jobIdFilter=${job.body.id}`, { token })).body.data[0].id as string;
      const rp = await readRestorePoint(store, { backupId, objectId: d.vmRef.value, restorePointId: points[0].id });
      const reader = await openDisk(store, rp, rp.manifest.disks[0]!.key);
      expect(Buffer.from(await reader.read(0, d.content.length)).equals(d.content)).toBe(true);
      const after = await verifyRestorePoints(store);
      expect(after.badChunks).toEqual([]);
      expect(after.damagedRestorePoints).toEqual([]);
    } finally {
      await p.kill();
      await relay.close();
      await rm(root, { recursive: true, force: true });
    }
  }, 400_000);
});
