import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionWaiters } from '../support/sessions.js';
import { addLocalRepository } from '../support/repositories.js';
import type { TestServer } from '../support/server.js';
import type { PreparedDisk, Vcsim } from '../support/vcsim.js';
import { startVsphereServer, stopVsphereLab } from '../support/vsphere-lab.js';
import { backupJobSpec } from '../support/vsphere-specs.js';
import { run as runCommand } from '../support/tls.js';
import { findChainExtents, localFolderBackend, openChunkStore, openDisk, readRestorePoint } from '../../src/chunkstore/index.js';

/**
 * A job into a scale-out repository of two local extents: the chain lands on
 * one extent and stays there (data locality: the increment reuses its chunks);
 * sealing that extent moves the chain to the other with a full; with both
 * sealed the run fails saying no extent takes new data, and writes nothing.
 */

const SOBRS = '/api/v1/backupInfrastructure/scaleOutRepositories';
const MiB = 1024 * 1024;

let t: TestServer;
let token: string;
let vcsim: Vcsim;
let disk: PreparedDisk;
let disks: PreparedDisk[];
let backupServerId: string;
let root: string;
let sobrId: string;

const { finished, logText, sessionDone } = sessionWaiters(() => ({ t, token }));
const extents: { id: string; folder: string }[] = [];

const chain = () => ({ objectId: disk.vmRef.value });
async function holders(backupId: string): Promise<string[]> {
  const stores = await Promise.all(extents.map(async (e) => ({ id: e.id, store: await openChunkStore(localFolderBackend(e.folder)) })));
  return findChainExtents(stores, { backupId, ...chain() });
}

beforeAll(async () => {
  ({ t, token, vcsim, disks, root, backupServerId } = await startVsphereServer({
    name: 'jobs-sobr',
    diskBytes: 4 * MiB,
    vcsim: { cbt: true },
    env: { RAMPART_PROBE_TIMEOUT_MS: '5000', RAMPART_REPOSITORY_REFRESH_SECONDS: '0' },
  }));
  disk = disks[0]!;
  for (const name of ['extent-1', 'extent-2']) {
    const folder = path.join(root, name);
    extents.push({ id: await addLocalRepository({ t, token }, backupServerId, folder, { maxTaskCount: 4 }, { name, description: name }), folder });
  }
  sobrId = await sessionDone(SOBRS, {
    name: 'SOBR',
    description: 'two extents',
    performanceTier: { performanceExtents: extents.map((e) => ({ id: e.id })) },
    placementPolicy: { type: 'DataLocality' },
  });
}, 120_000);

afterAll(() => stopVsphereLab({ t, vcsim, root }));

