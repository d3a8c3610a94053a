import { isRevisionAtLeast } from '../../http/api-version.js';
import type { VmwareInventoryType } from './schemas.js';

/** An inventory object as every revision describes it, before shaping. */
export interface VmwareObject {
  hostName: string;
  name: string;
  type: VmwareInventoryType;
  objectId?: string;
  size?: string;
}

/** 1.1-rev0 has no DVSNetwork: a distributed port group is a Network there. */
export function typeFor(type: VmwareInventoryType, revision: string | undefined): VmwareInventoryType {
  return type === 'DVSNetwork' && !isRevisionAtLeast(revision, '1.2-rev0') ? 'Network' : type;
}

/**
 * The entry in the requested revision's shape: `{inventoryObject, size}` in
 * 1.1; flat with `platform` from 1.2 (`VMware` in 1.2's EPlatformType,
 * `VSphere` in 1.3's EInventoryPlatformType).
 */
export function inventoryEntry(object: VmwareObject, revision: string | undefined) {
  const type = typeFor(object.type, revision);
  const core = { hostName: object.hostName, name: object.name, type, ...(object.objectId !== undefined ? { objectId: object.objectId } : {}) };
  const size = object.size !== undefined ? { size: object.size } : {};
  if (!isRevisionAtLeast(revision, '1.2-rev0')) return { inventoryObject: core, ...size };
  return { platform: isRevisionAtLeast(revision, '1.3-rev0') ? 'VSphere' : 'VMware', ...core, ...size };
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** Sizes as Veeam prints them: "220 GB", "1.5 TB" (binary multiples). */
export function formatSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 ? String(value) : value.toFixed(1).replace(/\.0$/, '');
  return `${shown} ${UNITS[unit]}`;
}
