import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createTestDatabase, postgresUrl } from '../support/postgres.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, startLocalS3, type LocalS3 } from '../support/s3.js';
import { exportFrom, importInto } from './automation-support.js';

const PASSPHRASE = 'correct horse battery staple';
const SEAL = { 'x-rampart-seal-passphrase': PASSPHRASE };
const REPOS = '/api/v1/backupInfrastructure/repositories';

const dialects: [string, () => Promise<Record<string, string>>][] = [['sqlite', async () => ({})]];
if (postgresUrl) dialects.push(['postgres', async () => ({ DATABASE_URL: await createTestDatabase() })]);

describe.each(dialects)('automation of repositories on %s', (_kind, env) => {
  let s3: LocalS3;
  let a: TestServer;
  let b: TestServer;
  let tokenA: string;
  let tokenB: string;
  let root: string;
  let backupServerName: string;

  const settings = { RAMPART_REPOSITORY_REFRESH_SECONDS: '0', RAMPART_REPOSITORY_TIMEOUT_MS: '3000' };

  /** A 201 + session route, waited for. */
  async function added(t: TestServer, token: string, json: unknown) {
    const res = await t.api.post(REPOS, { token, json });
    expect(res.status, res.text).toBe(201);
    await t.server.runner.settled(res.body.id);
    const done = (await t.api.get(`/api/v1/sessions/${res.body.id}`, { token })).body;
    expect(done.result.result, JSON.stringify(done.result)).toBe('Success');
  }

  beforeAll(async () => {
    s3 = await startLocalS3(['moved']);
    [a, b] = await Promise.all([startTestServer({ ...(await env()), ...settings }), startTestServer({ ...(await env()), ...settings })]);
    [tokenA, tokenB] = await Promise.all([a.adminToken(), b.adminToken()]);
    root = await mkdtemp(path.join(tmpdir(), 'rampart-repo-auto-'));
    const backupId = (await a.server.store.db.selectFrom('settings').select('value').where('key', '=', 'backup_server_id').executeTakeFirstOrThrow()).value;
    backupServerName = (await a.api.get(`/api/v1/backupInfrastructure/managedServers/${backupId}`, { token: tokenA })).body.name;
    const mountServer = { mountServerId: backupId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false };
    const cloud = await a.api.post('/api/v1/cloudCredentials', {
      token: tokenA,
      json: { type: 'Amazon', accessKey: S3_ACCESS_KEY, secretKey: S3_SECRET_KEY, description: 'local s3', uniqueId: 's3-key' },
    });
    expect(cloud.status, cloud.text).toBe(201);
    for (const [i, extra] of [{}, { taskLimitEnabled: true, maxTaskCount: 4 }, { readWriteLimitEnabled: true, readWriteRate: 100 }].entries()) {
      await added(a, tokenA, {
        type: 'LinuxLocal',
        name: `local-${i}`,
        description: `folder ${i}`,
        tag: `tag-${i}`,
        hostId: backupId,
        repository: { path: path.join(root, `repo-${i}`), ...extra },
        mountServer,
      });
    }
    await added(a, tokenA, {
      type: 'S3Compatible',
      name: 'object',
      description: 'on the local S3',
      account: { servicePoint: s3.endpoint, regionId: 'us-east-1', credentialsId: cloud.body.id, connectionSettings: { connectionType: 'Direct' } },
      bucket: { bucketName: 'moved', folderName: 'veeam' },
      mountServer,
    });
  });
  afterAll(async () => {
    await Promise.all([a?.cleanup(), b?.cleanup(), s3?.stop()]);
    await rm(root, { recursive: true, force: true });
  });

  it('exports the documented collection: PascalCase keys, no ids, references by name', async () => {
    const out = await exportFrom(a, tokenA, 'repositories');
    expect(Object.keys(out).sort()).toEqual(
      [
        'WindowsLocalRepositories',
        'LinuxLocalRepositories',
        'SmbRepositories',
        'NfsRepositories',
        'AzureBlobStorages',
        'AzureDataBoxStorages',
        'AmazonS3Storages',
        'AmazonSnowballEdgeStorages',
        'S3CompatibleStorages',
        'GoogleCloudStorages',
        'IBMCloudStorages',
        'AmazonS3GlacierStorages',
        'AzureArchiveStorages',
        'WasabiCloudStorages',
        'LinuxHardenedRepositories',
      ].sort(),
    );
    expect(out.LinuxLocalRepositories).toHaveLength(3);
    expect(out.LinuxLocalRepositories[1]).toEqual({
      name: 'local-1',
      description: 'folder 1',
      tag: 'tag-1',
      // 1.1-rev0 requires kind on folder kinds; 1.2-rev1 and later spell the tag uniqueId (and have no kind).
      kind: 'LocalStorage',
      type: 'LinuxLocal',
      hostName: backupServerName,
      repository: { path: path.join(root, 'repo-1'), enableTaskLimit: true, maxTaskCount: 4 },
      mountServer: { mountServerName: backupServerName, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
    });
    expect(out.S3CompatibleStorages).toEqual([
      expect.objectContaining({
        name: 'object',
        account: {
          servicePoint: s3.endpoint,
          regionId: 'us-east-1',
          credentials: { name: S3_ACCESS_KEY, tag: 's3-key', type: 'Amazon' },
          connectionSettings: { connectionType: 'Direct' },
        },
      }),
    ]);
    expect(JSON.stringify(out)).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-|(server|credentials|host)Ids?"|secret/i);
    const filtered = await exportFrom(a, tokenA, 'repositories', { types: ['S3Compatible'] });
    expect(filtered.LinuxLocalRepositories).toEqual([]);
    expect((await exportFrom(a, tokenA, 'repositories', { names: ['local-*'] })).LinuxLocalRepositories).toHaveLength(3);
  });

  it('an unresolved cloud credentials or mount server reference is skipped with a Warning naming it', async () => {
    const out = await exportFrom(a, tokenA, 'repositories');
    const orphan = { ...out.LinuxLocalRepositories[0], name: 'orphan', mountServer: { ...out.LinuxLocalRepositories[0].mountServer, mountServerName: 'nowhere' } };
    // Server B has no cloud credentials yet: the S3 repository's reference cannot resolve.
    const res = await importInto(b, tokenB, 'repositories', { LinuxLocalRepositories: [orphan], S3CompatibleStorages: out.S3CompatibleStorages });
    expect(res.session.result.result).toBe('Warning');
    const titles = res.log.map((r) => `${r.status}: ${r.title}`);
    expect(titles).toContain('Warning: Skipped LinuxLocal repository "orphan": missing mount server "nowhere"');
    expect(titles).toContain(`Warning: Skipped S3Compatible repository "object": missing Amazon cloud credentials "${S3_ACCESS_KEY}" (tag "s3-key")`);
    expect((await b.api.get(REPOS, { token: tokenB })).body.data).toEqual([]);
  });

  it('malformed collections are a 400 before anything is touched', async () => {
    const out = await exportFrom(a, tokenA, 'repositories');
    const bad = [
      { LinuxLocalRepos: out.LinuxLocalRepositories },
      { LinuxLocalRepositories: [{ ...out.LinuxLocalRepositories[0], type: 'WinLocal' }] },
      { S3CompatibleStorages: [{ ...out.S3CompatibleStorages[0], account: { ...out.S3CompatibleStorages[0].account, connectionSettings: { connectionType: 'Carrier pigeon' } } }] },
      { LinuxLocalRepositories: [{ ...out.LinuxLocalRepositories[0], hostId: 'x' }] },
    ];
    for (const json of bad) {
      const res = await b.api.post('/api/v1/automation/repositories/import', { token: tokenB, json });
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(res.body).toMatchObject({ errorCode: expect.any(String), message: expect.any(String) });
    }
    expect((await b.api.get(REPOS, { token: tokenB })).body.data).toEqual([]);
  });

  it('round trip into a fresh server: sealed cloud credentials first, then the repositories with their storage checks in the import log', async () => {
    const cloud = await exportFrom(a, tokenA, 'cloudcredentials', {}, '?seal=true', SEAL);
    expect((await importInto(b, tokenB, 'cloudcredentials', cloud, '', SEAL)).session.result.result).toBe('Success');

    const exported = await exportFrom(a, tokenA, 'repositories');
    const dry = await importInto(b, tokenB, 'repositories', exported, '?dryRun=true');
    expect(dry.log.map((r) => r.title)).toContain('Would create LinuxLocal repository "local-0"');
    expect((await b.api.get(REPOS, { token: tokenB })).body.data).toEqual([]);

    const imported = await importInto(b, tokenB, 'repositories', exported);
    const titles = imported.log.map((r) => `${r.status}: ${r.title}`);
    expect(imported.session.result.result, titles.join('\n')).toBe('Success');
    // The same checks as adding by hand, step by step in the import session.
    expect(titles).toContain('Succeeded: Adding LinuxLocal repository "local-2"');
    expect(titles).toContain('Succeeded: Adding S3Compatible repository "object"');
    expect(titles.filter((x) => x.startsWith('Succeeded: Repository "') && x.endsWith('" saved'))).toHaveLength(4);
    // Same machine: server A created the folders, server B finds them, writes a probe and measures.
    expect(titles).toContain(`Succeeded: Folder ${path.join(root, 'repo-2')} exists`);
    expect(titles).toContain(`Succeeded: Wrote, read back and deleted a probe file in ${path.join(root, 'repo-2')}`);
    expect(titles).toContain('Succeeded: Bucket "moved" exists and the credentials are accepted');
    expect(titles).toContain('Succeeded: Wrote, read back and deleted a probe object');

    expect(await exportFrom(b, tokenB, 'repositories')).toEqual(exported);

    // Again: everything exists now, so the default skips each one.
    const again = await importInto(b, tokenB, 'repositories', exported);
    expect(again.log.filter((r) => r.title.endsWith('it already exists'))).toHaveLength(4);
    // Overwrite re-runs the checks and keeps the same repositories.
    const over = await importInto(b, tokenB, 'repositories', exported, '?onConflict=overwrite');
    expect(over.session.result.result).toBe('Success');
    expect(over.log.map((r) => r.title)).toContain('Editing LinuxLocal repository "local-0"');
    expect((await b.api.get(REPOS, { token: tokenB })).body.data).toHaveLength(4);
  });
});
