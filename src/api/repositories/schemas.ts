import { Type } from 'typebox';
import { PaginationSchema, StringOrList, listQuerySchema, stringEnum } from '../../http/paging.js';
import { optionalText } from '../../http/nullable.js';

/** ERepositoryType (same in 1.1 and 1.2). */
export const REPOSITORY_TYPES = [
  'WinLocal',
  'LinuxLocal',
  'Smb',
  'Nfs',
  'AzureBlob',
  'AzureDataBox',
  'AzureArchive',
  'AmazonS3',
  'AmazonSnowballEdge',
  'AmazonS3Glacier',
  'S3Compatible',
  'GoogleCloud',
  'IBMCloud',
  'ExtendableRepository',
  'DDBoost',
  'ExaGrid',
  'HPStoreOnceIntegration',
  'Quantum',
  'WasabiCloud',
  'LinuxHardened',
  'Infinidat',
  'Fujitsu',
] as const;
export type RepositoryType = (typeof REPOSITORY_TYPES)[number];

export const REPOSITORY_ORDER_COLUMNS = { Name: 'name_key', Description: 'description_key', Type: 'type', Host: 'host_name', Path: 'path_key' } as const;
export const STATES_ORDER_COLUMNS = {
  Name: 'name_key',
  Type: 'type',
  Host: 'host_name',
  Path: 'path_key',
  CapacityGB: 'capacity_gb',
  FreeGB: 'free_gb',
  UsedSpaceGB: 'used_gb',
  Description: 'description_key',
} as const;

export const RepositoriesQuery = listQuerySchema(Object.keys(REPOSITORY_ORDER_COLUMNS) as (keyof typeof REPOSITORY_ORDER_COLUMNS)[], {
  typeFilter: Type.Optional(StringOrList),
  hostIdFilter: Type.Optional(Type.String({ format: 'uuid' })),
  pathFilter: Type.Optional(Type.String({ maxLength: 1024 })),
  vmbApiFilter: Type.Optional(
    Type.String({ maxLength: 1024, description: 'Veeam Data Platform API filter; Rampart has no VMB API plug-ins, so a non-empty filter matches no repository.' }),
  ),
  vmbApiPlatform: Type.Optional(Type.String({ format: 'uuid' })),
  excludeExtents: Type.Optional(Type.Boolean({ description: '1.3: leave out repositories that are extents of a scale-out repository.' })),
});

/** ESobrExtentType (1.3) and the extent tiers Rampart stores them as. */
export const SOBR_EXTENT_TYPES = { Performance: 'performance', Capacity: 'capacity', Archive: 'archive' } as const;

export const StatesQuery = listQuerySchema(Object.keys(STATES_ORDER_COLUMNS) as (keyof typeof STATES_ORDER_COLUMNS)[], {
  idFilter: Type.Optional(Type.String({ format: 'uuid' })),
  typeFilter: Type.Optional(StringOrList),
  capacityFilter: Type.Optional(Type.Number({ description: 'Repositories with at least this capacity (GB).' })),
  freeSpaceFilter: Type.Optional(Type.Number({ description: 'Repositories with at least this much free space (GB).' })),
  usedSpaceFilter: Type.Optional(Type.Number({ description: 'Repositories with at least this much used space (GB).' })),
  isOnlineFilter: Type.Optional(Type.Boolean({ description: '1.2: only online (true) or offline (false) repositories.' })),
  isOutOfDateFilter: Type.Optional(Type.Boolean({ description: '1.3: only repositories with outdated components (Rampart deploys none: true matches nothing).' })),
  sobrIdFilter: Type.Optional(Type.String({ format: 'uuid', description: '1.3: only extents of this scale-out repository.' })),
  sobrExtentTypeFilter: Type.Optional(StringOrList),
  sobrMembershipFilter: Type.Optional(Type.String({ maxLength: 512, description: '1.3: only extents of scale-out repositories whose name matches; * is the wildcard.' })),
  excludeExtents: Type.Optional(Type.Boolean({ description: '1.3: leave out repositories that are extents of a scale-out repository.' })),
});

export const AddQuery = Type.Object({ overwriteOwner: Type.Optional(Type.Boolean({ description: 'Take over a repository folder that another backup server owns.' })) });
export const RemoveQuery = Type.Object({ deleteBackups: Type.Optional(Type.Boolean({ description: 'Also delete the backup files in the repository.' })) });

/**
 * RepositorySpec / RepositoryModel of every type and revision, open-ended: the
 * service checks the fields each type needs and names what is missing, which a
 * oneOf schema could not say clearly.
 */
