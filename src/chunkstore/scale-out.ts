/**
 * Scale-out repositories: each extent is a chunk store of its own; a backup
 * chain (one object of one backup) is placed on one extent and stays there,
 * Veeam's "data locality" policy, which is also what deduplication needs:
 * an increment can only reuse chunks of the extent its previous restore
 * point lives on. Veeam's "performance" policy (fulls and increments on
 * different extents) has no meaning for self-contained restore points whose
 * chunks are shared, so it places like data locality (docs/repository-format.md).
 */
import { manifestKeys } from './restore-points.js';
import type { ChunkStore } from './repository.js';

export interface ExtentState {
  id: string;
  /** Free bytes, when known. */
  freeBytes: number | null;
  /** Sealed or in maintenance mode: takes no new chains (Veeam's extent states). */
  acceptsNewChains: boolean;
  /** Still writable for chains it already holds (a sealed extent is not; maintenance mode is not). */
  writable: boolean;
}

export interface PlacementRequest {
  /** Extents that already hold restore points of this chain (from findChainExtents). */
  holdingChain: string[];
  /** Bytes the next restore point is expected to need, when known. */
  expectedBytes?: number;
}

/**
 * The extent the next restore point of a chain goes to: the extent that holds
 * the chain when it is still writable and has room; else the usable extent
 * with the most free space (a new full there). Undefined: no extent can take it.
 */
export function chooseExtent(extents: ExtentState[], request: PlacementRequest): { extent: ExtentState; newChain: boolean } | undefined {
  const fits = (e: ExtentState) => e.freeBytes === null || request.expectedBytes === undefined || e.freeBytes >= request.expectedBytes;
  const holding = extents.find((e) => request.holdingChain.includes(e.id) && e.writable && fits(e));
  if (holding) return { extent: holding, newChain: false };
  const candidates = extents.filter((e) => e.acceptsNewChains && e.writable && fits(e));
  if (!candidates.length) return undefined;
  const best = candidates.reduce((a, b) => ((b.freeBytes ?? Number.MAX_SAFE_INTEGER) > (a.freeBytes ?? Number.MAX_SAFE_INTEGER) ? b : a));
  return { extent: best, newChain: true };
}

/** Which extents hold restore points of a chain (reads the extents' manifests, no database needed). */
export async function findChainExtents(extents: Array<{ id: string; store: ChunkStore }>, chain: { backupId: string; objectId: string }): Promise<string[]> {
  const holding: string[] = [];
  for (const { id, store } of extents) {
    for await (const _ of manifestKeys(store, chain)) {
      holding.push(id);
      break;
    }
  }
  return holding;
}
