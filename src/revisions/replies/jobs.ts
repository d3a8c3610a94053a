import type { ReplyShape, ShapeByDocument } from '../shapes.js';
import { modelOrList } from '../shapes.js';

/** `value` → `Value` for each of Veeam's lower-camel enum values. */
const capitalised = (...values: string[]) => Object.fromEntries(values.map((v) => [v, v.charAt(0).toUpperCase() + v.slice(1)]));

/** EDayOfWeek: lower case up to 1.3-rev0, capitalised from 1.3-rev1. */
export const DAYS = capitalised('monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday');
export const DAYS_LOWER = Object.fromEntries(Object.entries(DAYS).map(([lower, upper]) => [upper, lower]));

/**
 * The enums 1.3-rev1 recased in the models a vSphere backup job reaches (found with
 * `node scripts/revision-diff.mjs 1.3-rev0 1.3-rev1`: EDayOfWeek, EApplicationSettingsVSS,
 * ETransactionLogsSettings, ESQLLogsProcessing, ERetainLogBackupsType,
 * EBackupOracleLogsSettings, EPostgreSQLUserConnectionType, EBackupExclusionPolicy,
 * EBackupScriptProcessingMode, EGuestFSIndexingMode), by the field names that carry them.
 * Jobs are stored in the spelling they were given (either is accepted); replies take the
 * reader's document's spelling.
 */
const JOB_ENUMS_1_3_REV1 = {
  days: DAYS,
  day: DAYS,
  dayOfWeek: DAYS,
  desiredTime: DAYS,
  vss: capitalised('requireSuccess', 'ignoreFailures', 'disabled'),
  transactionLogs: capitalised('process', 'copyOnly'),
  logsProcessing: capitalised('truncate', 'backup', 'neverTruncate'),
  retainLogBackups: capitalised('untilBackupDeleted'),
  archiveLogs: capitalised('preserve', 'deleteExpiredHours', 'deleteExpiredGBs'),
  userConnectionType: capitalised('credentials', 'passwordFile', 'peer'),
  exclusionPolicy: capitalised('disabled', 'excludeOnly', 'includeOnly'),
  scriptProcessingMode: capitalised('disableExec', 'ignoreExecFailures', 'requireSuccess'),
  guestFSIndexingMode: capitalised('disable', 'indexAll', 'indexAllExcept', 'indexOnly'),
};

/** Up to 1.3-rev0 the lower-camel spellings; 1.3-rev1 and 1.3-rev2 capitalise them. */
const toLowerCamel = (map: Record<string, string>) => Object.fromEntries(Object.entries(map).map(([lower, upper]) => [upper, lower]));
const JOB_ENUMS_BEFORE_1_3_REV1 = Object.fromEntries(Object.entries(JOB_ENUMS_1_3_REV1).map(([field, map]) => [field, toLowerCamel(map)]));

/** 1.3 renamed the vSphere backup job type `Backup` to `VSphereBackup`. */
const JOB_TYPE_1_3 = { type: { Backup: 'VSphereBackup' } };

/**
 * 1.3's inventory objects say `VSphere` where 1.2's said `VMware` (EInventoryPlatformType), and
 * the guest credentials sit under `credentials` beside a required `useAgentManagementCredentials`.
 */
const JOB_1_3 = {
  spell: JOB_TYPE_1_3,
  fields: { guestProcessing: { '1.3-rev0': { nest: { guestCredentials: { discriminator: 'useAgentManagementCredentials', value: false, key: 'credentials' } } } } },
};

/** 1.3-rev2 corrected Veeam's `synthenticFulls` to `syntheticFulls` (stored in the old spelling; either is accepted). */
const SYNTHETIC_FULLS_1_3_REV2 = { storage: { '1.3-rev2': { fields: { advancedSettings: { '1.3-rev2': { rename: { synthenticFulls: 'syntheticFulls' } } } } } } };

export const JOB: ShapeByDocument = {
  '1.1-rev0': { spellAtAnyDepth: JOB_ENUMS_BEFORE_1_3_REV1 },
  '1.3-rev0': { ...JOB_1_3, spellAtAnyDepth: { ...JOB_ENUMS_BEFORE_1_3_REV1, platform: { VMware: 'VSphere' } } },
  '1.3-rev1': { ...JOB_1_3, spellAtAnyDepth: { ...JOB_ENUMS_1_3_REV1, platform: { VMware: 'VSphere' } } },
  '1.3-rev2': {
    ...JOB_1_3,
    fields: { ...JOB_1_3.fields, ...SYNTHETIC_FULLS_1_3_REV2 },
    spellAtAnyDepth: { ...JOB_ENUMS_1_3_REV1, platform: { VMware: 'VSphere' } },
  },
};

/** JobStateModel: `VSphereBackup`, `highPriority` and `progressPercent` from 1.3-rev0; EJobStatus and EJobWorkload are capitalised from 1.3-rev1. */
export const JOB_STATE: ShapeByDocument = {
  '1.1-rev0': { omit: ['highPriority', 'progressPercent'] },
  '1.3-rev0': { spell: JOB_TYPE_1_3 },
  '1.3-rev1': {
    spell: {
      ...JOB_TYPE_1_3,
      status: capitalised('running', 'inactive', 'disabled', 'enabled', 'stopping', 'stopped', 'starting'),
      workload: capitalised('application', 'cloudVm', 'file', 'server', 'workstation', 'vm'),
    },
  },
};

export const JOBS_REPLY: ReplyShape = { body: modelOrList(JOB) };
export const JOB_STATES_REPLY: ReplyShape = { body: modelOrList(JOB_STATE) };
/** Enable and disable answer 200 up to 1.3-rev0 and 204 from 1.3-rev1. */
export const ENABLE_DISABLE_REPLY: ReplyShape = { status: { '1.1-rev0': 200, '1.3-rev1': 204 } };
