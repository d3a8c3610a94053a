import { badRequest } from '../../http/errors.js';
import { renamedField } from '../../http/renamed-fields.js';
import type { ReferenceRule, TypeDefinition } from './type-catalogue.js';

export type Obj = Record<string, unknown>;

/** 1.1 name → 1.2 name of the repository fields 1.2 renamed; settings are stored under the 1.1 names. */
const RENAMES: readonly [string, string][] = [
  ['enableTaskLimit', 'taskLimitEnabled'],
  ['enableReadWriteLimit', 'readWriteLimitEnabled'],
  ['autoSelect', 'autoSelectEnabled'],
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep copy with every renamed field under its 1.1 name (either spelling accepted; `stored` settles an edit's conflict). */
function toStoredSpelling(value: unknown, stored: unknown): unknown {
  if (Array.isArray(value)) return value.map((v, i) => toStoredSpelling(v, Array.isArray(stored) ? stored[i] : undefined));
  if (!isObj(value)) return value;
  const out: Obj = {};
  const old = isObj(stored) ? stored : {};
  for (const [k, v] of Object.entries(value)) {
    if (RENAMES.some(([, newName]) => newName === k)) continue;
    out[k] = toStoredSpelling(v, old[k]);
  }
  for (const [oldName, newName] of RENAMES) {
    const v = renamedField<unknown>(value, oldName, newName, old[oldName]);
    if (v !== undefined) out[oldName] = v;
  }
  return out;
}

/** The reply: every renamed field under both names, so parsers of 1.1 and 1.2 both find theirs. */
export function withBothSpellings(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withBothSpellings);
  if (!isObj(value)) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) out[k] = withBothSpellings(v);
  for (const [oldName, newName] of RENAMES) if (oldName in out) out[newName] = out[oldName];
  return out;
}

