import { badRequest } from '../../http/errors.js';
import { VMWARE_TYPES_1_1 } from '../inventory/schemas.js';

type Obj = Record<string, unknown>;

/** A vSphere object as a job names it (VmwareObjectModel, 1.1 shape), with the size the job last saw. */
export interface InventoryObject {
  hostName: string;
  name: string;
  type: string;
  objectId?: string;
  size?: string;
}

/**
 * A backup job's settings as stored (JSON in jobs.settings), in the 1.1
 * spellings. The parts Rampart acts on are checked and typed; the rest of each
 * model (guest processing, notifications, GFS…) is kept as the client sent it,
 * minus nulls, and given back.
 */
export interface JobSettings {
  isHighPriority: boolean;
  virtualMachines: { includes: InventoryObject[]; excludes?: Obj };
  storage: {
    backupRepositoryId: string;
    backupProxies: { autoSelection: boolean; proxyIds?: string[] };
    retentionPolicy: { type: 'RestorePoints' | 'Days'; quantity: number };
    gfsPolicy?: Obj;
    advancedSettings?: Obj & { storageData?: Obj & { encryption?: { isEnabled: boolean; encryptionPasswordIdOrNull?: string } } };
  };
  guestProcessing: Obj;
  schedule: Obj & { runAutomatically: boolean };
}

export const COMPRESSION_LEVELS = ['None', 'DedupFriendly', 'Optimal', 'High', 'Extreme'] as const;
export const STORAGE_OPTIMIZATIONS = ['LocalTargetLarge', 'LocalTarget', 'LANTarget', 'WANTarget', 'LocalTargetLarge8192', 'LocalTargetLarge4096'] as const;
const BACKUP_MODES = ['Full', 'Incremental', 'ReverseIncremental', 'Transofrm', 'TransformForeverIncremental'] as const;
const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const EMPTY_ID = '00000000-0000-0000-0000-000000000000';

