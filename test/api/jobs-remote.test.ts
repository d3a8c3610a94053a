import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createTestDatabase, postgresUrl } from '../support/postgres.js';
import { prepareDisks, startVcsim, type PreparedDisk, type Vcsim } from '../support/vcsim.js';
import { haveSshd, isRoot, startSshd, TEST_USER, type Sshd } from '../support/sshd.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, startLocalS3, type LocalS3 } from '../support/s3.js';
import { run } from '../support/tls.js';
import { localFolderBackend, openChunkStore, openDisk, readRestorePoint, s3Backend, type BlobBackend } from '../../src/chunkstore/index.js';

/**
 * Jobs whose repository is not a folder of the backup server: a LinuxLocal
 * repository on a managed Linux host (a real sshd, reached over SFTP with the
 * host's stored credentials and pinned key) and an S3Compatible repository on
 * s3rver. The restore point's bytes are read back straight from where they
 * landed (the folder the sshd account wrote, the bucket) and compared.
 */

const SERVERS = '/api/v1/backupInfrastructure/managedServers';
const REPOS = '/api/v1/backupInfrastructure/repositories';
const MiB = 1024 * 1024;

describe.skipIf(!haveSshd || !isRoot)('jobs into Linux and object-storage repositories', () => {
  let t: TestServer;
  let token: string;
  let vcsim: Vcsim;
  let sshd: Sshd;
  let s3: LocalS3;
  let disks: PreparedDisk[];
  let root: string;
  let backupServerId: string;

  async function finished(id: string) {
    await t.server.runner.settled(id);
    for (let i = 0; i < 400; i++) {
      const res = await t.api.get(`/api/v1/sessions/${id}`, { token });
      if (res.body.state === 'Stopped') return res.body;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`session ${id} did not stop`);
  }
  async function logText(id: string): Promise<string> {
    const logs = await t.api.get(`/api/v1/sessions/${id}/logs`, { token });
    return logs.body.records.map((r: { status: string; title: string; description: string }) => `${r.status}: ${r.title} ${r.description}`).join('\n');
  }
  async function sessionDone(method: string, url: string, json: unknown) {
    const res = await t.api.request(method, url, { token, json });
    expect(res.status, res.text).toBe(201);
    const done = await finished(res.body.id);
    expect(done.result.result, await logText(res.body.id)).toBe('Success');
    return res.body.resourceId as string;
  }
  const mountServer = () => ({ mountServerId: backupServerId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false });
  const vmObject = (d: PreparedDisk) => ({ hostName: '127.0.0.1', name: d.vm, type: 'VirtualMachine', objectId: d.vmRef.value });
  const jobSpec = (name: string, repositoryId: string, d: PreparedDisk) => ({
    name,
    description: 'remote repository',
    type: 'Backup',
    isHighPriority: false,
    virtualMachines: { includes: [vmObject(d)] },
    storage: { backupRepositoryId: repositoryId, backupProxies: { autoSelection: true }, retentionPolicy: { type: 'RestorePoints', quantity: 3 } },
    guestProcessing: { appAwareProcessing: { isEnabled: false }, guestFSIndexing: { isEnabled: false } },
    schedule: { runAutomatically: false },
  });

  /** Runs the job once and returns its only restore point's reference. */
  async function backUp(name: string, repositoryId: string, d: PreparedDisk) {
    const job = await t.api.post('/api/v1/jobs', { token, json: jobSpec(name, repositoryId, d) });
    expect(job.status, job.text).toBe(201);
    const start = await t.api.post(`/api/v1/jobs/${job.body.id}/start`, { token, json: {} });
    expect(start.status, start.text).toBe(201);
    const done = await finished(start.body.id);
    const log = await logText(start.body.id);
    expect(done.result.result, log).toBe('Success');
    const points = await t.api.get(`/api/v1/objectRestorePoints?nameFilter=${encodeURIComponent(d.vm)}`, { token });
    const backups = await t.api.get(`/api/v1/backups?jobIdFilter=${job.body.id}`, { token });
    expect(backups.body.data[0]).toMatchObject({ repositoryId });
    const backupId = backups.body.data[0].id as string;
    const point = points.body.data.find((p: { backupId: string }) => p.backupId === backupId);
    expect(point, JSON.stringify(points.body)).toBeDefined();
    return { log, ref: { backupId, objectId: d.vmRef.value, restorePointId: point.id as string } };
  }

  async function readBack(backend: BlobBackend, ref: { backupId: string; objectId: string; restorePointId: string }, d: PreparedDisk) {
    const store = await openChunkStore(backend, { create: false });
    const rp = await readRestorePoint(store, ref);
    const reader = await openDisk(store, rp, rp.manifest.disks[0]!.key);
    expect(Buffer.from(await reader.read(0, d.content.length)).equals(d.content)).toBe(true);
  }

  beforeAll(async () => {
    vcsim = await startVcsim({ cbt: true });
    disks = await prepareDisks(vcsim, { sizeBytes: 4 * MiB });
    sshd = await startSshd();
    s3 = await startLocalS3(['jobs']);
    root = await mkdtemp(path.join(tmpdir(), 'rampart-jobs-remote-'));
    const uid = Number((await run('id', ['-u', TEST_USER])).stdout.trim());
    const gid = Number((await run('id', ['-g', TEST_USER])).stdout.trim());
    await chown(root, uid, gid);
    await mkdir(path.join(root, 'linux'));
    await chown(path.join(root, 'linux'), uid, gid);

    t = await startTestServer({ RAMPART_PROBE_TIMEOUT_MS: '5000', RAMPART_REPOSITORY_REFRESH_SECONDS: '0', ...(postgresUrl ? { DATABASE_URL: await createTestDatabase() } : {}) });
    token = await t.adminToken();
    backupServerId = (await t.server.store.db.selectFrom('settings').select('value').where('key', '=', 'backup_server_id').executeTakeFirstOrThrow()).value;
    const vcCreds = await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: vcsim.username, password: vcsim.password } });
    await sessionDone('POST', SERVERS, {
      name: '127.0.0.1',
      description: 'vcsim',
      type: 'ViHost',
      credentialsId: vcCreds.body.id,
      port: vcsim.port,
      certificateThumbprint: vcsim.thumbprint,
    });
  }, 120_000);

  afterAll(async () => {
    await t?.cleanup();
    await vcsim?.stop();
    await sshd?.stop();
    await s3?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('backs up into a LinuxLocal repository on a managed Linux host over SFTP; the bytes in its folder read back identical', async () => {
    const creds = await t.api.post('/api/v1/credentials', { token, json: { type: 'Linux', username: TEST_USER, privateKey: sshd.userKey, SSHPort: sshd.port } });
    expect(creds.status, creds.text).toBe(201);
    const probe = await t.api.post('/api/v1/connectionCertificate', { token, json: { serverName: 'localhost', credentialsId: creds.body.id, type: 'LinuxHost', port: sshd.port } });
    expect(probe.status, probe.text).toBe(201);
    // 127.0.0.1 is the vCenter already; the same loopback sshd is managed as "localhost".
    const hostId = await sessionDone('POST', SERVERS, {
      name: 'localhost',
      description: 'repository host',
      type: 'LinuxHost',
      credentialsId: creds.body.id,
      sshFingerprint: probe.body.fingerprint,
    });
    const folder = path.join(root, 'linux', 'repo');
    const repositoryId = await sessionDone('POST', REPOS, {
      type: 'LinuxLocal',
      name: 'Linux repo',
      description: 'on the sshd host',
      hostId,
      repository: { path: folder, maxTaskCount: 2 },
      mountServer: { mountServerId: hostId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
    });
    const { ref } = await backUp('To Linux', repositoryId, disks[0]!);
    // Written by the sshd account (over SFTP), not by this process.
    const owner = (await run('stat', ['-c', '%U', path.join(folder, 'rampart', 'config.json')])).stdout.trim();
    expect(owner).toBe(TEST_USER);
    await readBack(localFolderBackend(folder), ref, disks[0]!);
  }, 120_000);

  it('backs up into an S3Compatible repository; the bytes in the bucket read back identical', async () => {
    const cloud = await t.api.post('/api/v1/cloudCredentials', { token, json: { type: 'Amazon', accessKey: S3_ACCESS_KEY, secretKey: S3_SECRET_KEY, description: 'local s3' } });
    expect(cloud.status, cloud.text).toBe(201);
    const repositoryId = await sessionDone('POST', REPOS, {
      type: 'S3Compatible',
      name: 'Object repo',
      description: 'object',
      account: { servicePoint: s3.endpoint, regionId: 'us-east-1', credentialsId: cloud.body.id, connectionSettings: { connectionType: 'Direct' } },
      bucket: { bucketName: 'jobs', folderName: 'veeam' },
      mountServer: mountServer(),
    });
    const { ref } = await backUp('To S3', repositoryId, disks[1] ?? disks[0]!);
    await readBack(s3Backend(s3.client, 'jobs', 'veeam'), ref, disks[1] ?? disks[0]!);
  }, 120_000);
});