export function valueAt(root: unknown, path: string): unknown {
  let cur: unknown = root;
  for (const part of path.replace(/\?/g, '').split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

/**
 * The type-specific settings of a spec or model: the documented fields only,
 * renamed fields under one spelling, required fields present, enums and numbers
 * in range. Every failure is a 400 naming the field.
 */
export function settingsFrom(type: string, def: TypeDefinition, body: Obj, stored?: Obj): Obj {
  const picked: Obj = {};
  for (const field of def.fields) if (body[field] !== undefined && body[field] !== null) picked[field] = body[field];
  // Task limit fields sit at the top level of object-storage types and were renamed there too.
  const taskLimit = renamedField<unknown>(body, 'enableTaskLimit', 'taskLimitEnabled', stored?.enableTaskLimit);
  if (def.fields.includes('enableTaskLimit') && taskLimit !== undefined) picked.enableTaskLimit = taskLimit;
  const settings = toStoredSpelling(picked, stored) as Obj;

  for (const path of def.required) {
    const optionalParent = path.includes('?.') ? path.slice(0, path.indexOf('?.')) : undefined;
    if (optionalParent !== undefined && !present(valueAt(settings, optionalParent))) continue;
    if (!present(valueAt(settings, path))) throw badRequest(`The request body is missing the required field "${path.replace('?', '')}" (${type} repositories need it).`);
  }
  for (const [path, allowed] of Object.entries(def.enums)) {
    const v = valueAt(settings, path);
    if (v !== undefined && v !== null && !allowed.includes(v as string))
      throw badRequest(`The field "${path}" must be one of: ${allowed.join(', ')} (got "${String(v).slice(0, 60)}").`);
  }
  checkNumbers(type, settings);
  const connection = valueAt(settings, 'account.connectionSettings') as Obj | undefined;
  if (connection?.connectionType === 'SelectedGateway' && !(Array.isArray(connection.gatewayServerIds) && connection.gatewayServerIds.length > 0)) {
    throw badRequest('The field "account.connectionSettings.gatewayServerIds" must list at least one gateway server when connectionType is SelectedGateway.');
  }
  const gateway = valueAt(settings, 'share.gatewayServer') as Obj | undefined;
  if (gateway && gateway.autoSelect === false && !(Array.isArray(gateway.gatewayServerIds) && gateway.gatewayServerIds.length > 0)) {
    throw badRequest('The field "share.gatewayServer.gatewayServerIds" must list at least one gateway server when autoSelect is false.');
  }
  return settings;
}

function integerIn(path: string, v: unknown, min: number, max: number): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw badRequest(`The field "${path}" must be a whole number from ${min} to ${max} (got ${JSON.stringify(v)?.slice(0, 40)}).`);
}

function checkNumbers(type: string, s: Obj): void {
  const repo = (s.repository ?? {}) as Obj;
  integerIn('repository.maxTaskCount', repo.maxTaskCount, 1, 1024);
  // 0 is Veeam's own example value: no limit.
  integerIn('repository.readWriteRate', repo.readWriteRate, 0, 1_048_576);
  integerIn('maxTaskCount', s.maxTaskCount, 1, 1024);
  if (repo.enableTaskLimit === true && repo.maxTaskCount === undefined) throw badRequest('The field "repository.maxTaskCount" is required when the task limit is enabled.');
  if (repo.enableReadWriteLimit === true && repo.readWriteRate === undefined)
    throw badRequest('The field "repository.readWriteRate" is required when the read/write limit is enabled.');
  if (type === 'LinuxHardened') {
    // Veeam: recent backups stay immutable for 7 to 9999 days.
    if (repo.makeRecentBackupsImmutableDays === undefined)
      throw badRequest(
        'The request body is missing the required field "repository.makeRecentBackupsImmutableDays" (LinuxHardened repositories keep recent backups immutable for 7 to 9999 days).',
      );
    integerIn('repository.makeRecentBackupsImmutableDays', repo.makeRecentBackupsImmutableDays, 7, 9999);
  }
  for (const holder of ['bucket', 'container']) {
    const limit = valueAt(s, `${holder}.storageConsumptionLimit`) as Obj | undefined;
    if (limit?.isEnabled === true) {
      if (limit.consumptionLimitKind === undefined)
        throw badRequest(`The field "${holder}.storageConsumptionLimit.consumptionLimitKind" (TB or PB) is required when the limit is enabled.`);
      integerIn(`${holder}.storageConsumptionLimit.consumptionLimitCount`, limit.consumptionLimitCount ?? null, 1, 1_000_000);
      if (limit.consumptionLimitCount === undefined) throw badRequest(`The field "${holder}.storageConsumptionLimit.consumptionLimitCount" is required when the limit is enabled.`);
    }
  }
  const immutability = valueAt(s, 'bucket.immutability') as Obj | undefined;
  if (immutability?.isEnabled === true) {
    if (immutability.daysCount === undefined) throw badRequest('The field "bucket.immutability.daysCount" is required when immutability is enabled.');
    integerIn('bucket.immutability.daysCount', immutability.daysCount, 1, 9999);
  }
}

export interface FoundReference {
  rule: ReferenceRule;
  path: string;
  id: string;
}

/** Every id the settings point at, with the rule that says what it must be. */
export function referencesIn(def: TypeDefinition, settings: Obj): FoundReference[] {
  const found: FoundReference[] = [];
  for (const rule of def.references) {
    const many = rule.path.endsWith('[]');
    const path = many ? rule.path.slice(0, -2) : rule.path;
    const v = valueAt(settings, path);
    const ids = many ? (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]) : v === undefined || v === null ? [] : [v];
    ids.forEach((id, i) => {
      const where = many ? `${path}[${i}]` : path;
      if (typeof id !== 'string' || !UUID.test(id)) throw badRequest(`The field "${where}" must be an id (uuid), got ${JSON.stringify(id)?.slice(0, 60)}.`);
      found.push({ rule, path: where, id: id.toLowerCase() });
    });
  }
  return found;
}
