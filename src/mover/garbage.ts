import { collectGarbage, type ChunkStore } from '../chunkstore/index.js';
import { formatBytes } from './bytes.js';
import type { SessionContext } from '../sessions/runner.js';

/**
 * After retention removed restore points, the chunks no restore point
 * references any more are deleted (mark and sweep, docs/repository-format.md §7),
 * so a repository does not grow with every run. Chunks written or reused after
 * the grace window before the oldest running backup of the repository stay (its
 * lock says when it started). A failure does not undo the backup: it is logged
 * as a Warning and returned, and the next run's sweep finds the same chunks.
 */
export async function removeUnreferencedData(
  ctx: Pick<SessionContext, 'log'>,
  store: ChunkStore,
  options: { graceMs?: number; signal?: AbortSignal },
): Promise<string | undefined> {
  try {
    const report = await collectGarbage(store, { graceMs: options.graceMs, signal: options.signal });
    const kept = report.keptUnreferencedChunks > 0 ? `; ${report.keptUnreferencedChunks} unreferenced chunk(s) newer than ${report.cutoff} kept for the next run` : '';
    await ctx.log(`Removing unreferenced data: ${report.deletedChunks} chunk(s) deleted, ${formatBytes(report.deletedBytes)} freed${kept}`);
    return undefined;
  } catch (err) {
    const reason = `unreferenced data was not removed: ${(err as Error).message}`;
    await ctx.log('Removing unreferenced data failed', 'Warning', (err as Error).message);
    return reason;
  }
}
