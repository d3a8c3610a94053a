import { Type } from 'typebox';
import { stringEnum } from '../../http/paging.js';

export const RESTORE_MODES = ['OriginalLocation', 'Customized'] as const;
export const DISK_TYPES = ['Source', 'Thick', 'Thin', 'ThickEagerZeroed'] as const;

/**
 * EntireViVMRestoreSpec, open-ended like the jobs' specs: 1.1-rev0 names the
 * point `objectRestorePointId` and gives one `datastore {datastore, diskType}`;
 * 1.2 and later name it `restorePointId` and give `datastore {configurationFileDatastore,
 * diskMappings[]}` (1.3 adds `defaultDatastore`) and, from 1.3, `network.networks[]`.
 * The service reads either spelling and names the field that is wrong (string
 * booleans, as the Ansible modules send them, are accepted).
 */
export const EntireVmRestoreSpec = Type.Object(
  {
    type: stringEnum(RESTORE_MODES, 'Restore mode.'),
    objectRestorePointId: Type.Optional(Type.String({ format: 'uuid', description: '1.1-rev0.' })),
    restorePointId: Type.Optional(Type.String({ format: 'uuid', description: '1.2-rev1 and later.' })),
  },
  { additionalProperties: true },
);

/** InstantViVMRecoverySpec of any revision, read by instant-recovery-spec.ts. */
export const InstantVmRecoverySpec = Type.Object(
  {
    type: Type.String(),
    objectRestorePointId: Type.Optional(Type.String({ format: 'uuid', description: '1.1-rev0.' })),
    restorePointId: Type.Optional(Type.String({ format: 'uuid', description: '1.2-rev1 and later.' })),
  },
  { additionalProperties: true },
);

export const QuickMigrationSpec = Type.Object({}, { additionalProperties: true });

export const MountIdParams = Type.Object({ mountId: Type.String({ format: 'uuid' }) });

export const MountsQuery = Type.Object(
  {
    skip: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1 })),
    orderColumn: Type.Optional(Type.String()),
    orderAsc: Type.Optional(Type.Boolean()),
    nameFilter: Type.Optional(Type.String()),
    vmNameFilter: Type.Optional(Type.String()),
    stateFilter: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** Rampart's own: how long a published export of a restore point lives. */
export const PublishSpec = Type.Object(
  { ttlMinutes: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1440, description: 'Lifetime in minutes (default 60, at most 1440).' })) },
  { additionalProperties: false },
);

export const PublishedExportModel = Type.Object({
  restorePointId: Type.String({ format: 'uuid' }),
  expirationTime: Type.String({ format: 'date-time' }),
  disks: Type.Array(Type.Object({ name: Type.String(), capacity: Type.Integer(), uri: Type.String() })),
});

/** VmwareFcdInstantRecoverySpec of any revision, read by fcd-spec.ts (which names the field that is wrong). */
export const FcdRecoverySpec = Type.Object(
  {
    objectRestorePointId: Type.Optional(Type.String({ format: 'uuid', description: '1.1-rev0.' })),
    restorePointId: Type.Optional(Type.String({ format: 'uuid', description: '1.2-rev1 and later.' })),
  },
  { additionalProperties: true },
);

export const FcdMigrationSpec = Type.Object({}, { additionalProperties: true });
