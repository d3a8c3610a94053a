import { sessionWaiters, type SessionTarget } from './sessions.js';

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
