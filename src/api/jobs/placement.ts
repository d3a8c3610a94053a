import { chooseExtent, findChainExtents, type ChunkStore, type ExtentState } from '../../chunkstore/index.js';
import type { RepositoriesService } from '../repositories/service.js';
import type { ResolvedRepository } from './references.js';

/** Where one VM's chain goes in this run, and whether it starts there (then the run writes a full). */
export interface Placement {
  store: ChunkStore;
  /** The repository (or extent) the store belongs to. */
  repositoryId: string;
  extentName?: string;
  newChain: boolean;
}

/**
 * The stores a run writes to. A plain repository is one store for every VM.
 * A scale-out repository places each chain (backup × VM) by data locality
 * (chunkstore/scale-out.ts): it stays on the performance extent that holds it
 * while that extent is writable; sealed extents take no new data, extents in
 * maintenance mode are neither read nor written; a chain that must move starts
 * with a full on the extent chosen for it, the one with the most free space.
 */
export interface RunStores {
  placementOf(chain: { backupId: string; objectId: string }): Promise<Placement>;
  /** Every opened store (retention, closing). */
  close(): Promise<void>;
}

export async function openRunStores(
  repositories: RepositoriesService,
  repository: ResolvedRepository,
  open: (repositoryId: string) => Promise<ChunkStore>,
  signal?: AbortSignal,
): Promise<RunStores> {
  if (repository.kind === 'repository') {
    const store = await open(repository.id);
    return { placementOf: async () => ({ store, repositoryId: repository.id, newChain: false }), close: () => store.backend.close() };
  }
  if (!repositories.extentMembers) throw new Error(`Scale-out repository "${repository.name}" cannot be resolved: the scale-out section is not loaded.`);
  const ids = (await repositories.extentMembers({ scaleOutId: repository.id, tiers: ['performance'] }).execute()).map((r) => r.repository_id);
  const extents: Array<{ id: string; name: string; store: ChunkStore; state: ExtentState }> = [];
  const skipped: string[] = [];
  try {
    for (const id of ids) {
      const access = await repositories.extentAccess(id);
      const row = await repositories.get(id);
      if (!access.read) {
        skipped.push(`${row.name}: ${access.reason ?? 'unavailable'}`);
        continue;
      }
      extents.push({ id, name: row.name, store: await open(id), state: { id, freeBytes: null, acceptsNewChains: access.write, writable: access.write } });
    }
  } catch (err) {
    for (const e of extents) await e.store.backend.close().catch(() => undefined);
    throw err;
  }
  const chosen = new Map<string, Placement>();
  return {
    async placementOf(chain) {
      const key = `${chain.backupId}/${chain.objectId}`;
      const known = chosen.get(key);
      if (known) return known;
      const holding = await findChainExtents(extents, chain);
      // A chain that must start (or move) goes to the extent with the most free space now (Veeam's data locality
      // placement); measured at each such decision, so the VMs of one run spread as the extents fill.
      if (!extents.some((e) => holding.includes(e.id) && e.state.writable)) {
        for (const e of extents) if (e.state.acceptsNewChains && e.state.writable) e.state.freeBytes = await repositories.freeBytesNow(e.id, signal);
      }
      const pick = chooseExtent(
        extents.map((e) => e.state),
        { holdingChain: holding },
      );
      if (!pick) {
        throw new Error(
          `No extent of scale-out repository "${repository.name}" can take new data (sealed or in maintenance mode${skipped.length ? `; ${skipped.join('; ')}` : ''}).`,
        );
      }
      const extent = extents.find((e) => e.id === pick.extent.id)!;
      const placement: Placement = { store: extent.store, repositoryId: extent.id, extentName: extent.name, newChain: pick.newChain };
      chosen.set(key, placement);
      return placement;
    },
    async close() {
      for (const e of extents) await e.store.backend.close().catch(() => undefined);
    },
  };
}
