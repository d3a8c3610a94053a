import { badRequest } from '../../http/errors.js';
import { isRevisionAtLeast } from '../../http/api-version.js';
import { flag, inventoryRef, type InventoryRef } from './entire-vm-spec.js';

export interface InstantVmRecoveryRequest {
  pointId: string;
  mode: 'OriginalLocation' | 'Customized';
  powerUp: boolean;
  vmName?: string;
  host?: InventoryRef;
  folder?: InventoryRef;
  pool?: InventoryRef;
  redirect: boolean;
  cacheDatastore?: InventoryRef;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** InstantViVMRecoverySpec of either revision (1.1 `objectRestorePointId`/`redirectIsEnabled`, 1.2+ `restorePointId`, 1.3 `redirectEnabled`). */
export function readInstantVmRecoverySpec(input: unknown, revision: string | undefined): InstantVmRecoveryRequest {
  const body: Json = isObject(input) ? input : {};
  const renamed = isRevisionAtLeast(revision, '1.2-rev0');
  const pointField = renamed ? 'restorePointId' : 'objectRestorePointId';
  const pointId = body[pointField] ?? body[renamed ? 'objectRestorePointId' : 'restorePointId'];
  if (typeof pointId !== 'string' || pointId === '') throw badRequest(`Missing "${pointField}": the restore point to recover from.`);
  const mode = body.type;
  if (mode !== 'OriginalLocation' && mode !== 'Customized') throw badRequest('Invalid "type": expected OriginalLocation or Customized.');
  const request: InstantVmRecoveryRequest = { pointId, mode, powerUp: flag(body.powerUp, 'powerUp'), redirect: false };
  if (mode === 'Customized') {
    const destination = body.destination;
    if (destination !== undefined && !isObject(destination)) throw badRequest('Invalid "destination": expected an object.');
    if (isObject(destination)) {
      const vmName = destination.restoredVmName;
      if (vmName !== undefined && (typeof vmName !== 'string' || vmName.trim() === '')) throw badRequest('Invalid "destination.restoredVmName": expected a VM name.');
      request.vmName = vmName;
      request.host = inventoryRef(destination.destinationHost, 'destination.destinationHost');
      request.folder = inventoryRef(destination.folder, 'destination.folder');
      request.pool = inventoryRef(destination.resourcePool, 'destination.resourcePool');
    }
    const datastore = body.datastore;
    if (datastore !== undefined && !isObject(datastore)) throw badRequest('Invalid "datastore": expected {redirectIsEnabled, cacheDatastore}.');
    if (isObject(datastore)) {
      const field = 'redirectEnabled' in datastore ? 'redirectEnabled' : 'redirectIsEnabled';
      request.redirect = flag(datastore[field], `datastore.${field}`);
      request.cacheDatastore = inventoryRef(datastore.cacheDatastore, 'datastore.cacheDatastore');
      if (request.redirect && !request.cacheDatastore) throw badRequest(`Missing "datastore.cacheDatastore": "datastore.${field}" is true.`);
    }
  }
  return request;
}

/** ViVMQuickMigrationSpec: where the running VM moves (1.1/1.2 a datastore object; 1.3 `{defaultDatastore, diskMappings}`). */
export function readQuickMigrationSpec(input: unknown): { host?: InventoryRef; pool?: InventoryRef; folder?: InventoryRef; datastore?: InventoryRef } {
  const body: Json = isObject(input) ? input : {};
  const host = inventoryRef(body.destinationHost, 'destinationHost');
  if (!host) throw badRequest('Missing "destinationHost": the host the VM migrates to.');
  const ds = body.datastore;
  const datastore = isObject(ds) && 'hostName' in ds ? inventoryRef(ds, 'datastore') : isObject(ds) ? inventoryRef(ds.defaultDatastore, 'datastore.defaultDatastore') : undefined;
  return { host, pool: inventoryRef(body.resourcePool, 'resourcePool'), folder: inventoryRef(body.folder, 'folder'), datastore };
}