describe('jobs into a scale-out repository', () => {
  let jobId: string;
  const run = async () => {
    const start = await t.api.post(`/api/v1/jobs/${jobId}/start`, { token, json: {} });
    expect(start.status, start.text).toBe(201);
    const done = await finished(start.body.id);
    return { done, log: await logText(start.body.id) };
  };

  it('keeps a chain on one extent, moves it with a full when that extent is sealed, and fails when none takes data', async () => {
    const job = await t.api.post('/api/v1/jobs', {
      token,
      json: backupJobSpec('To SOBR', disk, sobrId, { restorePoints: 7 }),
    });
    expect(job.status, job.text).toBe(201);
    jobId = job.body.id;

    const first = await run();
    expect(first.done.result.result, first.log).toBe('Success');
    const backups = await t.api.get(`/api/v1/backups?jobIdFilter=${jobId}`, { token });
    expect(backups.body.data[0]).toMatchObject({ repositoryId: sobrId });
    const backupId = backups.body.data[0].id as string;
    const home = await holders(backupId);
    expect(home).toHaveLength(1);

    const second = await run();
    expect(second.done.result.result, second.log).toBe('Success');
    expect(await holders(backupId)).toEqual(home);
    const points = async () =>
      (await t.api.get(`/api/v1/restorePoints?backupIdFilter=${backupId}&orderColumn=CreationTime&orderAsc=true`, { token, version: '1.2-rev1' })).body.data;
    expect((await points()).map((p: { type: string }) => p.type)).toEqual(['Full', 'Increment']);

    // Sealed: the chain's extent takes no new data; the next point is a full on the other extent.
    const seal = async (ids: string[]) => {
      const res = await t.api.post(`${SOBRS}/${sobrId}/enableSealedMode`, { token, json: { repositoryIds: ids } });
      expect(res.status, res.text).toBe(201);
      expect((await finished(res.body.id)).result.result).toBe('Success');
    };
    await seal(home);
    const third = await run();
    expect(third.done.result.result, third.log).toBe('Success');
    expect(third.log).toMatch(/chain starts on extent "extent-\d" with a full backup/);
    const other = extents.find((e) => e.id !== home[0])!;
    expect((await holders(backupId)).sort()).toEqual([home[0], other.id].sort());
    const latest = (await points()).at(-1);
    expect(latest.type).toBe('Full');
    const store = await openChunkStore(localFolderBackend(other.folder));
    const rp = await readRestorePoint(store, { backupId, ...chain(), restorePointId: latest.id });
    expect(Buffer.from(await (await openDisk(store, rp, rp.manifest.disks[0]!.key)).read(0, disk.content.length)).equals(disk.content)).toBe(true);

    await seal([other.id]);
    const fourth = await run();
    expect(fourth.done.result.result).toBe('Failed');
    expect(fourth.done.result.message).toMatch(/No extent of scale-out repository "SOBR" can take new data/);
    expect(await points()).toHaveLength(3);
  }, 180_000);

  it.skipIf(process.getuid?.() !== 0)(
    'a new chain goes to the extent with the most free space, measured at each placement, so the VMs of a run spread as extents fill',
    async () => {
      // Two small file systems a few MiB apart: each VM stores about 2 MiB (half its 4 MiB disk is random, half zeros).
      const mounts: string[] = [];
      try {
        const ids: Record<string, string> = {};
        for (const [name, size] of [
          ['roomy', '44m'],
          ['snug', '43m'],
        ] as const) {
          const folder = path.join(root, name);
          await mkdir(folder, { recursive: true });
          await runCommand('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', folder]);
          mounts.push(folder);
          ids[name] = await addLocalRepository({ t, token }, backupServerId, path.join(folder, 'repo'), { maxTaskCount: 4 }, { name, description: `${size} tmpfs` });
        }
        const sobr = await sessionDone(SOBRS, {
          name: 'By free space',
          description: '',
          // The snug extent first: the choice is not the list's order.
          performanceTier: { performanceExtents: [{ id: ids.snug }, { id: ids.roomy }] },
          placementPolicy: { type: 'DataLocality' },
        });
        const vms = [...new Map(disks.map((d) => [d.vm, d])).values()].slice(0, 2);
        const job = await t.api.post('/api/v1/jobs', {
          token,
          json: backupJobSpec('Spread', vms, sobr, { restorePoints: 7 }),
        });
        expect(job.status, job.text).toBe(201);
        const start = await t.api.post(`/api/v1/jobs/${job.body.id}/start`, { token, json: {} });
        const done = await finished(start.body.id);
        expect(done.result.result, await logText(start.body.id)).toBe('Success');
        const backupId = (await t.api.get(`/api/v1/backups?jobIdFilter=${job.body.id}`, { token })).body.data[0].id as string;
        const stores = [
          { id: 'roomy', store: await openChunkStore(localFolderBackend(path.join(root, 'roomy', 'repo'))) },
          { id: 'snug', store: await openChunkStore(localFolderBackend(path.join(root, 'snug', 'repo'))) },
        ];
        // The first VM goes to the roomier extent; once it holds ~2 MiB there, the other has more room.
        expect(await findChainExtents(stores, { backupId, objectId: vms[0]!.vmRef.value })).toEqual(['roomy']);
        expect(await findChainExtents(stores, { backupId, objectId: vms[1]!.vmRef.value })).toEqual(['snug']);
        // The measurements are the repositories' figures now too.
        const states = await t.api.get(`/api/v1/backupInfrastructure/repositories/states?nameFilter=snug`, { token });
        expect(states.body.data[0].capacityGB).toBeGreaterThan(0);
      } finally {
        for (const m of mounts) await runCommand('umount', [m]).catch(() => undefined);
      }
    },
    180_000,
  );
});