export const RepositorySpec = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256 }),
    description: optionalText({ maxLength: 1024 }),
    tag: optionalText({ maxLength: 256, description: 'Tag (1.1 name of uniqueId).' }),
    uniqueId: optionalText({ maxLength: 256, description: 'Unique ID (1.2 name of tag).' }),
    type: stringEnum(REPOSITORY_TYPES, 'Repository type.'),
  },
  { additionalProperties: true },
);

export const RepositoryEdit = Type.Object({ ...RepositorySpec.properties, id: Type.Optional(Type.String({ format: 'uuid' })) }, { additionalProperties: true });

export const RepositoryModel = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    description: Type.String(),
    tag: Type.Optional(Type.String({ description: '1.1-rev0 spelling of uniqueId.' })),
    uniqueId: Type.Optional(Type.String({ description: '1.2-rev1 and later.' })),
    type: stringEnum(REPOSITORY_TYPES),
    kind: Type.Optional(Type.String({ description: 'Listed as required by the 1.1-rev0 document (only): LocalStorage, NetworkStorage or ObjectStorage.' })),
  },
  { additionalProperties: true },
);

export const RepositoriesResult = Type.Object({ data: Type.Array(RepositoryModel), pagination: PaginationSchema });

export const RepositoryStateModel = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  type: stringEnum(REPOSITORY_TYPES),
  description: Type.String(),
  hostId: Type.Optional(Type.String({ format: 'uuid' })),
  hostName: Type.Optional(Type.String()),
  path: Type.Optional(Type.String()),
  capacityGB: Type.Number(),
  freeGB: Type.Number(),
  usedSpaceGB: Type.Number(),
  isOnline: Type.Optional(Type.Boolean({ description: '1.2-rev1 and later.' })),
  isOutOfDate: Type.Optional(Type.Boolean({ description: '1.3-rev0 and later: Rampart installs no components on repositories, so always false.' })),
  capacitySource: Type.Optional(Type.String({ description: 'Rampart extension (sent with x-rampart-extras: true): filesystem, sosapi, consumptionLimit or unknown.' })),
  measuredAt: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Rampart extension (sent with x-rampart-extras: true): when the figures were measured.' })),
  statusMessage: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Rampart extension (sent with x-rampart-extras: true): why the repository is offline.' })),
});

export const RepositoryStatesResult = Type.Object({ data: Type.Array(RepositoryStateModel), pagination: PaginationSchema });

/** EUserType (1.3-rev2): who a repository's access account is. */
export const ACCOUNT_TYPES = ['InternalUser', 'InternalGroup', 'ExternalUser', 'ExternalGroup'] as const;
export const ACCESS_POLICIES = ['DenyAll', 'AllowAll', 'AllowExplicit'] as const;
const AccessAccount = Type.Object({ name: Type.String({ maxLength: 512 }), type: stringEnum(ACCOUNT_TYPES) }, { description: '1.3-rev2: RepositoryAccessAccountModel.' });
const StorageEncryption = Type.Object(
  {
    isEnabled: Type.Boolean(),
    encryptionType: Type.Optional(stringEnum(['ByUserPassword', 'ByKms'] as const)),
    encryptionPasswordId: Type.Optional(Type.Union([Type.String({ format: 'uuid' }), Type.Null()])),
  },
  { additionalProperties: true, description: '1.2-rev1 and later: BackupStorageSettingsEncryptionModel.' },
);

/** RepositoryAccessPermissionsModel of every document: 1.1-rev0's encryptBackups/passwordId, 1.2's encryptionSettings, 1.3-rev2's account objects. */
export const AccessPermissionsModel = Type.Object(
  {
    accessPolicy: stringEnum(ACCESS_POLICIES),
    accounts: Type.Optional(Type.Array(Type.Union([Type.String({ maxLength: 512 }), AccessAccount]), { maxItems: 1000 })),
    encryptBackups: Type.Optional(Type.Boolean({ description: '1.1-rev0.' })),
    passwordId: Type.Optional(Type.Union([Type.String({ format: 'uuid' }), Type.Null()], { description: '1.1-rev0.' })),
    encryptionSettings: Type.Optional(StorageEncryption),
  },
  { additionalProperties: true },
);

export const RescanSpec = Type.Object({ repositoryIds: Type.Array(Type.String({ format: 'uuid' }), { minItems: 1, maxItems: 10_000 }) }, { additionalProperties: true });
