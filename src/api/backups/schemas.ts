import { Type } from 'typebox';
import { PaginationSchema, StringOrList, listQuerySchema, stringEnum } from '../../http/paging.js';

/** EPlatformType of 1.1-rev0 and 1.2-rev1 together (filters from either revision are accepted). */
export const PLATFORM_NAMES = [
  'VMware',
  'HyperV',
  'Vcd',
  'CloudDirector',
  'WindowsPhysical',
  'LinuxPhysical',
  'Tape',
  'NasBackup',
  'CustomPlatform',
  'EntraID',
  'UnstructuredData',
  'Test',
] as const;
export const MALWARE_STATUSES = ['Clean', 'Suspicious', 'Infected'] as const;

export const BACKUP_ORDER_COLUMNS = { Name: 'name_key', CreationTime: 'creation_time', PlatformId: 'platform_id', JobId: 'job_id', PolicyTag: 'policy_tag' } as const;
export const OBJECT_ORDER_COLUMNS = { Name: 'name_key', ObjectId: 'object_id', PlatformId: 'platform_id', Type: 'type' } as const;
export const RESTORE_POINT_ORDER_COLUMNS = { CreationTime: 'creation_time', PlatformId: 'platform_id', BackupId: 'backup_id' } as const;

const date = () => Type.Optional(Type.String({ maxLength: 64 }));
const id = () => Type.Optional(Type.String({ format: 'uuid' }));

export const BackupsQuery = listQuerySchema(Object.keys(BACKUP_ORDER_COLUMNS) as (keyof typeof BACKUP_ORDER_COLUMNS)[], {
  createdAfterFilter: date(),
  createdBeforeFilter: date(),
  platformIdFilter: id(),
  jobIdFilter: id(),
  policyTagFilter: Type.Optional(Type.String({ maxLength: 256 })),
});

export const BackupObjectsQuery = listQuerySchema(Object.keys(OBJECT_ORDER_COLUMNS) as (keyof typeof OBJECT_ORDER_COLUMNS)[], {
  platformNameFilter: Type.Optional(StringOrList),
  platformIdFilter: id(),
  typeFilter: Type.Optional(Type.String({ maxLength: 64 })),
  viTypeFilter: Type.Optional(Type.String({ maxLength: 64 })),
});

export const RestorePointsQuery = listQuerySchema(Object.keys(RESTORE_POINT_ORDER_COLUMNS) as (keyof typeof RESTORE_POINT_ORDER_COLUMNS)[], {
  createdAfterFilter: date(),
  createdBeforeFilter: date(),
  platformNameFilter: Type.Optional(StringOrList),
  platformIdFilter: id(),
  backupIdFilter: id(),
  backupObjectIdFilter: id(),
  malwareStatusFilter: Type.Optional(StringOrList),
});

/** The models differ per revision (backups/model.ts); the schemas here name the fields every revision shares. */
export const BackupModel = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    platformName: Type.String(),
    platformId: Type.String({ format: 'uuid' }),
    creationTime: Type.String({ format: 'date-time' }),
    repositoryId: Type.String({ format: 'uuid' }),
  },
  { additionalProperties: true },
);
export const BackupObjectModel = Type.Object({ id: Type.String({ format: 'uuid' }), platformName: Type.String() }, { additionalProperties: true });
export const RestorePointModel = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    platformId: Type.String({ format: 'uuid' }),
    creationTime: Type.String({ format: 'date-time' }),
    backupId: Type.String({ format: 'uuid' }),
    allowedOperations: Type.Array(Type.String()),
  },
  { additionalProperties: true },
);
export const RestorePointDiskModel = Type.Object(
  { uid: Type.String(), type: Type.String(), name: Type.String(), capacity: Type.Integer(), state: Type.String() },
  { additionalProperties: false },
);

export const BackupsResult = Type.Object({ data: Type.Array(BackupModel), pagination: PaginationSchema });
export const BackupObjectsResult = Type.Object({ data: Type.Array(BackupObjectModel), pagination: PaginationSchema });
export const RestorePointsResult = Type.Object({ data: Type.Array(RestorePointModel), pagination: PaginationSchema });
export const RestorePointDisksResult = Type.Object({ data: Type.Array(RestorePointDiskModel), pagination: PaginationSchema });

/** DELETE /api/v1/backups/{id} (1.2-rev1): fromDB removes it from the configuration only; includeGFS and fromDBIfSPUnavailable are accepted (no GFS points or scale-out service providers here). */
export const DeleteBackupQuery = Type.Object({
  fromDB: Type.Optional(Type.Boolean()),
  fromDBIfSPUnavailable: Type.Optional(Type.Boolean()),
  includeGFS: Type.Optional(Type.Boolean()),
});

/** DELETE /api/v1/backups/{id}/objects/{objectId} (1.3-rev0). */
export const BackupObjectParams = Type.Object({
  id: Type.String({ format: 'uuid', description: 'Backup ID.' }),
  objectId: Type.String({ format: 'uuid', description: 'Backup object ID.' }),
});
export const DeleteBackupObjectQuery = Type.Object({
  fromDBIfSPUnavailable: Type.Optional(Type.Boolean()),
  includeGFS: Type.Optional(Type.Boolean({ description: 'Also delete the restore points GFS flags keep.' })),
});

/** GET /api/v1/backups/{id}/backupFiles (1.2-rev1). */
export const BACKUP_FILE_ORDER_COLUMNS = ['Name', 'DataSize', 'BackupSize', 'DedupRatio', 'CompressRatio', 'CreationTime', 'GFSPeriod'] as const;
export const BackupFilesQuery = listQuerySchema(BACKUP_FILE_ORDER_COLUMNS, {
  createdAfterFilter: Type.Optional(Type.String({ maxLength: 64 })),
  createdBeforeFilter: Type.Optional(Type.String({ maxLength: 64 })),
  gfsPeriodFilter: Type.Optional(stringEnum(['None', 'Weekly', 'Monthly', 'Quarterly', 'Yearly'] as const)),
});
export const BackupFileParams = Type.Object({
  id: Type.String({ format: 'uuid', description: 'Backup ID.' }),
  backupFileId: Type.String({ format: 'uuid', description: 'Backup file ID.' }),
});
/** BackupFileModel: `objectId` up to 1.3-rev1, `objectIds` from 1.3-rev2. */
export const BackupFileModel = Type.Object({
  id: Type.String(),
  name: Type.String(),
  backupId: Type.String(),
  objectId: Type.Optional(Type.String()),
  objectIds: Type.Optional(Type.Array(Type.String())),
  restorePointIds: Type.Array(Type.String()),
  dataSize: Type.Integer(),
  backupSize: Type.Integer(),
  dedupRatio: Type.Integer(),
  compressRatio: Type.Integer(),
  creationTime: Type.String(),
  gfsPeriods: Type.Array(Type.String()),
});
export const BackupFilesResult = Type.Object({ data: Type.Array(BackupFileModel), pagination: PaginationSchema });

/** POST /api/v1/backups/runHealthcheck (1.3-rev1): FileBackupHealthCheckSpec. */
export const HealthCheckSpec = Type.Object({
  backupIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 1000 })),
  jobIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 1000 })),
  isRepair: Type.Optional(Type.Boolean()),
  repairOptions: Type.Optional(Type.Object({}, { additionalProperties: true })),
});
