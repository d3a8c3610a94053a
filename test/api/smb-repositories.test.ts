import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localFolderBackend, openChunkStore, openDisk, readRestorePoint } from '../../src/chunkstore/index.js';
import { forgetCatalogue, rescanRepository } from '../support/repositories.js';
import { sessionWaiters } from '../support/sessions.js';
import { haveSmbd, SMB_PASSWORD, SMB_USER, startSmbd, type Smbd } from '../support/smbd.js';
import { run } from '../support/tls.js';
import { vmDiskHashes, type PreparedDisk } from '../support/vcsim.js';
import { startVsphereLab, stopVsphereLab, type VsphereLab } from '../support/vsphere-lab.js';
import { backupJobSpec, vmRestoreSpec } from '../support/vsphere-specs.js';

/**
 * Smb repositories through the HTTP API against a real Samba smbd: the add
 * session logs in, probes and measures the share; a wrong password fails it
 * saying so; a job backs a vcsim VM up into the share, the restore point
 * restores to a new VM byte for byte, and a lost catalogue comes back by rescan.
 */

const REPOS = '/api/v1/backupInfrastructure/repositories';
const MiB = 1024 * 1024;
const WRONG_PASSWORD = 'Not-The-Smb-Passw0rd';

describe.skipIf(!haveSmbd)('Smb repositories on a real smbd', () => {
  let lab: VsphereLab;
  let smbd: Smbd;
  const waiters = sessionWaiters(() => ({ t: lab.t, token: lab.token }));
  const { finished, logText, sessionDone } = waiters;
  let credentialsId: string;
  let repositoryId: string;

  const smbSpec = (name: string, creds: string, folder = 'veeam\\repo') => ({
    type: 'Smb',
    name,
    description: 'SMB share',
    share: { sharePath: smbd.uncPath(folder), credentialsId: creds, gatewayServer: { autoSelect: true } },
    repository: { maxTaskCount: 2 },
    mountServer: { mountServerId: lab.backupServerId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
  });

  beforeAll(async () => {
    smbd = await startSmbd();
    lab = await startVsphereLab({ name: 'smb', diskBytes: 4 * MiB, env: { RAMPART_PROBE_TIMEOUT_MS: '10000' } });
    const creds = await lab.t.api.post('/api/v1/credentials', { token: lab.token, json: { type: 'Standard', username: `WORKGROUP\\${SMB_USER}`, password: SMB_PASSWORD } });
    expect(creds.status, creds.text).toBe(201);
    credentialsId = creds.body.id;
  }, 180_000);

  afterAll(async () => {
    await stopVsphereLab(lab);
    await smbd?.stop();
  });

  it('adding an Smb repository logs in, creates the folder, probes it and reports the share capacity', async () => {
    const { t, token } = lab;
    const res = await t.api.post(REPOS, { token, json: smbSpec('Share', credentialsId) });
    expect(res.status, res.text).toBe(201);
    const done = await finished(res.body.id);
    const log = await logText(res.body.id);
    expect(done.result.result, log).toBe('Success');
    expect(log).toContain(`Succeeded: Logged in to \\\\${smbd.address}\\backups`);
    expect(log).toContain(`Succeeded: Wrote, read back and deleted a probe file in ${smbd.uncPath('veeam\\repo')}`);
    expect(log).not.toMatch(/not verified/);
    repositoryId = res.body.resourceId;
    // The folder was made by smbd (as its account), and the probe file is gone.
    expect((await run('stat', ['-c', '%U', path.join(smbd.shareDir, 'veeam', 'repo')])).stdout.trim()).toBe(SMB_USER);
    expect((await run('ls', ['-A', path.join(smbd.shareDir, 'veeam', 'repo')])).stdout.trim()).toBe('');
    // Capacity and free space come from the server (QUERY_INFO FileFsFullSizeInformation): the volume under the share folder.
    const fs = await import('node:fs/promises').then((m) => m.statfs(smbd.shareDir));
    const states = await t.api.get(`${REPOS}/states?idFilter=${repositoryId}`, { token, version: '1.2-rev1', headers: { 'x-rampart-extras': 'true' } });
    expect(states.body.data[0]).toMatchObject({ id: repositoryId, type: 'Smb', isOnline: true, capacitySource: 'filesystem', path: smbd.uncPath('veeam\\repo') });
    expect(states.body.data[0].capacityGB).toBeCloseTo((fs.blocks * fs.bsize) / 1024 ** 3, 0);
    expect(states.body.data[0].freeGB).toBeGreaterThan(0);
  }, 60_000);

  it('a wrong password fails the session with a message naming the share and the refused login; the password is nowhere', async () => {
    const { t, token } = lab;
    const bad = await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: SMB_USER, password: WRONG_PASSWORD, description: 'wrong' } });
    expect(bad.status, bad.text).toBe(201);
    const res = await t.api.post(REPOS, { token, json: smbSpec('Wrong password', bad.body.id, 'other') });
    expect(res.status, res.text).toBe(201);
    const done = await finished(res.body.id);
    expect(done.result.result).toBe('Failed');
    expect(done.result.message).toContain(`The SMB share \\\\${smbd.address}\\backups refused the login of "${SMB_USER}"`);
    expect(done.result.message).toContain('wrong user name or password');
    const log = await logText(res.body.id);
    expect(log).toMatch(/Failed: Logging in to the SMB share/);
    expect((await t.api.get(`${REPOS}?nameFilter=Wrong*`, { token })).body.pagination.total).toBe(0);
    await expect(stat(path.join(smbd.shareDir, 'other'))).rejects.toThrow();
    // An edit to the wrong credentials fails the same way and keeps the repository as it was.
    const model = (await t.api.get(`${REPOS}/${repositoryId}`, { token })).body;
    const edit = await t.api.request('PUT', `${REPOS}/${repositoryId}`, { token, json: { ...model, share: { ...model.share, credentialsId: bad.body.id } } });
    expect(edit.status, edit.text).toBe(201);
    const edited = await finished(edit.body.id);
    expect(edited.result.result).toBe('Failed');
    expect(edited.result.message).toContain('refused the login');
    expect((await t.api.get(`${REPOS}/${repositoryId}`, { token })).body.share.credentialsId).toBe(credentialsId);
    const exported = await t.api.post('/api/v1/automation/repositories/export', { token, json: {} });
    expect(exported.status, exported.text).toBe(200);
    for (const text of [JSON.stringify(done), JSON.stringify(edited), log, exported.text, t.logText()]) {
      expect(text).not.toContain(WRONG_PASSWORD);
      expect(text).not.toContain(SMB_PASSWORD);
    }
  }, 60_000);

  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  it('a job backs a VM up into the share; the point restores to a new VM byte for byte; rescan re-imports it after the catalogue is lost', async () => {
    const { t, token } = lab;
    const disk: PreparedDisk = lab.disks[0]!;
    const job = await t.api.post('/api/v1/jobs', {
      token,
      json: backupJobSpec('To SMB', disk, repositoryId, { description: 'into the share', restorePoints: 3 }),
    });
    expect(job.status, job.text).toBe(201);
    const start = await t.api.post(`/api/v1/jobs/${job.body.id}/start`, { token, json: {} });
    expect(start.status, start.text).toBe(201);
    const run1 = await finished(start.body.id);
    expect(run1.result.result, await logText(start.body.id)).toBe('Success');
    const backups = (await t.api.get(`/api/v1/backups?jobIdFilter=${job.body.id}`, { token })).body.data;
    expect(backups[0]).toMatchObject({ repositoryId });
    const points = (await t.api.get(`/api/v1/objectRestorePoints?nameFilter=${encodeURIComponent(disk.vm)}`, { token })).body.data;
    const point = points.find((p: { backupId: string }) => p.backupId === backups[0].id);
    expect(point).toBeDefined();

    // The bytes are in the share's folder, written by smbd: read them from there with the local backend.
    const folder = path.join(smbd.shareDir, 'veeam', 'repo');
    expect((await run('stat', ['-c', '%U', path.join(folder, 'rampart', 'config.json')])).stdout.trim()).toBe(SMB_USER);
    const store = await openChunkStore(localFolderBackend(folder), { create: false });
    const rp = await readRestorePoint(store, { backupId: backups[0].id, objectId: disk.vmRef.value, restorePointId: point.id });
    const reader = await openDisk(store, rp, rp.manifest.disks[0]!.key);
    expect(Buffer.from(await reader.read(0, disk.content.length)).equals(disk.content)).toBe(true);

    // Restore through the API: the data comes back over SMB into a new VM.
    await sessionDone('/api/v1/restore/vmRestore/vmware/', vmRestoreSpec(point.id, 'restored-from-smb', { powerUp: 'false', reason: 'smb test' }));
    expect(await vmDiskHashes(lab.vcsim, 'restored-from-smb')).toEqual([sha(disk.content)]);

    // A lost catalogue: rescan reads the share and re-imports the point.
    await forgetCatalogue(t);
    expect(await rescanRepository(lab, repositoryId)).toMatch(/1 restore point\(s\) re-imported/);
    const after = (await t.api.get(`/api/v1/objectRestorePoints?nameFilter=${encodeURIComponent(disk.vm)}`, { token })).body.data;
    expect(after.map((p: { id: string }) => p.id)).toContain(point.id);
    expect(t.logText()).not.toContain(SMB_PASSWORD);
  }, 240_000);
});
