/**
 * How a job's Veeam settings map onto the store (docs/repository-format.md §2, §4).
 */

export type StorageOptimization = 'WANTarget' | 'LANTarget' | 'LocalTarget' | 'LocalTargetLarge' | 'LocalTargetLarge4096' | 'LocalTargetLarge8192';
export type CompressionLevel = 'None' | 'DedupFriendly' | 'Optimal' | 'High' | 'Extreme';

const KiB = 1024;
const MiB = 1024 * KiB;

export const CHUNK_SIZE_BY_OPTIMIZATION: Readonly<Record<StorageOptimization, number>> = {
  WANTarget: 256 * KiB,
  LANTarget: 512 * KiB,
  LocalTarget: 1 * MiB,
  LocalTargetLarge: 4 * MiB,
  LocalTargetLarge4096: 4 * MiB,
  LocalTargetLarge8192: 8 * MiB,
};

/** Level 0 means "store raw": zstd's own level 0 would mean its default (3), which is not what None asks for. */
export const ZSTD_LEVEL_BY_COMPRESSION: Readonly<Record<CompressionLevel, number>> = {
  None: 0,
  DedupFriendly: 1,
  Optimal: 3,
  High: 9,
  Extreme: 19,
};

/** The chunk sizes this format version writes (config.json `chunkSizes`). */
export const CHUNK_SIZES: readonly number[] = [...new Set(Object.values(CHUNK_SIZE_BY_OPTIMIZATION))].sort((a, b) => a - b);

export function chunkSizeFor(optimization: StorageOptimization): number {
  const size = CHUNK_SIZE_BY_OPTIMIZATION[optimization];
  if (!size) throw new Error(`unknown storage optimization "${optimization}"`);
  return size;
}

export function zstdLevelFor(level: CompressionLevel): number {
  const value = ZSTD_LEVEL_BY_COMPRESSION[level];
  if (value === undefined) throw new Error(`unknown compression level "${level}"`);
  return value;
}
