import { badRequest } from '../../http/errors.js';
import { isRevisionAtLeast } from '../../http/api-version.js';
import { flag, inventoryRef, type InventoryRef } from './entire-vm-spec.js';
import type { FcdMapping } from '../../mover/fcd-recovery.js';

export interface FcdRecoveryRequest {
  pointId: string;
  cluster: InventoryRef;
  disks: FcdMapping[];
  redirect: boolean;
  cacheDatastore?: InventoryRef;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTextList = (v: unknown): v is string[] => Array.isArray(v) && v.every((n) => typeof n === 'string');

/** A file name of the datastore: no folder parts, ends in .vmdk (the flat extent is named after it). */
const VMDK_NAME = /^[^/\\\0]+\.vmdk$/i;

/** A required, non-blank name of a disk mapping. */
function diskName(mapping: Json, key: keyof FcdMapping, field: string): string {
  const name = mapping[key];
  if (typeof name !== 'string' || name.trim() === '') throw badRequest(`Missing or invalid "${field}.${key}".`);
  return name;
}

/** VmwareFcdInstantRecoverySpec (1.1 `objectRestorePointId`, 1.2+ `restorePointId`; 1.3 adds `reason`). */
export function readFcdRecoverySpec(input: unknown, revision: string | undefined): FcdRecoveryRequest {
  const body: Json = isObject(input) ? input : {};
  const renamed = isRevisionAtLeast(revision, '1.2-rev0');
  const pointField = renamed ? 'restorePointId' : 'objectRestorePointId';
  const pointId = body[pointField];
  if (typeof pointId !== 'string' || pointId === '') throw badRequest(`Missing "${pointField}": the restore point to recover from.`);
  const cluster = inventoryRef(body.destinationCluster, 'destinationCluster');
  if (!cluster) throw badRequest('Missing "destinationCluster": the cluster (or host) that mounts the disks.');
  const mapping = body.disksMapping;
  if (!Array.isArray(mapping) || mapping.length === 0) throw badRequest('Missing "disksMapping": at least one disk of the backup to recover.');
  const disks = mapping.map((m, i): FcdMapping => {
    const field = `disksMapping[${i}]`;
    if (!isObject(m)) throw badRequest(`Invalid "${field}": expected {nameInBackup, mountedDiskName, registeredFcdName}.`);
    const nameInBackup = diskName(m, 'nameInBackup', field);
    const mountedDiskName = diskName(m, 'mountedDiskName', field);
    const registeredFcdName = diskName(m, 'registeredFcdName', field);
    if (!VMDK_NAME.test(mountedDiskName)) throw badRequest(`Invalid "${field}.mountedDiskName": expected a file name ending in .vmdk, without folders.`);
    return { nameInBackup, mountedDiskName, registeredFcdName };
  });
  const names = new Set(disks.map((d) => d.mountedDiskName.toLowerCase()));
  if (names.size !== disks.length) throw badRequest('Invalid "disksMapping": two disks have the same mountedDiskName.');
  const request: FcdRecoveryRequest = { pointId, cluster, disks, redirect: false };
  const cache = body.writeCache;
  if (cache !== undefined && !isObject(cache)) throw badRequest('Invalid "writeCache": expected {redirectIsEnabled, cacheDatastore}.');
  if (isObject(cache)) {
    request.redirect = flag(cache.redirectIsEnabled, 'writeCache.redirectIsEnabled');
    request.cacheDatastore = inventoryRef(cache.cacheDatastore, 'writeCache.cacheDatastore');
    if (request.redirect && !request.cacheDatastore) throw badRequest('Missing "writeCache.cacheDatastore": "writeCache.redirectIsEnabled" is true.');
  }
  return request;
}

/** VmwareFcdQuickMigrationSpec: `targetDatastore` (required) and optionally which mounted disks move (all by default). */
export function readFcdMigrationSpec(input: unknown): { datastore: InventoryRef; mountedDiskNames?: string[] } {
  const body: Json = isObject(input) ? input : {};
  const datastore = inventoryRef(body.targetDatastore, 'targetDatastore');
  if (!datastore) throw badRequest('Missing "targetDatastore": the datastore the disks move to.');
  const names = body.mountedDiskNames;
  if (names !== undefined && !isTextList(names)) throw badRequest('Invalid "mountedDiskNames": expected an array of mounted disk names.');
  return { datastore, mountedDiskNames: names };
}