function object(value: unknown, path: string, required = true): Obj | undefined {
  if (value === undefined && !required) return undefined;
  if (value === undefined) throw badRequest(`The request body is missing the required field "${path}".`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest(`Invalid field "${path}": must be an object.`);
  return value as Obj;
}

function need<T>(value: T | undefined, path: string): T {
  if (value === undefined) throw badRequest(`The request body is missing the required field "${path}".`);
  return value;
}

function text(value: unknown, path: string, max = 255): string {
  if (typeof value !== 'string') throw badRequest(`Invalid field "${path}": must be a string.`);
  if (value.length > max) throw badRequest(`Invalid field "${path}": must be at most ${max} characters.`);
  return value;
}

function oneOf<const K extends string>(value: unknown, path: string, allowed: readonly K[]): K {
  const match = allowed.find((a) => typeof value === 'string' && a.toLowerCase() === value.toLowerCase());
  if (!match) throw badRequest(`Invalid field "${path}": "${String(value).slice(0, 60)}" is not one of: ${allowed.join(', ')}.`);
  return match;
}

export function uuid(value: unknown, path: string): string {
  if (typeof value !== 'string' || !UUID.test(value)) throw badRequest(`Invalid field "${path}": must be an id (uuid).`);
  return value.toLowerCase();
}

function list(value: unknown, path: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw badRequest(`Invalid field "${path}": must be an array.`);
  if (value.length > 10_000) throw badRequest(`Invalid field "${path}": at most 10000 items.`);
  return value;
}

/** VmwareObjectModel (1.1), InventoryObjectModel (1.2, with platform) or VmwareObjectSizeModel ({inventoryObject, size}). */
export function inventoryObject(value: unknown, path: string): InventoryObject {
  let o = object(value, path)!;
  let size = o.size;
  if (o.inventoryObject !== undefined) {
    size = o.size;
    o = object(o.inventoryObject, `${path}.inventoryObject`)!;
    path = `${path}.inventoryObject`;
  }
  // 1.2 says VMware, 1.3 VSphere (EInventoryPlatformType); both are this one platform.
  if (o.platform !== undefined) oneOf(o.platform, `${path}.platform`, ['VMware', 'VSphere'] as const);
  // Veeam's own 1.1 example spells hostName as vcName.
  const hostName = text(need(o.hostName ?? o.vcName, `${path}.hostName`), `${path}.hostName`);
  const result: InventoryObject = {
    hostName,
    name: text(need(o.name, `${path}.name`), `${path}.name`),
    type: oneOf(need(o.type, `${path}.type`), `${path}.type`, VMWARE_TYPES_1_1),
  };
  if (o.objectId !== undefined) result.objectId = text(o.objectId, `${path}.objectId`);
  if (size !== undefined) result.size = text(size, `${path}.size`, 64);
  if (hostName === '' || result.name === '') throw badRequest(`Invalid field "${path}": hostName and name must not be empty.`);
  return result;
}

function checkDays(value: unknown, path: string, allowed: readonly string[]) {
  list(value, path).forEach((d, i) => oneOf(d, `${path}[${i}]`, allowed));
}

/** The schedule parts the scheduler reads; everything else in it is kept as sent. */
function schedule(value: unknown): JobSettings['schedule'] {
  const s = object(value, 'schedule')!;
  const runAutomatically = need(s.runAutomatically, 'schedule.runAutomatically') as boolean;
  const daily = object(s.daily, 'schedule.daily', false);
  if (daily) {
    if (daily.localTime !== undefined) parseLocalTime(daily.localTime, 'schedule.daily.localTime');
    if (daily.dailyKind !== undefined) oneOf(daily.dailyKind, 'schedule.daily.dailyKind', ['Everyday', 'WeekDays', 'SelectedDays'] as const);
    checkDays(daily.days, 'schedule.daily.days', DAYS);
  }
  const monthly = object(s.monthly, 'schedule.monthly', false);
  if (monthly) {
    if (monthly.localTime !== undefined) parseLocalTime(monthly.localTime, 'schedule.monthly.localTime');
    if (monthly.dayOfWeek !== undefined) oneOf(monthly.dayOfWeek, 'schedule.monthly.dayOfWeek', DAYS);
    if (monthly.dayNumberInMonth !== undefined)
      oneOf(monthly.dayNumberInMonth, 'schedule.monthly.dayNumberInMonth', ['First', 'Second', 'Third', 'Fourth', 'Last', 'OnDay'] as const);
    if (monthly.dayOfMonth !== undefined && ((monthly.dayOfMonth as number) < 1 || (monthly.dayOfMonth as number) > 31))
      throw badRequest('Invalid field "schedule.monthly.dayOfMonth": must be 1 to 31.');
    checkDays(monthly.months, 'schedule.monthly.months', MONTHS);
  }
  const periodically = object(s.periodically, 'schedule.periodically', false);
  if (periodically) {
    if (periodically.periodicallyKind !== undefined)
      oneOf(periodically.periodicallyKind, 'schedule.periodically.periodicallyKind', ['Hours', 'Minutes', 'Seconds', 'Days'] as const);
    if (periodically.isEnabled === true && !((periodically.frequency as number) >= 1))
      throw badRequest('Invalid field "schedule.periodically.frequency": must be at least 1 when periodic runs are enabled.');
  }
  const after = object(s.afterThisJob, 'schedule.afterThisJob', false);
  if (after?.isEnabled === true && (typeof after.jobName !== 'string' || after.jobName === ''))
    throw badRequest('Invalid field "schedule.afterThisJob.jobName": name the job this one runs after.');
  const retry = object(s.retry, 'schedule.retry', false);
  if (retry && retry.retryCount !== undefined && ((retry.retryCount as number) < 0 || (retry.retryCount as number) > 100))
    throw badRequest('Invalid field "schedule.retry.retryCount": must be 0 to 100.');
  return { ...s, runAutomatically };
}

/** "22:00", "22:00:00" (the document's format: time) or "10:00 PM" (Veeam's own example). */
export function parseLocalTime(value: unknown, path: string): { hours: number; minutes: number } {
  const m = typeof value === 'string' ? /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(AM|PM)?$/i.exec(value.trim()) : null;
  if (!m) throw badRequest(`Invalid field "${path}": "${String(value).slice(0, 40)}" is not a time such as 22:00.`);
  let hours = Number(m[1]);
  const minutes = Number(m[2]);
  const half = m[4]?.toUpperCase();
  if (half) {
    if (hours < 1 || hours > 12) throw badRequest(`Invalid field "${path}": hours must be 1 to 12 with AM/PM.`);
    hours = (hours % 12) + (half === 'PM' ? 12 : 0);
  }
  if (hours > 23 || minutes > 59) throw badRequest(`Invalid field "${path}": not a time of day.`);
  return { hours, minutes };
}

const SENNIGHTS = ['First', 'Second', 'Third', 'Fourth', 'Fifth', 'Last'] as const;

/** GFSPolicySettingsModel: the parts retention acts on (src/chunkstore/gfs.ts) are checked, enums in the document's spelling. */
function gfsPolicy(value: unknown): Obj | undefined {
  const at = 'storage.gfsPolicy';
  const g = object(value, at, false);
  if (!g) return undefined;
  const out: Obj = { ...g, isEnabled: need(g.isEnabled, `${at}.isEnabled`) };
  const period = (name: 'weekly' | 'monthly' | 'yearly', keep: string, max: number, times: readonly string[]) => {
    const p = object(g[name], `${at}.${name}`, false);
    if (!p) return;
    const checked: Obj = { ...p, isEnabled: need(p.isEnabled, `${at}.${name}.isEnabled`) };
    const n = p[keep];
    if (n !== undefined && !((n as number) >= 1 && (n as number) <= max)) throw badRequest(`Invalid field "${at}.${name}.${keep}": must be 1 to ${max}.`);
    if (p.isEnabled === true && n === undefined) throw badRequest(`The request body is missing the required field "${at}.${name}.${keep}" (${name} GFS is enabled).`);
    if (p.desiredTime !== undefined) checked.desiredTime = oneOf(p.desiredTime, `${at}.${name}.desiredTime`, times);
    out[name] = checked;
  };
  period('weekly', 'keepForNumberOfWeeks', 9999, DAYS);
  period('monthly', 'keepForNumberOfMonths', 999, SENNIGHTS);
  period('yearly', 'keepForNumberOfYears', 999, MONTHS);
  return out;
}

function storage(value: unknown): JobSettings['storage'] {
  const s = object(value, 'storage')!;
  const proxies = object(s.backupProxies, 'storage.backupProxies')!;
  const retention = object(s.retentionPolicy, 'storage.retentionPolicy')!;
  const quantity = need(retention.quantity, 'storage.retentionPolicy.quantity') as number;
  if (quantity < 1 || quantity > 999) throw badRequest('Invalid field "storage.retentionPolicy.quantity": must be 1 to 999.');
  const advanced = object(s.advancedSettings, 'storage.advancedSettings', false);
  const result: JobSettings['storage'] = {
    ...s,
    backupRepositoryId: uuid(need(s.backupRepositoryId, 'storage.backupRepositoryId'), 'storage.backupRepositoryId'),
    backupProxies: {
      ...proxies,
      autoSelection: need(proxies.autoSelection, 'storage.backupProxies.autoSelection') as boolean,
      proxyIds: list(proxies.proxyIds, 'storage.backupProxies.proxyIds').map((p, i) => uuid(p, `storage.backupProxies.proxyIds[${i}]`)),
    },
    retentionPolicy: { type: oneOf(need(retention.type, 'storage.retentionPolicy.type'), 'storage.retentionPolicy.type', ['RestorePoints', 'Days'] as const), quantity },
  };
  const gfs = gfsPolicy(s.gfsPolicy);
  if (gfs) result.gfsPolicy = gfs;
  if (advanced) {
    // 1.2 corrected Veeam's "Transofrm"; stored in the 1.1 spelling.
    const mode = advanced.backupModeType === 'Transform' ? 'Transofrm' : advanced.backupModeType;
    const checked: Obj = { ...advanced, backupModeType: oneOf(need(mode, 'storage.advancedSettings.backupModeType'), 'storage.advancedSettings.backupModeType', BACKUP_MODES) };
    // 1.3-rev2 spells Veeam's `synthenticFulls` as `syntheticFulls`: stored in the old spelling, which the run reads.
    if (advanced.syntheticFulls !== undefined) {
      if (advanced.synthenticFulls !== undefined && JSON.stringify(advanced.synthenticFulls) !== JSON.stringify(advanced.syntheticFulls))
        throw badRequest('"synthenticFulls" and "syntheticFulls" are two spellings of one field (storage.advancedSettings); send one, or the same value in both.');
      checked.synthenticFulls = advanced.syntheticFulls;
      delete checked.syntheticFulls;
    }
    const synthetic = object(checked.synthenticFulls, 'storage.advancedSettings.synthenticFulls', false);
    if (synthetic) need(synthetic.isEnabled, 'storage.advancedSettings.synthenticFulls.isEnabled');
    const data = object(advanced.storageData, 'storage.advancedSettings.storageData', false);
    if (data) {
      const at = 'storage.advancedSettings.storageData';
      const out: Obj = { ...data };
      if (data.compressionLevel !== undefined) out.compressionLevel = oneOf(data.compressionLevel, `${at}.compressionLevel`, COMPRESSION_LEVELS);
      if (data.storageOptimization !== undefined) out.storageOptimization = oneOf(data.storageOptimization, `${at}.storageOptimization`, STORAGE_OPTIMIZATIONS);
      const enc = object(data.encryption, `${at}.encryption`, false);
      if (enc) {
        const isEnabled = need(enc.isEnabled, `${at}.encryption.isEnabled`) as boolean;
        // Veeam's own example sends `passwordId`; an all-zero id means "none".
        const given = enc.encryptionPasswordIdOrNull ?? enc.passwordId;
        const id = given === undefined || given === EMPTY_ID ? undefined : uuid(given, `${at}.encryption.encryptionPasswordIdOrNull`);
        if (isEnabled && !id) throw badRequest(`The request body is missing the required field "${at}.encryption.encryptionPasswordIdOrNull" (encryption is enabled).`);
        const { passwordId: _dropped, ...rest } = enc;
        void _dropped;
        out.encryption = { ...rest, isEnabled, ...(id ? { encryptionPasswordIdOrNull: id } : {}) };
      }
      checked.storageData = out;
    }
    result.advancedSettings = checked;
  }
  return result;
}

function guestProcessing(value: unknown): Obj {
  const g = object(value, 'guestProcessing')!;
  const app = object(g.appAwareProcessing, 'guestProcessing.appAwareProcessing')!;
  need(app.isEnabled, 'guestProcessing.appAwareProcessing.isEnabled');
  const fs = object(g.guestFSIndexing, 'guestProcessing.guestFSIndexing')!;
  need(fs.isEnabled, 'guestProcessing.guestFSIndexing.isEnabled');
  let creds = object(g.guestCredentials, 'guestProcessing.guestCredentials', false);
  // 1.3 nests the custom credentials under `credentials`, beside `useAgentManagementCredentials` (an agent
  // protection group's, which a vSphere job has not): kept in the flat 1.1/1.2 form.
  if (creds?.credentials !== undefined) {
    creds = object(creds.credentials, 'guestProcessing.guestCredentials.credentials')!;
    g.guestCredentials = creds;
  }
  if (creds?.credsId !== undefined) uuid(creds.credsId, 'guestProcessing.guestCredentials.credsId');
  return g;
}

/** The settings of a BackupJobSpec or BackupJobModel (already normalised by wire.ts), checked. */
export function jobSettingsFrom(body: Obj): JobSettings {
  const vms = object(body.virtualMachines, 'virtualMachines')!;
  const includes = list(need(vms.includes, 'virtualMachines.includes'), 'virtualMachines.includes').map((o, i) => inventoryObject(o, `virtualMachines.includes[${i}]`));
  if (includes.length === 0) throw badRequest('Invalid field "virtualMachines.includes": a backup job needs at least one object.');
  const excludes = object(vms.excludes, 'virtualMachines.excludes', false);
  if (excludes?.vms !== undefined) excludes.vms = list(excludes.vms, 'virtualMachines.excludes.vms').map((o, i) => inventoryObject(o, `virtualMachines.excludes.vms[${i}]`));
  return {
    isHighPriority: need(body.isHighPriority, 'isHighPriority') as boolean,
    virtualMachines: { includes, ...(excludes ? { excludes } : {}) },
    storage: storage(body.storage),
    guestProcessing: guestProcessing(body.guestProcessing),
    schedule: schedule(body.schedule),
  };
}

/** Every id the settings point at, by the field that names it (for the reference checks). */
export function referencedIds(s: JobSettings) {
  const enc = s.storage.advancedSettings?.storageData?.encryption;
  const creds = (s.guestProcessing.guestCredentials as Obj | undefined)?.credsId as string | undefined;
  return {
    repositoryId: s.storage.backupRepositoryId,
    proxyIds: s.storage.backupProxies.proxyIds ?? [],
    encryptionPasswordId: enc?.isEnabled ? enc.encryptionPasswordIdOrNull : undefined,
    credentialsId: creds && creds !== EMPTY_ID ? creds : undefined,
  };
}
