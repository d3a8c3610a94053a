import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { createTestDatabase, postgresUrl } from './postgres.js';
import { addLocalRepository } from './repositories.js';
import { startTestServer, type TestServer } from './server.js';
import { apiOf, sessionWaiters, type SessionTarget } from './sessions.js';
import { prepareDisks, startVcsim, type PreparedDisk, type Vcsim, type VcsimOptions } from './vcsim.js';

export interface VsphereServerLab {
  vcsim: Vcsim;
  disks: PreparedDisk[];
  /** A temporary folder; the repository (when one is made) is `<root>/repo`. */
  root: string;
  /** The test's own PostgreSQL database when RAMPART_TEST_DATABASE_URL is set (a restart reuses it). */
  databaseUrl?: string;
  t: TestServer;
  /** The environment the server was started with (its database included): what a restart of it is given. */
  env: Record<string, string>;
  token: string;
  backupServerId: string;
}

export interface VsphereLab extends VsphereServerLab {
  repositoryId: string;
}

export interface VsphereLabOptions {
  /** Names the temporary folder. */
  name: string;
  diskBytes: number;
  /** The disks' bytes (prepareDisks' default when absent). */
  diskContent?: (vm: string, key: number, size: number) => Buffer;
  vcsim?: VcsimOptions;
  env?: Record<string, string>;
  /** Stay on SQLite even when the suite has PostgreSQL (a test that reads the database file). */
  sqlite?: boolean;
}

/**
 * Adds the simulator as a ViHost managed server (its credentials first), as a user would;
 * `via` names another port that reaches it (a relay the test controls) and the description saying so.
 */
export async function addVcsimHost(target: SessionTarget, vcsim: Vcsim, via: { port: number; description: string } = { port: vcsim.port, description: 'vcsim' }): Promise<string> {
  const creds = await apiOf(target).post('/api/v1/credentials', { token: target.token, json: { type: 'Standard', username: vcsim.username, password: vcsim.password } });
  expect(creds.status, creds.text).toBe(201);
  return sessionWaiters(() => target).sessionDone('/api/v1/backupInfrastructure/managedServers', {
    name: '127.0.0.1',
    description: via.description,
    type: 'ViHost',
    credentialsId: creds.body.id,
    port: via.port,
    certificateThumbprint: vcsim.thumbprint,
  });
}

/**
 * Stops what startVsphereServer/startVsphereLab started (for a test file's afterAll): the
 * server, the simulator, the temporary folder. Parts that never started (a failed beforeAll) are skipped.
 */
export async function stopVsphereLab(lab: Partial<Pick<VsphereServerLab, 't' | 'vcsim' | 'root'>> | undefined): Promise<void> {
  await lab?.t?.cleanup();
  await lab?.vcsim?.stop();
  if (lab?.root) await rm(lab.root, { recursive: true, force: true });
}

/**
 * vcsim with prepared disks, Rampart (on PostgreSQL when the suite has one, unless
 * `sqlite`) and the simulator added as a ViHost managed server, through the API.
 * The caller stops `t`, `vcsim` and removes `root` in its afterAll.
 */
export async function startVsphereServer(options: VsphereLabOptions): Promise<VsphereServerLab> {
  const vcsim = await startVcsim(options.vcsim);
  let root: string | undefined;
  let t: TestServer | undefined;
  try {
    const disks = await prepareDisks(vcsim, { sizeBytes: options.diskBytes, content: options.diskContent });
    root = await mkdtemp(path.join(tmpdir(), `rampart-${options.name}-`));
    const databaseUrl = postgresUrl && !options.sqlite ? await createTestDatabase() : undefined;
    const env = { ...options.env, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
    t = await startTestServer(env);
    const token = await t.adminToken();
    await addVcsimHost({ t, token }, vcsim);
    const backupServerId = (await t.server.store.db.selectFrom('settings').select('value').where('key', '=', 'backup_server_id').executeTakeFirstOrThrow()).value;
    return { vcsim, disks, root, databaseUrl, t, env, token, backupServerId };
  } catch (err) {
    // The caller never gets the lab, so its afterAll cannot stop what was started.
    await t?.cleanup();
    await vcsim.stop();
    if (root) await rm(root, { recursive: true, force: true });
    throw err;
  }
}

/**
 * What the job and restore tests start from: startVsphereServer plus a LinuxLocal
 * repository in `<root>/repo` (`repository` settings merged into its `repository` part).
 */
export async function startVsphereLab(options: VsphereLabOptions & { repository?: Record<string, unknown> }): Promise<VsphereLab> {
  const lab = await startVsphereServer(options);
  try {
    const repositoryId = await addLocalRepository(lab, lab.backupServerId, path.join(lab.root, 'repo'), options.repository);
    return { ...lab, repositoryId };
  } catch (err) {
    await lab.t.cleanup();
    await lab.vcsim.stop();
    await rm(lab.root, { recursive: true, force: true });
    throw err;
  }
}
