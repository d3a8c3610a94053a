import { modelOrList, withExtrasEverywhere, type ShapeByDocument } from '../shapes.js';

/**
 * RepositoryStateModel, built in the 1.3 shape: 1.2 added `isOnline`, 1.3 requires
 * `isOutOfDate`. When and how the figures were measured, and why a repository is offline,
 * are Rampart's own (the console shows them).
 */
export const REPOSITORY_STATE: ShapeByDocument = withExtrasEverywhere(['capacitySource', 'measuredAt', 'statusMessage'], {
  '1.1-rev0': { omit: ['isOnline', 'isOutOfDate'] },
  '1.2-rev1': { omit: ['isOutOfDate'] },
  '1.3-rev0': {},
});

/**
 * BackupStorageSettingsEncryptionModel, built with both documents' fields: 1.1-rev0 has
 * `encryptionPasswordIdOrNull`/`encryptionPasswordTag`, 1.2-rev1 `encryptionType`,
 * `encryptionPasswordId`, `encryptionPasswordUniqueId` and `kmsServerId`.
 */
export const STORAGE_ENCRYPTION: ShapeByDocument = {
  '1.1-rev0': { omit: ['encryptionType', 'encryptionPasswordId', 'encryptionPasswordUniqueId', 'kmsServerId'] },
  '1.2-rev1': { omit: ['encryptionPasswordIdOrNull', 'encryptionPasswordTag'] },
};

const PERFORMANCE_TIER_1_3: ShapeByDocument = { '1.3-rev0': { fields: { performanceExtents: { '1.3-rev0': { asArray: ['status'] } } } } };

/**
 * ScaleOutRepositoryModel, built with both spellings (tag/uniqueId, capacity tier
 * enabled/isEnabled): each document gets its own; 1.3 sends each performance extent's
 * `status` as an array of statuses.
 */
export const SCALE_OUT_REPOSITORY: ShapeByDocument = {
  '1.1-rev0': { omit: ['uniqueId'], fields: { capacityTier: { '1.1-rev0': { omit: ['isEnabled'], fields: { encryption: STORAGE_ENCRYPTION } } } } },
  '1.2-rev1': { omit: ['tag'], fields: { capacityTier: { '1.2-rev1': { omit: ['enabled'], fields: { encryption: STORAGE_ENCRYPTION } } } } },
  '1.3-rev0': {
    omit: ['tag'],
    fields: { performanceTier: PERFORMANCE_TIER_1_3, capacityTier: { '1.2-rev1': { omit: ['enabled'], fields: { encryption: STORAGE_ENCRYPTION } } } },
  },
};

export const REPOSITORY_STATES_REPLY = modelOrList(REPOSITORY_STATE);
export const SCALE_OUT_REPOSITORY_REPLY = modelOrList(SCALE_OUT_REPOSITORY);

/**
 * RepositoryModel: 1.3 keeps mount server settings per operating system. Rampart keeps one
 * mount server per repository and files it under `windows`, the only kind earlier
 * revisions had (a choice documented in the README).
 */
const SPELT_1_1 = ['enableTaskLimit', 'enableReadWriteLimit', 'autoSelect'];
const SPELT_1_2 = ['taskLimitEnabled', 'readWriteLimitEnabled', 'autoSelectEnabled'];

export const REPOSITORY: ShapeByDocument = {
  // 1.1-rev0 requires `kind` on every repository (without defining it) and spells uniqueId `tag`.
  '1.1-rev0': { omit: ['uniqueId'], omitAtAnyDepth: SPELT_1_2 },
  '1.2-rev1': { omit: ['tag', 'kind'], omitAtAnyDepth: SPELT_1_1 },
  '1.3-rev0': { omit: ['tag', 'kind'], omitAtAnyDepth: SPELT_1_1, nest: { mountServer: { discriminator: 'mountServerSettingsType', value: 'windows', key: 'windows' } } },
  '1.3-rev1': { omit: ['tag', 'kind'], omitAtAnyDepth: SPELT_1_1, nest: { mountServer: { discriminator: 'mountServerSettingsType', value: 'Windows', key: 'windows' } } },
};

export const REPOSITORY_REPLY = modelOrList(REPOSITORY);

/**
 * RepositoryAccessPermissionsModel, built with every document's fields: 1.1-rev0 has
 * `encryptBackups`/`passwordId`; 1.2-rev1 moved them into `encryptionSettings`; 1.3-rev2
 * (the first 1.3 document with the operation again) sends accounts as `{name, type}`.
 */
export const ACCESS_PERMISSIONS: ShapeByDocument = {
  '1.1-rev0': { omit: ['encryptionSettings'], pluck: { accounts: 'name' } },
  '1.2-rev1': { omit: ['encryptBackups', 'passwordId'], pluck: { accounts: 'name' } },
  '1.3-rev2': { omit: ['encryptBackups', 'passwordId'] },
};

const REPOSITORY_SETTINGS_1_2: ShapeByDocument = { '1.2-rev1': { rename: { enableTaskLimit: 'taskLimitEnabled', enableReadWriteLimit: 'readWriteLimitEnabled' } } };
const SHARE_1_2: ShapeByDocument = { '1.2-rev1': { fields: { gatewayServer: { '1.2-rev1': { rename: { autoSelect: 'autoSelectEnabled' } } } } } };
const IMPORT_ITEM_1_2 = { omit: ['tag', 'kind'], fields: { repository: REPOSITORY_SETTINGS_1_2, share: SHARE_1_2 } };

/**
 * One item of the repositories export (a RepositoryImportSpecCollection), built in the
 * 1.1 spelling with both unique id spellings: 1.1-rev0 has `tag` and requires (never
 * defines) `kind`; 1.2-rev1 has `uniqueId` and renames the folder settings' limits and the
 * share gateway's `autoSelect`; 1.3 files the mount server under `windows`, as the
 * repository model does. Object storage items keep `enableTaskLimit` in every document.
 */
export const REPOSITORY_IMPORT_ITEM: ShapeByDocument = {
  '1.1-rev0': { omit: ['uniqueId'] },
  '1.2-rev1': IMPORT_ITEM_1_2,
  '1.3-rev0': { ...IMPORT_ITEM_1_2, nest: { mountServer: { discriminator: 'mountServerSettingsType', value: 'windows', key: 'windows' } } },
  '1.3-rev1': { ...IMPORT_ITEM_1_2, nest: { mountServer: { discriminator: 'mountServerSettingsType', value: 'Windows', key: 'windows' } } },
};

/** The export's collection: every item array (`LinuxLocalRepositories`, …) holds import items. */
export function repositoryExport(collectionKeys: readonly string[]): ShapeByDocument {
  return { '1.1-rev0': { fields: Object.fromEntries(collectionKeys.map((key) => [key, REPOSITORY_IMPORT_ITEM])) } };
}
