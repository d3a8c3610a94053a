import { localFolderBackend, sftpBackend, type BlobBackend } from '../../chunkstore/index.js';
import { objectTarget, type CheckDeps } from '../repositories/checks.js';
import { settingsOf, type RepositoryRow } from '../repositories/model.js';
import type { RepositoryHost } from '../repositories/hosts.js';
import { valueAt } from '../repositories/settings.js';
import { S3_TYPES } from '../repositories/type-catalogue.js';

/**
 * Which chunk-store backend a repository's data lives behind: the one place
 * that maps a repository row to bytes, so hooks for further kinds (object
 * lock, hardened repositories) land here only.
 *
 *   WinLocal/LinuxLocal on the backup server → a local folder
 *   LinuxLocal on a managed Linux host       → SFTP, logged in as the repository
 *                                              checks do (stored credentials, pinned host key)
 *   S3-compatible kinds                      → the bucket + folder, endpoint and keys
 *                                              resolved as the repository checks resolve them
 */
export async function repositoryBackend(row: RepositoryRow, host: RepositoryHost | undefined, deps: CheckDeps, signal?: AbortSignal): Promise<BlobBackend> {
  const settings = settingsOf(row);
  const type = row.type;
  if (type === 'WinLocal' || type === 'LinuxLocal') {
    const folder = String(valueAt(settings, 'repository.path') ?? row.path ?? '');
    if (!folder) throw new Error(`Repository "${row.name}" has no folder.`);
    if (host?.isBackupServer) return localFolderBackend(folder);
    if (type === 'LinuxLocal' && host) {
      const shell = await deps.hosts.openShell(host.id, signal);
      try {
        const sftp = await shell.sftp();
        return sftpBackend(sftp, folder, { host: host.name, onClose: () => shell.close() });
      } catch (err) {
        shell.close();
        throw err;
      }
    }
  }
  if ((S3_TYPES as readonly string[]).includes(type)) {
    const target = await objectTarget(type, settings, deps.cloudCredentials, deps.endpoints);
    // Loaded on first use: the AWS SDK is large (see checks.ts).
    const { openS3Backend } = await import('../../chunkstore/s3-backend.js');
    return openS3Backend(target, { timeoutMs: Math.max(deps.timeoutMs, 60_000) });
  }
  throw new Error(
    `Repository "${row.name}" (${type}${host ? ` on ${host.name}` : ''}) cannot hold Rampart backups yet: use a folder on the backup server, a Linux host's folder or object storage.`,
  );
}
