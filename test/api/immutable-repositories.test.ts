import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { TestServer } from '../support/server.js';
import { sessionWaiters } from '../support/sessions.js';
import { vmDiskHashes, type PreparedDisk, type Vcsim } from '../support/vcsim.js';
import { startVsphereServer } from '../support/vsphere-lab.js';
import { backupJobSpec, vmRestoreSpec } from '../support/vsphere-specs.js';
import { addSingleUseHost, removeHardenedInstalls } from '../support/hardened.js';
import { freePort } from '../support/peers.js';
import { haveSshd, isRoot, startSshd, type Sshd } from '../support/sshd.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, startLocalS3, type LocalS3 } from '../support/s3.js';
import { startObjectLockStandIn, type ObjectLockStandIn } from '../support/s3-object-lock.js';

/**
 * Issue 18 through the API: a LinuxHardened repository on a managed Linux host
 * (a real sshd; the transport service installed with single-use root
 * credentials) and an S3Compatible repository with bucket.immutability on (the
 * object-lock stand-in in front of s3rver). Backups go in through jobs, cannot
 * be deleted through the API before their date (400 saying until when), nor by
 * root on the host without clearing the attribute; restores are byte for byte;
 * retention removes a point once its period (RAMPART_TEST_IMMUTABILITY_SECONDS)
 * has passed.
 */

