import type { TestServer } from './server.js';
import { apiOf, sessionWaiters, type SessionTarget } from './sessions.js';

/** The backup server's own id (the managed server that is this machine), read through the API as a client finds it. */
export async function backupServerIdOf(target: SessionTarget): Promise<string> {
  const servers = await apiOf(target).get('/api/v1/backupInfrastructure/managedServers?typeFilter=LinuxHost', { token: target.token });
  return servers.body.data.find((s: { description: string }) => s.description === 'Backup server (this machine)').id as string;
}

/**
 * Adds a LinuxLocal repository in `folder` of the backup server, through the API, and waits
 * for its session to succeed; `settings` go into its `repository` part. Answers its id.
 */
export function addLocalRepository(
  target: SessionTarget,
  backupServerId: string,
  folder: string,
  settings: Record<string, unknown> = {},
  naming: { name?: string; description?: string } = {},
): Promise<string> {
  return sessionWaiters(() => target).sessionDone('/api/v1/backupInfrastructure/repositories', {
    type: 'LinuxLocal',
    name: naming.name ?? 'Local',
    description: naming.description ?? '',
    hostId: backupServerId,
    repository: { path: folder, ...settings },
    mountServer: { mountServerId: backupServerId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
  });
}

/** Forgets the catalogue (backups, their objects, restore points and disks) as a lost database would; the repositories' data stays. */
export async function forgetCatalogue(t: TestServer): Promise<void> {
  const db = t.server.store.db;
  await db.deleteFrom('restore_point_disks').execute();
  await db.deleteFrom('restore_points').execute();
  await db.deleteFrom('backup_objects').execute();
  await db.deleteFrom('backups').execute();
}

/** Rescans `repositoryId` through the API (1.2-rev1), expects its session to succeed, and answers the session's log. */
export async function rescanRepository(target: SessionTarget, repositoryId: string): Promise<string> {
  const waiters = sessionWaiters(() => target);
  const session = await waiters.runSession('POST', '/api/v1/backupInfrastructure/repositories/rescan', { repositoryIds: [repositoryId] }, '1.2-rev1');
  return waiters.logText(session.id);
}
