/**
 * Backup files (GET /api/v1/backups/{id}/backupFiles, 1.2 and later). Rampart's
 * chunk store has no .vbk/.vib files: the "file" of a restore point is its
 * manifest with the disk indexes beside it (docs/repository-format.md), so a
 * backup has one backup file per restore point, with the same id. Sizes come
 * from what the run recorded per disk (restore_point_disks.stats), the GFS
 * flags from gfs.json beside the manifest (docs/jobs.md, "Backup files").
 */
import { manifestKey, readGfsPeriods, type ChunkStore } from '../../chunkstore/index.js';
import { ApiError } from '../../http/errors.js';
import { refOf } from './model.js';
import type { BackupsService } from './service.js';

export const BACKUP_FILE_GFS_PERIODS = ['None', 'Weekly', 'Monthly', 'Quarterly', 'Yearly'] as const;
export type BackupFileGfsPeriod = (typeof BACKUP_FILE_GFS_PERIODS)[number];

export interface BackupFile {
  id: string;
  name: string;
  backupId: string;
  objectId: string;
  restorePointId: string;
  /** The disks' logical size (their capacity). */
  dataSize: number;
  /** Bytes of the new chunks this restore point stored (compressed, encrypted blobs as written). */
  backupSize: number;
  /** Percent of the data left after deduplication (zero and already-stored chunks removed); 100 = nothing deduplicated. */
  dedupRatio: number;
  /** Percent of the deduplicated data left after compression; 100 = nothing saved. */
  compressRatio: number;
  creationTime: string;
  gfsPeriods: BackupFileGfsPeriod[];
}

interface DiskStats {
  chunks?: number;
  newChunks?: number;
  bytesStored?: number;
}

function statsOf(json: string): DiskStats {
  try {
    const v = JSON.parse(json) as DiskStats;
    return typeof v === 'object' && v !== null ? v : {};
  } catch {
    return {};
  }
}

const percent = (part: number, whole: number) => (whole > 0 ? Math.round((100 * part) / whole) : 100);

export class BackupFiles {
  constructor(private readonly deps: { backups: BackupsService; openRepository(repositoryId: string): Promise<ChunkStore> }) {}

  /** Every backup file of a backup (404 for an unknown backup; 503 when its repository, which holds the GFS flags, cannot be read). */
  async list(backupId: string): Promise<BackupFile[]> {
    const backup = await this.deps.backups.getBackup(backupId);
    const points = await this.deps.backups.restorePointsOfBackup(backup.id);
    const disks = await this.deps.backups.disksOfBackup(backup.id);
    let store: ChunkStore;
    try {
      store = await this.deps.openRepository(backup.repository_id);
    } catch (err) {
      throw new ApiError(503, 'ServiceUnavailable', `The repository of backup "${backup.name}" cannot be reached to read its backup files: ${(err as Error).message}`, backup.id);
    }
    try {
      const files: BackupFile[] = [];
      for (const point of points) {
        const ref = refOf(point.location);
        let dataSize = 0;
        let newData = 0;
        let backupSize = 0;
        for (const disk of disks.filter((d) => d.restore_point_id === point.id)) {
          const capacity = Number(disk.capacity);
          const stats = statsOf(disk.stats);
          dataSize += capacity;
          backupSize += stats.bytesStored ?? 0;
          // Logical bytes of the new chunks: all chunks but the last are full, so this is exact up to one partial chunk.
          if (stats.chunks) newData += Math.min(capacity, ((stats.newChunks ?? 0) / stats.chunks) * capacity);
        }
        const periods = ref ? await readGfsPeriods(store, ref) : [];
        files.push({
          id: point.id,
          name: ref ? manifestKey(ref) : point.location,
          backupId: backup.id,
          objectId: point.backup_object_id,
          restorePointId: point.id,
          dataSize,
          backupSize,
          dedupRatio: percent(newData, dataSize),
          compressRatio: percent(backupSize, newData),
          creationTime: point.creation_time,
          gfsPeriods: periods.length > 0 ? periods : ['None'],
        });
      }
      return files;
    } finally {
      await store.backend.close().catch(() => undefined);
    }
  }

  async get(backupId: string, fileId: string): Promise<BackupFile> {
    const file = (await this.list(backupId)).find((f) => f.id === fileId.toLowerCase());
    if (!file) throw new ApiError(404, 'NotFound', `Backup ${backupId} has no backup file ${fileId}.`, fileId);
    return file;
  }
}
