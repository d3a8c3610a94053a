import { createHash } from 'node:crypto';
import { readdir, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGB } from '../../src/storage/figures.js';
import { haveGanesha, startGanesha, type Ganesha } from '../support/ganesha.js';
import { forgetCatalogue, rescanRepository } from '../support/repositories.js';
import { sessionWaiters } from '../support/sessions.js';
import { startVsphereLab, stopVsphereLab, type VsphereLab } from '../support/vsphere-lab.js';
import { vmDiskHashes } from '../support/vcsim.js';
import { backupJobSpec, vmRestoreSpec } from '../support/vsphere-specs.js';

/**
 * Nfs repositories through the HTTP API against a real NFS server
 * (NFS-Ganesha): adding one mounts the export with Rampart's own NFSv3
 * client, writes a probe and measures it; a backup job writes its chunk store
 * there, a restore brings the VM back byte for byte, and a rescan re-imports
 * a lost catalogue from the export.
 */

const REPOS = '/api/v1/backupInfrastructure/repositories';
const MiB = 1024 * 1024;

describe.skipIf(!haveGanesha)('Nfs repositories on NFS-Ganesha', () => {
  let lab: VsphereLab;
  let ganesha: Ganesha;
  let repositoryId: string;
  const { finished, logText } = sessionWaiters(() => ({ t: lab.t, token: lab.token }));

  const nfsSpec = (name: string, sharePath: string) => ({
    type: 'Nfs',
    name,
    description: 'NFS export',
    share: { sharePath, gatewayServer: { autoSelect: true } },
    repository: { maxTaskCount: 2 },
    mountServer: { mountServerId: lab.backupServerId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
  });

  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  beforeAll(async () => {
    ganesha = await startGanesha();
    lab = await startVsphereLab({ name: 'nfs', diskBytes: 8 * MiB, env: { RAMPART_PROBE_TIMEOUT_MS: '10000', RAMPART_REPOSITORY_REFRESH_SECONDS: '0' } });
  }, 180_000);

  afterAll(async () => {
    await stopVsphereLab(lab);
    await ganesha?.stop();
  });

  it('adding an Nfs repository mounts the export, creates the folder, probes a write and reports the capacity FSSTAT gives', async () => {
    const res = await lab.t.api.post(REPOS, { token: lab.token, json: nfsSpec('NFS repo', `${ganesha.sharePath}/veeam`) });
    expect(res.status, res.text).toBe(201);
    const done = await finished(res.body.id);
    const log = await logText(res.body.id);
    expect(done.result.result, log).toBe('Success');
    expect(log).toContain(`Succeeded: Mounted export ${ganesha.exportDir} from ${ganesha.address}`);
    expect(log).toContain(`Wrote, read back and deleted a probe file in ${ganesha.sharePath}/veeam`);
    expect(log).not.toMatch(/not mounted|not verified/);
    repositoryId = res.body.resourceId;
    expect((await stat(path.join(ganesha.exportDir, 'veeam'))).isDirectory()).toBe(true);
    expect(await readdir(path.join(ganesha.exportDir, 'veeam'))).toEqual([]);

    const local = await statfs(ganesha.exportDir);
    const state = (await lab.t.api.get(`${REPOS}/states?idFilter=${repositoryId}`, { token: lab.token, version: '1.2-rev1', headers: { 'x-rampart-extras': 'true' } })).body
      .data[0];
    expect(state).toMatchObject({ id: repositoryId, type: 'Nfs', isOnline: true, capacitySource: 'filesystem', path: `${ganesha.sharePath}/veeam` });
    expect(state.capacityGB).toBe(toGB(local.blocks * local.bsize));
    expect(Math.abs(state.freeGB - toGB(local.bavail * local.bsize))).toBeLessThanOrEqual(0.1);
  });

  it('an export that refuses writes, or one the server does not have, fails the session naming the export and why', async () => {
    const ro = await lab.t.api.post(REPOS, { token: lab.token, json: nfsSpec('NFS read-only', ganesha.readOnlySharePath) });
    expect(ro.status, ro.text).toBe(201);
    const roDone = await finished(ro.body.id);
    expect(roDone.result.result).toBe('Failed');
    expect(roDone.result.message).toMatch(new RegExp(`Cannot write to the NFS export folder ${ganesha.readOnlySharePath.replace(/\./g, '\\.')}: .*(read-only|refuses writes)`));
    const missing = await lab.t.api.post(REPOS, { token: lab.token, json: nfsSpec('NFS missing', `${ganesha.address}:/srv/nothing`) });
    const missingDone = await finished(missing.body.id);
    expect(missingDone.result.result).toBe('Failed');
    expect(missingDone.result.message).toMatch(/Cannot mount the NFS export .*:\/srv\/nothing: .*not inside any export/);
    const names = (await lab.t.api.get(`${REPOS}?typeFilter=Nfs`, { token: lab.token })).body.data.map((r: { name: string }) => r.name);
    expect(names).toEqual(['NFS repo']);
  });

  it('a backup job writes into the export and verifies it; the restore point restores byte for byte; a rescan re-imports a lost catalogue', async () => {
    const d = lab.disks[0]!;
    const job = await lab.t.api.post('/api/v1/jobs', {
      token: lab.token,
      json: backupJobSpec('To NFS', d, repositoryId, {
        description: 'nfs repository',
        restorePoints: 3,
        storage: {
          // Verification every day: the run re-reads its chunks from the export.
          advancedSettings: {
            backupModeType: 'Incremental',
            backupHealth: { isEnabled: true, weekly: { isEnabled: true, days: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] } },
          },
        },
      }),
    });
    expect(job.status, job.text).toBe(201);
    const start = await lab.t.api.post(`/api/v1/jobs/${job.body.id}/start`, { token: lab.token, json: {} });
    expect(start.status, start.text).toBe(201);
    const run = await finished(start.body.id);
    const runLog = await logText(start.body.id);
    expect(run.result.result, runLog).toBe('Success');
    expect(runLog).toMatch(/Health check: 1 restore point\(s\), [1-9]\d* chunk\(s\) verified, no corruption found/);
    // The store is on the export, written through NFS (ganesha's folder holds it).
    expect((await stat(path.join(ganesha.exportDir, 'veeam', 'rampart', 'config.json'))).isFile()).toBe(true);
    expect((await readdir(path.join(ganesha.exportDir, 'veeam', 'rampart', 'chunks'))).length).toBeGreaterThan(0);

    const points = (await lab.t.api.get(`/api/v1/objectRestorePoints?nameFilter=${encodeURIComponent(d.vm)}`, { token: lab.token })).body.data;
    expect(points).toHaveLength(1);
    const restore = await lab.t.api.post('/api/v1/restore/vmRestore/vmware/', {
      token: lab.token,
      version: '1.1-rev0',
      json: vmRestoreSpec(points[0].id, 'from-nfs', { powerUp: 'false', reason: 'nfs test' }),
    });
    expect(restore.status, restore.text).toBe(201);
    const restored = await finished(restore.body.id);
    expect(restored.result.result, await logText(restore.body.id)).toBe('Success');
    expect(await vmDiskHashes(lab.vcsim, 'from-nfs')).toEqual([sha(d.content)]);

    await forgetCatalogue(lab.t);
    expect(await rescanRepository(lab, repositoryId)).toMatch(/1 restore point\(s\) re-imported/);
    const after = (await lab.t.api.get(`/api/v1/objectRestorePoints?nameFilter=${encodeURIComponent(d.vm)}`, { token: lab.token })).body.data;
    expect(after.map((p: { id: string }) => p.id)).toEqual([points[0].id]);
  }, 180_000);

  it('when the NFS server stops answering, the next run fails naming the export and why', async () => {
    await ganesha.stop();
    const jobs = (await lab.t.api.get('/api/v1/jobs?nameFilter=To%20NFS', { token: lab.token })).body.data;
    const start = await lab.t.api.post(`/api/v1/jobs/${jobs[0].id}/start`, { token: lab.token, json: {} });
    expect(start.status, start.text).toBe(201);
    const run = await finished(start.body.id);
    const log = await logText(start.body.id);
    expect(run.result.result, log).toBe('Failed');
    expect(`${run.result.message}\n${log}`).toMatch(
      new RegExp(
        `Cannot mount the NFS export ${ganesha.sharePath.replace(/\./g, '\\.')}/veeam: cannot connect to ${ganesha.address.replace(/\./g, '\\.')}:\\d+ \\(ECONNREFUSED\\)`,
      ),
    );
  }, 120_000);
});
