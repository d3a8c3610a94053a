import type { Selectable } from 'kysely';
import type { BackupObjectsTable, BackupsTable, RestorePointDisksTable, RestorePointsTable } from '../../store/schema.js';
import type { RestorePointRef } from '../../chunkstore/index.js';
import { formatInstant } from '../../http/dates.js';
import { isRevisionAtLeast } from '../../http/api-version.js';

export type BackupRow = Selectable<BackupsTable>;
export type BackupObjectRow = Selectable<BackupObjectsTable>;
export type RestorePointRow = Selectable<RestorePointsTable>;
export type RestorePointDiskRow = Selectable<RestorePointDisksTable>;

/** Veeam's platform id of VMware vSphere backups. */
export const VMWARE_PLATFORM_ID = '00000000-0000-0000-0000-000000000000';

const renamed = (revision?: string) => isRevisionAtLeast(revision, '1.2-rev0');

/**
 * BackupModel. 1.1-rev0 lists `type` as required without defining it: Rampart
 * sends `type: "Backup"` (the job type, the only EJobType of 1.1) so a client
 * validating against that document accepts the reply; 1.2 drops it and renames
 * policyTag to policyUniqueId; 1.3 requires jobType and adds repositoryName.
 */
export function backupModel(row: BackupRow, revision?: string, repositoryName?: string) {
  const base = {
    id: row.id,
    ...(row.job_id ? { jobId: row.job_id } : {}),
    name: row.name,
    platformName: row.platform_name,
    platformId: row.platform_id,
    creationTime: formatInstant(row.creation_time)!,
    repositoryId: row.repository_id,
  };
  if (!renamed(revision)) return { ...base, ...(row.policy_tag ? { policyTag: row.policy_tag } : {}), type: 'Backup' };
  const with12 = { ...base, ...(row.policy_tag ? { policyUniqueId: row.policy_tag } : {}) };
  if (!isRevisionAtLeast(revision, '1.3-rev0')) return with12;
  return { ...with12, ...(repositoryName !== undefined ? { repositoryName } : {}), jobType: 'VSphereBackup' };
}

/** ViBackupObjectModel (platformName VMware). */
export function backupObjectModel(row: BackupObjectRow & { restore_points_count?: number | string | bigint }) {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    platformName: row.platform_name,
    platformId: row.platform_id,
    ...(row.restore_points_count !== undefined ? { restorePointsCount: Number(row.restore_points_count) } : {}),
    objectId: row.object_id,
    viType: row.vi_type,
    path: row.path,
  };
}

/**
 * ObjectRestorePointModel. 1.1-rev0's required list spells the platform
 * `paltformName` (Veeam's typo) while the property is `platformName`: under
 * 1.0/1.1 both keys are sent, so clients written against either spelling (and
 * validators of that document) are served; 1.2 fixed it and gets one key.
 * Restores are not served yet, so no operation is allowed on a point.
 */
export function restorePointModel(row: RestorePointRow, revision?: string) {
  const base = {
    id: row.id,
    name: row.name,
    platformName: row.platform_name,
    platformId: row.platform_id,
    creationTime: formatInstant(row.creation_time)!,
    backupId: row.backup_id,
    allowedOperations: [] as string[],
  };
  if (!renamed(revision)) return { ...base, paltformName: row.platform_name };
  return { ...base, type: row.type, ...(row.session_id ? { sessionId: row.session_id } : {}) };
}

export function restorePointDiskModel(row: RestorePointDiskRow) {
  return { uid: row.uid, type: row.type, name: row.name, capacity: Number(row.capacity), state: row.state };
}

/** The catalogue's location is the chunk store path backup/object/restorePoint. */
export function refOf(location: string): RestorePointRef | undefined {
  const [backupId, objectId, restorePointId, ...rest] = location.split('/');
  return backupId && objectId && restorePointId && rest.length === 0 ? { backupId, objectId, restorePointId } : undefined;
}
