import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { exportFrom, importInto } from '../api/automation-support.js';

export const REPOS = '/api/v1/backupInfrastructure/repositories';
export const SOBRS = '/api/v1/backupInfrastructure/scaleOutRepositories';
export const PROXIES = '/api/v1/backupInfrastructure/proxies';

/**
 * A server with something in every list: 5 Linux and 2 Standard credentials, 2 cloud
 * credentials, 3 encryption passwords, 3 local repositories of which 2 are performance extents
 * of one scale-out repository, a proxy on the backup server, an automation session, and the
 * infrastructure sessions all that made.
 */
export interface ListFixture {
  t: TestServer;
  token: string;
  folder: string;
  backupServerId: string;
  extentIds: string[];
  soloId: string;
  sobrId: string;
  /** A session with a log of several records. */
  loggedSessionId: string;
  cleanup(): Promise<void>;
}

export async function startListFixture(env: Record<string, string> = {}): Promise<ListFixture> {
  const t = await startTestServer({ ...env, RAMPART_REPOSITORY_REFRESH_SECONDS: '0' });
  const token = await t.adminToken();
  const folder = await mkdtemp(path.join(tmpdir(), 'rampart-lists-'));
  const backupServerId = (await t.server.store.db.selectFrom('settings').select('value').where('key', '=', 'backup_server_id').executeTakeFirstOrThrow()).value;

  const created = async (url: string, json: unknown) => {
    const res = await t.api.post(url, { token, json });
    expect(res.status, `${url}: ${res.text}`).toBe(201);
    return res.body;
  };
  const session = async (url: string, json: unknown) => {
    const started = await created(url, json);
    await t.server.runner.settled(started.id);
    const done = (await t.api.get(`/api/v1/sessions/${started.id}`, { token })).body;
    expect(done.result.result, `${url}: ${JSON.stringify(done)}`).toBe('Success');
    return done as { id: string; resourceId: string };
  };

  for (let i = 1; i <= 5; i++) await created('/api/v1/credentials', { type: 'Linux', username: `lin-${i}`, password: `Linux-secret-${i}`, description: `linux ${i}` });
  for (let i = 1; i <= 2; i++) await created('/api/v1/credentials', { type: 'Standard', username: `std-${i}`, password: `Std-secret-${i}`, description: `standard ${i}` });
  for (let i = 1; i <= 2; i++)
    await created('/api/v1/cloudCredentials', { type: 'Amazon', accessKey: `AKIAEXAMPLE000${i}`, secretKey: `aws/Secret+Key/000${i}`, description: `s3 ${i}` });
  for (const hint of ['alpha hint', 'beta hint', 'gamma hint']) await created('/api/v1/encryptionPasswords', { password: `pw-${hint}`, hint });

  const linuxLocal = (name: string) => ({
    type: 'LinuxLocal',
    name,
    description: `${name} repo`,
    hostId: backupServerId,
    repository: { path: path.join(folder, name), taskLimitEnabled: true, maxTaskCount: 4 },
    mountServer: { mountServerId: backupServerId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
  });
  const extentIds: string[] = [];
  for (const name of ['extent-1', 'extent-2']) extentIds.push((await session(REPOS, linuxLocal(name))).resourceId);
  const solo = await session(REPOS, linuxLocal('solo'));
  const sobr = await session(SOBRS, {
    name: 'SOBR Main',
    description: 'two performance extents',
    performanceTier: { performanceExtents: extentIds.map((id) => ({ id })) },
    placementPolicy: { type: 'DataLocality' },
  });
  await session(PROXIES, { description: 'local proxy', type: 'ViProxy', server: { hostId: backupServerId } });

  // An automation session: a dry-run import of the credentials just made.
  await importInto(t, token, 'credentials', await exportFrom(t, token, 'credentials'), '?dryRun=true');

  return {
    t,
    token,
    folder,
    backupServerId,
    extentIds,
    soloId: solo.resourceId,
    sobrId: sobr.resourceId,
    loggedSessionId: solo.id,
    cleanup: async () => {
      await t.cleanup();
      await rm(folder, { recursive: true, force: true });
    },
  };
}
