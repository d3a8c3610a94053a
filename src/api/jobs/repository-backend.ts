import { localFolderBackend, openSmbBackend, sftpBackend, type BlobBackend } from '../../chunkstore/index.js';
import { objectTarget, type CheckDeps } from '../repositories/checks.js';
import { settingsOf, type RepositoryRow } from '../repositories/model.js';
import type { RepositoryHost } from '../repositories/hosts.js';
import { valueAt } from '../repositories/settings.js';
import { smbTarget } from '../repositories/smb.js';
import { S3_TYPES } from '../repositories/type-catalogue.js';
import { hardenedBackend } from '../../chunkstore/hardened-backend.js';
import { openNfsBackend } from '../../chunkstore/nfs-backend.js';
import { immutableDaysOf, isServiceHosted, missingAccess } from '../repositories/hardened.js';

/**
 * Which chunk-store backend a repository's data lives behind: the one place
 * that maps a repository row to bytes, so hooks for further kinds (object
 * lock, hardened repositories) land here only.
 *
 *   WinLocal/LinuxLocal on the backup server → a local folder
 *   LinuxLocal on a managed Linux host       → SFTP, logged in as the repository
 *                                              checks do (stored credentials, pinned host key)
 *   LinuxHardened on a managed Linux host    → its transport service (mutual TLS, pinned both
 *                                              ways); chunks, indexes, manifests immutable for the
 *                                              repository's makeRecentBackupsImmutableDays
 *   Smb                                      → the share path's folder, through Rampart's
 *                                              user-space SMB2 client, logged in with the
 *                                              share's Standard credentials
 *   S3-compatible kinds                      → the bucket + folder, endpoint and keys
 *                                              resolved as the repository checks resolve them;
 *                                              with bucket.immutability on, COMPLIANCE object lock
 *   Nfs                                      → the export folder share.sharePath through Rampart's
 *                                              own NFSv3 client (src/storage/nfs), AUTH_SYS as
 *                                              RAMPART_NFS_UID/GID (root by default)
 */
export async function repositoryBackend(row: RepositoryRow, host: RepositoryHost | undefined, deps: CheckDeps, signal?: AbortSignal): Promise<BlobBackend> {
  const settings = settingsOf(row);
  const type = row.type;
  const immutableDays = immutableDaysOf(type, settings, deps.immutability.secondsOverride);
  if (isServiceHosted(type, host)) {
    const access = await deps.immutability.accessOf(row.id);
    if (!access) throw missingAccess(row.name);
    return hardenedBackend(access, { immutableDays: immutableDays ?? 7, timeoutMs: Math.max(deps.timeoutMs, 60_000) });
  }
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
    return openS3Backend(target, { timeoutMs: Math.max(deps.timeoutMs, 60_000), ...(immutableDays !== undefined ? { immutableDays } : {}) });
  }
  if (type === 'Smb') {
    const target = await smbTarget(settings, deps.credentials);
    return openSmbBackend(target, { timeoutMs: Math.max(deps.timeoutMs, 60_000) });
  }
  if (type === 'Nfs')
    return openNfsBackend(String(valueAt(settings, 'share.sharePath')), {
      timeoutMs: Math.max(deps.timeoutMs, 60_000),
      ...(deps.nfsIdentity ? { credentials: deps.nfsIdentity } : {}),
      ...(signal ? { signal } : {}),
    });
  if (type === 'LinuxHardened')
    throw new Error(
      `Hardened repository "${row.name}" is on the backup server itself: immutability needs its own host running Rampart's transport service, installed with single-use credentials (docs/immutability.md). Use a managed Linux host.`,
    );
  throw new Error(
    `Repository "${row.name}" (${type}${host ? ` on ${host.name}` : ''}) cannot hold Rampart backups yet: use a folder on the backup server, a Linux host's folder, an SMB share, an NFS export or object storage.`,
  );
}
