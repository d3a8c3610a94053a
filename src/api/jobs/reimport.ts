import { listRestorePoints } from '../../chunkstore/index.js';
import type { BackupsService } from '../backups/service.js';
import type { EncryptionPasswordsService } from '../encryption-passwords/service.js';
import type { RepositoriesService } from '../repositories/service.js';
import { openRepositoryById } from './run.js';

type Obj = Record<string, unknown>;

/**
 * Repository rescan → catalogue: every restore point whose manifest is in the
 * repository and not in the database is recorded again (a lost database is
 * recovered by rescanning). Encrypted points open with any stored encryption
 * password; those none opens are counted and left out.
 */
export function backupReimport(deps: { repositories: RepositoriesService; backups: BackupsService; encryptionPasswords: EncryptionPasswordsService }) {
  return async (repositoryId: string): Promise<string | undefined> => {
    const store = await openRepositoryById(deps, repositoryId, false).catch(() => undefined);
    // Not a folder Rampart can open as a chunk store (or none written yet): nothing to import.
    if (!store) return undefined;
    try {
      const passwords = await deps.encryptionPasswords.allPasswords();
      const listed = await listRestorePoints(store, { passwords });
      let imported = 0;
      let unreadable = 0;
      for (const point of listed) {
        if (await deps.backups.getRestorePoint(point.restorePointId).catch(() => undefined)) continue;
        if (!point.manifest) {
          unreadable++;
          continue;
        }
        const job = (point.manifest.job ?? {}) as Obj;
        const object = (point.manifest.object ?? {}) as Obj;
        await deps.backups.recordRestorePoint({
          backup: { id: point.backupId, jobId: typeof job.id === 'string' ? job.id : null, name: String(job.name ?? point.backupId), repositoryId },
          object: { objectId: point.objectId, name: String(object.name ?? point.objectId), path: String(object.name ?? point.objectId) },
          restorePoint: {
            id: point.restorePointId,
            creationTime: point.manifest.createdAt,
            type: point.manifest.kind,
            sessionId: null,
            location: `${point.backupId}/${point.objectId}/${point.restorePointId}`,
          },
          disks: point.manifest.disks.map((d) => ({
            uid: d.uid || d.key,
            name: d.name,
            capacity: d.capacity,
            stats: { key: d.key, chunks: d.chunks, zeroChunks: d.zeroChunks, newChunks: d.newChunks, bytesStored: d.storedBytes },
          })),
        });
        imported++;
      }
      if (imported === 0 && unreadable === 0) return undefined;
      return `${imported} restore point(s) re-imported from the repository${unreadable ? `; ${unreadable} encrypted with a password this server does not hold` : ''}`;
    } finally {
      await store.backend.close().catch(() => undefined);
    }
  };
}
