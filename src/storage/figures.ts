/**
 * What a measurement of a repository's storage found. Bytes are kept as numbers:
 * doubles hold integers exactly up to 8 PiB, far beyond any single repository.
 */
export type CapacitySource = 'filesystem' | 'sosapi' | 'consumptionLimit' | 'unknown';

export interface StorageFigures {
  capacityBytes: number | null;
  freeBytes: number | null;
  usedBytes: number | null;
  source: CapacitySource;
}

export const UNKNOWN_FIGURES: StorageFigures = { capacityBytes: null, freeBytes: null, usedBytes: null, source: 'unknown' };

const GIB = 1024 ** 3;

/** The API reports GB (Veeam means GiB) as a double; two decimals are what its console shows. */
export function toGB(bytes: number | null): number {
  if (bytes === null || !Number.isFinite(bytes)) return 0;
  return Math.round((bytes / GIB) * 100) / 100;
}

/** A storage consumption limit (`{count, TB|PB}`) in bytes; Veeam's TB and PB are binary. */
export function consumptionLimitBytes(count: number, kind: 'TB' | 'PB'): number {
  return count * 1024 ** (kind === 'PB' ? 5 : 4);
}

/** Thrown by a check with a message that says what to fix; it reaches the session result as is. */
export class StorageCheckError extends Error {
  override name = 'UserFacingError';
}
