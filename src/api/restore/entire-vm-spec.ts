import { badRequest } from '../../http/errors.js';
import { isRevisionAtLeast } from '../../http/api-version.js';
import type { Static } from 'typebox';
import { DISK_TYPES, type EntireVmRestoreSpec } from './schemas.js';

/** An inventory object as a spec names it (VmwareObjectModel / InventoryObjectModel). */
export interface InventoryRef {
  hostName: string;
  name: string;
  type: string;
  objectId?: string;
}

export interface EntireVmRestoreRequest {
  pointId: string;
  mode: 'OriginalLocation' | 'Customized';
  powerUp: boolean;
  quickRollback: boolean;
  reason?: string;
  host?: InventoryRef;
  pool?: InventoryRef;
  folder?: InventoryRef;
  vmName?: string;
  datastore?: InventoryRef;
  diskType: (typeof DISK_TYPES)[number];
  network?: InventoryRef;
  disconnected: boolean;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const diskTypes: ReadonlySet<string> = new Set(DISK_TYPES);
const isDiskType = (v: unknown): v is EntireVmRestoreRequest['diskType'] => typeof v === 'string' && diskTypes.has(v);

/** A required, non-empty string part of an inventory object. */
function inventoryText(value: Json, key: 'hostName' | 'name' | 'type', field: string): string {
  const text = value[key];
  if (typeof text !== 'string' || text === '') throw badRequest(`Missing or invalid "${field}.${key}".`);
  return text;
}

/** `true`, `false`, "true", "false" (Ansible sends strings); anything else is the caller's mistake. */
export function flag(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (value === true || value === 'true' || value === 'True') return true;
  if (value === false || value === 'false' || value === 'False') return false;
  throw badRequest(`Invalid value of "${field}": expected true or false.`);
}

export function inventoryRef(value: unknown, field: string): InventoryRef | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw badRequest(`Invalid "${field}": expected an inventory object {hostName, name, type, objectId}.`);
  const hostName = inventoryText(value, 'hostName', field);
  const name = inventoryText(value, 'name', field);
  const type = inventoryText(value, 'type', field);
  const objectId = value.objectId;
  if (objectId !== undefined && typeof objectId !== 'string') throw badRequest(`Invalid "${field}.objectId": expected a string.`);
  return { hostName, name, type, objectId };
}

function diskType(value: unknown, field: string): EntireVmRestoreRequest['diskType'] {
  if (value === undefined || value === null) return 'Source';
  if (!isDiskType(value)) throw badRequest(`Invalid "${field}": expected one of ${DISK_TYPES.join(', ')}.`);
  return value;
}

/** The datastore part: 1.1's single `{datastore, diskType}`, or 1.2+'s `{defaultDatastore?, configurationFileDatastore?, diskMappings[]}` (one target datastore for the whole VM). */
function datastorePart(value: unknown, renamed: boolean): Pick<EntireVmRestoreRequest, 'datastore' | 'diskType'> {
  if (value === undefined || value === null) return { diskType: 'Source' };
  if (!isObject(value)) throw badRequest('Invalid "datastore": expected an object.');
  if (!renamed) return { datastore: inventoryRef(value.datastore, 'datastore.datastore'), diskType: diskType(value.diskType, 'datastore.diskType') };
  const mappings = value.diskMappings;
  if (mappings !== undefined && !Array.isArray(mappings)) throw badRequest('Invalid "datastore.diskMappings": expected an array.');
  const first: unknown = (mappings ?? [])[0];
  const mapped = isObject(first) ? inventoryRef(first.datastore, 'datastore.diskMappings[0].datastore') : undefined;
  for (const [i, m] of (mappings ?? []).entries()) {
    if (!isObject(m) || typeof m.diskName !== 'string') throw badRequest(`Missing "datastore.diskMappings[${i}].diskName".`);
    const ds = inventoryRef(m.datastore, `datastore.diskMappings[${i}].datastore`);
    if (!ds) throw badRequest(`Missing "datastore.diskMappings[${i}].datastore".`);
    if (mapped && ds.name !== mapped.name)
      throw badRequest(`Invalid "datastore.diskMappings[${i}].datastore": Rampart restores every disk of a VM to one datastore ("${mapped.name}").`);
  }
  return {
    datastore:
      inventoryRef(value.defaultDatastore, 'datastore.defaultDatastore') ?? inventoryRef(value.configurationFileDatastore, 'datastore.configurationFileDatastore') ?? mapped,
    diskType: isObject(first) ? diskType(first.diskType, 'datastore.diskMappings[0].diskType') : 'Source',
  };
}

/** 1.1/1.2 `network {network, disconnected}`; 1.3 `network {networks[{sourceNetwork, targetNetwork}], disconnected}`. */
function networkPart(value: unknown): Pick<EntireVmRestoreRequest, 'network' | 'disconnected'> {
  if (value === undefined || value === null) return { disconnected: false };
  if (!isObject(value)) throw badRequest('Invalid "network": expected an object.');
  const disconnected = flag(value.disconnected, 'network.disconnected');
  if (Array.isArray(value.networks)) {
    const first: unknown = value.networks[0];
    return { network: isObject(first) ? inventoryRef(first.targetNetwork, 'network.networks[0].targetNetwork') : undefined, disconnected };
  }
  return { network: inventoryRef(value.network, 'network.network'), disconnected };
}

/**
 * Reads either revision's EntireViVMRestoreSpec; every mistake is a 400 naming the field. The schema has
 * checked `type` and the point ids; the parts it leaves open are read here as JSON and checked by hand.
 */
export function readEntireVmRestoreSpec(spec: Static<typeof EntireVmRestoreSpec>, revision: string | undefined): EntireVmRestoreRequest {
  const body: Json = spec;
  const renamed = isRevisionAtLeast(revision, '1.2-rev0');
  const pointField = renamed ? 'restorePointId' : 'objectRestorePointId';
  const pointId = body[pointField] ?? body[renamed ? 'objectRestorePointId' : 'restorePointId'];
  if (typeof pointId !== 'string' || pointId === '') throw badRequest(`Missing "${pointField}": the restore point to restore from.`);
  const mode = spec.type;
  const request: EntireVmRestoreRequest = {
    pointId,
    mode,
    powerUp: flag(body.powerUp, 'powerUp'),
    quickRollback: mode === 'OriginalLocation' && flag(body.quickRollback, 'quickRollback'),
    reason: typeof body.reason === 'string' ? body.reason : undefined,
    diskType: 'Source',
    disconnected: false,
  };
  if (mode === 'Customized') {
    const folder = body.folder;
    if (folder !== undefined && !isObject(folder)) throw badRequest('Invalid "folder": expected {vmName, folder}.');
    if (isObject(folder) && folder.vmName !== undefined && (typeof folder.vmName !== 'string' || folder.vmName.trim() === ''))
      throw badRequest('Invalid "folder.vmName": expected a VM name.');
    Object.assign(request, {
      host: inventoryRef(body.destinationHost, 'destinationHost'),
      pool: inventoryRef(body.resourcePool, 'resourcePool'),
      folder: isObject(folder) ? inventoryRef(folder.folder, 'folder.folder') : undefined,
      vmName: isObject(folder) && typeof folder.vmName === 'string' ? folder.vmName : undefined,
      ...datastorePart(body.datastore, renamed),
      ...networkPart(body.network),
    });
  }
  return request;
}
