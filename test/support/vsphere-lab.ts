import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { createTestDatabase, postgresUrl } from './postgres.js';
import { startTestServer, type TestServer } from './server.js';
import { sessionWaiters } from './sessions.js';
import { prepareDisks, startVcsim, type PreparedDisk, type Vcsim, type VcsimOptions } from './vcsim.js';

export interface VsphereLab {
  vcsim: Vcsim;
  disks: PreparedDisk[];
  /** A temporary folder; the repository is `<root>/repo`. */
  root: string;
  /** The test's own PostgreSQL database when RAMPART_TEST_DATABASE_URL is set (a restart reuses it). */
  databaseUrl?: string;
  t: TestServer;
  token: string;
  backupServerId: string;
  repositoryId: string;
}

/**
 * What the job tests start from, set up through the API as a user would: vcsim with
 * prepared disks, Rampart (on PostgreSQL when the suite has one), the simulator added as a
 * ViHost managed server, and a LinuxLocal repository in a folder of the backup server.
 * The caller stops `t`, `vcsim` and removes `root` in its afterAll.
 */
export async function startVsphereLab(options: {
  name: string;
  diskBytes: number;
  env?: Record<string, string>;
  repository?: Record<string, unknown>;
  vcsim?: VcsimOptions;
}): Promise<VsphereLab> {
  const vcsim = await startVcsim(options.vcsim);
  const disks = await prepareDisks(vcsim, { sizeBytes: options.diskBytes });
  const root = await mkdtemp(path.join(tmpdir(), `rampart-${options.name}-`));
  const databaseUrl = postgresUrl ? await createTestDatabase() : undefined;
  const t = await startTestServer({ ...options.env, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) });
  const token = await t.adminToken();
  const { sessionDone } = sessionWaiters(() => ({ t, token }));
  const creds = await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: vcsim.username, password: vcsim.password } });
  expect(creds.status, creds.text).toBe(201);
  await sessionDone('/api/v1/backupInfrastructure/managedServers', {
    name: '127.0.0.1',
    description: 'vcsim',
    type: 'ViHost',
    credentialsId: creds.body.id,
    port: vcsim.port,
    certificateThumbprint: vcsim.thumbprint,
  });
  const backupServerId = (await t.server.store.db.selectFrom('settings').select('value').where('key', '=', 'backup_server_id').executeTakeFirstOrThrow()).value;
  const repositoryId = await sessionDone('/api/v1/backupInfrastructure/repositories', {
    type: 'LinuxLocal',
    name: 'Local',
    description: '',
    hostId: backupServerId,
    repository: { path: path.join(root, 'repo'), ...options.repository },
    mountServer: { mountServerId: backupServerId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
  });
  return { vcsim, disks, root, databaseUrl, t, token, backupServerId, repositoryId };
}