const REPOS = '/api/v1/backupInfrastructure/repositories';
const MiB = 1024 * 1024;
/** Long enough for a backup, a refused delete and a second run inside it on a busy machine; short enough to wait out. */
const PERIOD_SECONDS = 45;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe.skipIf(!haveSshd || !isRoot)('immutable repositories through the API (hardened Linux host, S3 object lock)', () => {
  let t: TestServer;
  let token: string;
  let vcsim: Vcsim;
  let sshd: Sshd;
  let s3: LocalS3;
  let lock: ObjectLockStandIn;
  let disks: PreparedDisk[];
  let root: string;
  let hostId: string;
  let hardenedId: string | undefined;
  let backupServerId: string;

  const { finished, logText, runSession } = sessionWaiters(() => ({ t, token }));
  async function sessionDone(method: string, url: string, json: unknown, version?: string) {
    const session = await runSession(method, url, json, version);
    return { resourceId: session.resourceId as string, log: await logText(session.id), id: session.id as string };
  }
  async function createJob(name: string, repositoryId: string, d: PreparedDisk): Promise<string> {
    const job = await t.api.post('/api/v1/jobs', { token, json: backupJobSpec(name, d, repositoryId, { description: 'immutable repository', restorePoints: 1 }) });
    expect(job.status, job.text).toBe(201);
    return job.body.id;
  }
  /** One run; returns its log and the newest restore point of the job's backup. */
  async function run(jobId: string) {
    const { log } = await sessionDone('POST', `/api/v1/jobs/${jobId}/start`, {});
    const backup = (await t.api.get(`/api/v1/backups?jobIdFilter=${jobId}`, { token })).body.data[0];
    const points = (await t.api.get(`/api/v1/objectRestorePoints?orderColumn=CreationTime&orderAsc=false`, { token })).body.data.filter(
      (p: { backupId: string }) => p.backupId === backup.id,
    );
    return { log, backupId: backup.id as string, pointId: points[0].id as string, pointIds: points.map((p: { id: string }) => p.id) as string[] };
  }
  async function restoreAndCompare(pointId: string, vmName: string, d: PreparedDisk) {
    await sessionDone('POST', '/api/v1/restore/vmRestore/vmware/', vmRestoreSpec(pointId, vmName, { powerUp: 'false', reason: 'immutable' }));
    expect(await vmDiskHashes(vcsim, vmName)).toEqual([sha(d.content)]);
  }
  const deleteBackup = (backupId: string) => t.api.request('DELETE', `/api/v1/backups/${backupId}`, { token, version: '1.3-rev2' });
  const untilIn = (message: string) => /until (\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(message)?.[1];

  beforeAll(async () => {
    // On SQLite, with no repository of its own: the test adds the immutable ones.
    ({ vcsim, disks, root, t, token, backupServerId } = await startVsphereServer({
      name: 'immutable',
      diskBytes: 4 * MiB,
      vcsim: { cbt: true },
      sqlite: true,
      env: {
        RAMPART_PROBE_TIMEOUT_MS: '5000',
        RAMPART_REPOSITORY_REFRESH_SECONDS: '0',
        RAMPART_TEST_IMMUTABILITY_SECONDS: String(PERIOD_SECONDS),
      },
    }));
    sshd = await startSshd({ allowRootWithKey: true });
    s3 = await startLocalS3([]);
    await s3.client.send(new CreateBucketCommand({ Bucket: 'locked' }));
    lock = await startObjectLockStandIn(s3.port);
  }, 180_000);

  afterAll(async () => {
    await t?.cleanup();
    // The service outlives Rampart by design; the test stops what it started.
    if (hardenedId) await removeHardenedInstalls([hardenedId]);
    if (root) {
      execFileSync('chattr', ['-R', '-i', root]);
      await rm(root, { recursive: true, force: true });
    }
    await vcsim?.stop();
    await sshd?.stop();
    await lock?.stop();
    await s3?.stop();
  });

  it('hardened: installed with single-use credentials, immutable to the API and to root, restorable, removed by retention after its date', async () => {
    const servicePort = await freePort();
    // New single-use credentials after the add (its login check used its own): the repository's install uses them.
    hostId = await addSingleUseHost({ t, token }, sshd, { serverName: 'localhost', managementPort: servicePort });

    const folder = path.join(root, 'hardened');
    const added = await sessionDone('POST', REPOS, {
      type: 'LinuxHardened',
      name: 'Hardened',
      description: 'immutable',
      hostId,
      repository: { path: folder, maxTaskCount: 2, makeRecentBackupsImmutableDays: 7 },
      mountServer: { mountServerId: backupServerId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
    });
    hardenedId = added.resourceId;
    expect(added.log).toContain(`Succeeded: Transport service installed and started on "localhost" port ${servicePort} with the single-use credentials`);
    expect(added.log).toContain('Succeeded: Logged in to "localhost": the single-use credentials were used once and discarded');
    expect(added.log).toMatch(/single-use credentials were used once and discarded; Rampart keeps no login for this host/);
    expect(added.log).toMatch(/both certificates pinned/);
    // Nothing of the login is left; the service access is sealed, the client key never in clear.
    const vault = await t.server.store.db.selectFrom('vault_secrets').select(['owner_kind', 'owner_id', 'field']).execute();
    expect(vault.filter((r) => r.owner_id === hostId)).toEqual([]);
    expect(vault.filter((r) => r.owner_id === hardenedId).map((r) => r.field)).toContain('clientPrivateKeyPem');
    for (const file of ['rampart.sqlite', 'rampart.sqlite-wal']) {
      const bytes = await readFile(path.join(t.dataDir, file)).catch(() => Buffer.alloc(0));
      expect(bytes.includes('PRIVATE KEY'), file).toBe(false);
    }
    expect(t.logText()).not.toContain('PRIVATE KEY');
    // Capacity is the service's: the same volume df measures.
    const state = (await t.api.get(`${REPOS}/states?idFilter=${hardenedId}`, { token, version: '1.2-rev1', headers: { 'x-rampart-extras': 'true' } })).body.data[0];
    const df = execFileSync('df', ['-P', '-B1', folder]).toString().trim().split('\n').pop()!.split(/\s+/);
    expect(state).toMatchObject({ isOnline: true, capacitySource: 'filesystem' });
    expect(state.capacityGB).toBe(Math.round((Number(df[1]) / 1024 ** 3) * 100) / 100);

    const jobId = await createJob('Into hardened', hardenedId, disks[0]!);
    const first = await run(jobId);
    const manifest = path.join(folder, 'rampart', 'backups', first.backupId, disks[0]!.vmRef.value, first.pointId, 'manifest.json');
    expect(execFileSync('lsattr', ['-d', manifest]).toString()).toMatch(/^\S*i\S*\s/);
    const until = new Date(Number(await readFile(`${manifest}.rampart-until`, 'utf8')));
    expect(until.getTime()).toBeGreaterThan(Date.now());

    // Through the API: refused, saying until when; nothing deleted.
    const refused = await deleteBackup(first.backupId);
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body).toMatchObject({ errorCode: 'UnexpectedContent', resourceId: first.backupId });
    expect(refused.body.message).toContain(`until ${until.toISOString()}`);
    expect(existsSync(manifest)).toBe(true);
    expect((await t.api.get(`/api/v1/backups/${first.backupId}`, { token })).status).toBe(200);
    // As the host's root, without clearing the attribute: the kernel refuses delete and overwrite.
    expect(() => execFileSync('rm', ['-f', manifest], { stdio: 'pipe' })).toThrow(/Operation not permitted/);
    await expect(writeFile(manifest, 'ransom')).rejects.toMatchObject({ code: 'EPERM' });

    // A second run: retention (1 point) would remove the first, but may not yet, and says why.
    const second = await run(jobId);
    expect(second.log).toMatch(new RegExp(`Retention: restore point ${first.pointId} of .* kept for now.*immutable until ${until.toISOString().replace(/\./g, '\\.')}`));
    expect(second.pointIds).toContain(first.pointId);

    await restoreAndCompare(first.pointId, 'from-hardened', disks[0]!);

    // Once the period has passed, the next run's retention removes it (and the kernel flag is cleared by the service).
    await new Promise((r) => setTimeout(r, Math.max(0, until.getTime() - Date.now() + 1000)));
    const third = await run(jobId);
    expect(third.log).toMatch(/restore point\(s\) of .* removed/);
    expect(third.pointIds).not.toContain(first.pointId);
    expect(existsSync(manifest)).toBe(false);
  }, 400_000);

  it('S3 object lock: immutable to the API with the date, restorable byte for byte, deletable after its date', async () => {
    const cloud = await t.api.post('/api/v1/cloudCredentials', { token, json: { type: 'Amazon', accessKey: S3_ACCESS_KEY, secretKey: S3_SECRET_KEY, description: 'local s3' } });
    expect(cloud.status, cloud.text).toBe(201);
    const { resourceId: repositoryId } = await sessionDone('POST', REPOS, {
      type: 'S3Compatible',
      name: 'Locked bucket',
      description: 'object lock',
      account: { servicePoint: lock.endpoint, regionId: 'us-east-1', credentialsId: cloud.body.id, connectionSettings: { connectionType: 'Direct' } },
      bucket: { bucketName: 'locked', folderName: 'veeam', immutability: { isEnabled: true, daysCount: 7 } },
      mountServer: { mountServerId: backupServerId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
    });
    const d = disks[1] ?? disks[0]!;
    const jobId = await createJob('Into locked bucket', repositoryId, d);
    const first = await run(jobId);
    const manifestKey = `veeam/rampart/backups/${first.backupId}/${d.vmRef.value}/${first.pointId}/manifest.json`;
    const until = lock.retainedUntil('locked', manifestKey);
    expect(until!.getTime()).toBeGreaterThan(Date.now());

    const refused = await deleteBackup(first.backupId);
    expect(refused.status, refused.text).toBe(400);
    expect(untilIn(refused.body.message)).toBe(until!.toISOString());
    expect(refused.body.message).toMatch(/Nothing was deleted/);
    // Deleting the one object (1.3) is refused the same way, before anything goes.
    const objectId = (await t.api.get(`/api/v1/backups/${first.backupId}/objects`, { token, version: '1.3-rev0' })).body.data[0].id;
    const objectRefused = await t.api.request('DELETE', `/api/v1/backups/${first.backupId}/objects/${objectId}`, { token, version: '1.3-rev0' });
    expect(objectRefused.status, objectRefused.text).toBe(400);
    expect(untilIn(objectRefused.body.message)).toBe(until!.toISOString());
    expect(objectRefused.body.message).toContain(`"${d.vm}" in backup`);
    expect(objectRefused.body.message).toMatch(/Nothing was deleted/);

    await restoreAndCompare(first.pointId, 'from-locked-bucket', d);

    // 1.0–1.1 have no such route (1.2 added it).
    expect((await t.api.request('DELETE', `/api/v1/backups/${first.backupId}`, { token, version: '1.1-rev0' })).status).toBe(404);

    await new Promise((r) => setTimeout(r, Math.max(0, until!.getTime() - Date.now() + 1000)));
    const res = await deleteBackup(first.backupId);
    expect(res.status, res.text).toBe(201);
    expect(res.body.sessionType).toBe('DeleteBackup');
    const done = await finished(res.body.id);
    expect(done.result.result, await logText(res.body.id)).toBe('Success');
    expect((await t.api.get(`/api/v1/backups/${first.backupId}`, { token })).status).toBe(404);
    expect((await t.api.get(`/api/v1/objectRestorePoints?nameFilter=${encodeURIComponent(d.vm)}`, { token })).body.data).toEqual([]);
    // The manifest is gone from the bucket itself (asked of s3rver directly, not through the stand-in).
    await expect(s3.client.send(new HeadObjectCommand({ Bucket: 'locked', Key: manifestKey }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  }, 300_000);
});
