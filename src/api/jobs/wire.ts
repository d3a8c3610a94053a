import { badRequest } from '../../http/errors.js';

/**
 * How job bodies travel: the boolean and integer fields of Veeam's job models
 * (read from the 1.1-rev0 and 1.2-rev1 documents), and the fields 1.2 renamed.
 * Real clients post booleans as strings ("isHighPriority": "false", Ansible) and
 * null for optional fields (Veeam's own examples), so bodies are normalised once
 * here before anything reads them.
 */
const BOOLEAN_FIELDS = new Set(
  (
    'SuppressNotificationUntilLastRetry appendToExisitingValue appendToExistingValue autoSelectEnabled autoSelection automaticSelection backupLogs ' +
    'enableCBTautomatically enableInlineDataDedup enableVMWareToolsQuiescence excludeDeletedFileBlocks excludeFromIncremental excludeSwapFileBlocks ' +
    'failoverToStandardBackup gracefulStop gracefullStop inlineDataDedupEnabled isDisabled isEnabled isHighPriority limitProcessedVm notifyOnError ' +
    'notifyOnSuccess notifyOnWarning performActiveFull processedVmsLimitEnabled removeFromVMConfiguration resetCBTonActiveFull runAutomatically ' +
    'sendSNMPNotifications startChainedJobs useCustomEncryption useCustomRetention useGuestCredentials usePersistentGuestAgent'
  ).split(' '),
);

const INTEGER_FIELDS = new Set(
  (
    'afterDays awaitMinutes backupMinsCount dayOfMonth dayOfMonths deleteGBsCount deleteHoursCount frequency keepDaysCount keepForNumberOfMonths ' +
    'keepForNumberOfWeeks keepForNumberOfYears limitProcessedVmCount processedVmsCount quantity retryCount runScriptEvery startTimeWithinAnHour'
  ).split(' '),
);

/** 1.1 name → 1.2 name. Rampart stores the 1.1 names and answers in the caller's. */
export const RENAMED_FIELDS: Record<string, string> = {
  autoSelection: 'autoSelectEnabled',
  enableInlineDataDedup: 'inlineDataDedupEnabled',
  encryptionPasswordIdOrNull: 'encryptionPasswordId',
  credsId: 'credentialsId',
  credsType: 'credentialsType',
  limitProcessedVm: 'processedVmsLimitEnabled',
  limitProcessedVmCount: 'processedVmsCount',
  appendToExisitingValue: 'appendToExistingValue',
  gracefullStop: 'gracefulStop',
};
const TO_OLD_NAME = Object.fromEntries(Object.entries(RENAMED_FIELDS).map(([a, b]) => [b, a]));

type Json = unknown;

function flag(value: Json, path: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  throw badRequest(`Invalid field "${path}": must be boolean (true or false).`);
}

function integer(value: Json, path: string): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n)) return n;
  throw badRequest(`Invalid field "${path}": must be an integer.`);
}

/**
 * A body in the 1.1 spellings with nulls dropped, string booleans and numbers
 * read, and either spelling of a renamed field accepted (both with different
 * values is a 400: the client must say which it means).
 */
export function normaliseBody(value: Json, path = ''): Json {
  if (Array.isArray(value)) return value.filter((v) => v !== null).map((v, i) => normaliseBody(v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, Json> = {};
  for (const [key, raw] of Object.entries(value)) {
    if (raw === null || raw === undefined) continue;
    const name = TO_OLD_NAME[key] ?? key;
    const at = path ? `${path}.${key}` : key;
    let v: Json = raw;
    if (BOOLEAN_FIELDS.has(key)) v = flag(raw, at);
    else if (INTEGER_FIELDS.has(key)) v = integer(raw, at);
    else v = normaliseBody(raw, at);
    if (name in out && JSON.stringify(out[name]) !== JSON.stringify(v)) {
      throw badRequest(`"${name}" and "${RENAMED_FIELDS[name]}" are the 1.1 and 1.2 names of one field; send one, or the same value in both (at ${at}).`);
    }
    out[name] = v;
  }
  return out;
}

/** The 1.2 spellings of a stored (1.1) tree. */
export function renameForRevision(value: Json): Json {
  if (Array.isArray(value)) return value.map(renameForRevision);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [RENAMED_FIELDS[k] ?? k, renameForRevision(v)]));
}
