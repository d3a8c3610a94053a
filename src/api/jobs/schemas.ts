import { Type } from 'typebox';
import { PaginationSchema, StringOrList, listQuerySchema, stringEnum } from '../../http/paging.js';

export const JOB_TYPES = ['Backup'] as const;
/** 1.3 calls the vSphere backup job `VSphereBackup`; either spelling is accepted and stored as `Backup`. */
export const JOB_TYPE_SPELLINGS = ['Backup', 'VSphereBackup'] as const;
/** A type filter in either spelling, as stored. */
export const storedJobTypes = (types: string[] | undefined) => types?.map((t) => (t === 'VSphereBackup' ? 'Backup' : t));
export const JOB_STATUSES = ['running', 'inactive', 'disabled'] as const;
export const JOB_WORKLOADS = ['application', 'cloudVm', 'file', 'server', 'workstation', 'vm'] as const;
export const SESSION_RESULTS = ['None', 'Success', 'Warning', 'Failed'] as const;

export const JOB_ORDER_COLUMNS = { Name: 'name_key', Type: 'type', Description: 'description_key' } as const;
export const JOB_STATE_ORDER_COLUMNS = {
  Name: 'name_key',
  Type: 'type',
  Status: 'is_disabled',
  LastRun: 'last_run',
  LastResult: 'last_result',
  NextRun: 'next_run',
  Description: 'description_key',
  RepositoryId: 'repository_id',
  ObjectsCount: 'objects_count',
} as const;

export const JobsQuery = listQuerySchema(Object.keys(JOB_ORDER_COLUMNS) as (keyof typeof JOB_ORDER_COLUMNS)[], { typeFilter: Type.Optional(StringOrList) });

export const JobStatesQuery = listQuerySchema(Object.keys(JOB_STATE_ORDER_COLUMNS) as (keyof typeof JOB_STATE_ORDER_COLUMNS)[], {
  idFilter: Type.Optional(Type.String({ format: 'uuid' })),
  typeFilter: Type.Optional(StringOrList),
  lastResultFilter: Type.Optional(StringOrList),
  statusFilter: Type.Optional(StringOrList),
  workloadFilter: Type.Optional(StringOrList),
  lastRunAfterFilter: Type.Optional(Type.String({ maxLength: 64 })),
  lastRunBeforeFilter: Type.Optional(Type.String({ maxLength: 64 })),
  isHighPriorityJobFilter: Type.Optional(Type.Boolean()),
  repositoryIdFilter: Type.Optional(Type.String({ format: 'uuid' })),
  objectsCountFilter: Type.Optional(Type.Integer({ minimum: 0 })),
});

/**
 * BackupJobSpec / BackupJobModel, open-ended: the service reads every part it
 * acts on and names the field that is wrong (settings.ts). String booleans,
 * nulls and both revisions' spellings are accepted there.
 */
export const JobSpec = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    description: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: 1024 })),
    type: stringEnum(JOB_TYPE_SPELLINGS, 'Job type.'),
  },
  { additionalProperties: true },
);

export const JobEdit = Type.Object(
  {
    id: Type.Optional(Type.String({ format: 'uuid' })),
    name: Type.String({ minLength: 1, maxLength: 255 }),
    description: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: 1024 })),
    type: stringEnum(JOB_TYPE_SPELLINGS, 'Job type.'),
  },
  { additionalProperties: true },
);

export const JobModel = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    description: Type.String(),
    type: stringEnum(JOB_TYPES),
    isDisabled: Type.Boolean(),
  },
  { additionalProperties: true },
);

export const JobsResult = Type.Object({ data: Type.Array(JobModel), pagination: PaginationSchema });

export const JobStateModel = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    type: stringEnum(JOB_TYPES),
    description: Type.String(),
    status: stringEnum(JOB_STATUSES),
    lastRun: Type.Optional(Type.String({ format: 'date-time' })),
    lastResult: stringEnum(SESSION_RESULTS),
    nextRun: Type.Optional(Type.String({ format: 'date-time' })),
    workload: stringEnum(JOB_WORKLOADS),
    repositoryId: Type.Optional(Type.String({ format: 'uuid' })),
    repositoryName: Type.Optional(Type.String()),
    objectsCount: Type.Integer(),
    sessionId: Type.Optional(Type.String({ format: 'uuid' })),
    highPriority: Type.Optional(Type.Boolean({ description: '1.3: the job has high priority.' })),
    progressPercent: Type.Optional(Type.Integer({ description: '1.3: progress of the running session (0 when none runs).' })),
  },
  { additionalProperties: false },
);

export const JobStatesResult = Type.Object({ data: Type.Array(JobStateModel), pagination: PaginationSchema });

/** JobStartSpec; a body-less start is an incremental run (what Veeam's console does). */
export const JobStartSpec = Type.Object({ performActiveFull: Type.Optional(Type.Unknown()), startChainedJobs: Type.Optional(Type.Unknown()) }, { additionalProperties: true });
/** JobStopSpec: `gracefullStop` (1.1, sic) or `gracefulStop` (1.2). */
export const JobStopSpec = Type.Object({ gracefullStop: Type.Optional(Type.Unknown()), gracefulStop: Type.Optional(Type.Unknown()) }, { additionalProperties: true });

/** JobExportSpec: each list narrows the export; none exports every job. */
export const JobExportSpec = Type.Object(
  {
    ids: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 10_000 })),
    types: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 })),
    names: Type.Optional(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 10_000 })),
  },
  { additionalProperties: true },
);

export const JobImportSpecCollection = Type.Object(
  { jobs: Type.Array(Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: true }), { maxItems: 10_000 }) },
  { additionalProperties: true },
);
