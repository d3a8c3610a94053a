import { setMaxListeners } from 'node:events';

/**
 * Runs many probes with at most `concurrency` at a time, all under one
 * deadline: when it passes, the probes still running are aborted (they report
 * a timeout) and those not started report that they never ran.
 */
export interface BatchOptions {
  concurrency: number;
  deadlineMs: number;
}

export type BatchOutcome<R> = { ok: true; value: R; elapsedMs: number } | { ok: false; error: unknown; elapsedMs: number };

export class BatchDeadlinePassed extends Error {}

export async function runBatch<T, R>(items: readonly T[], options: BatchOptions, probe: (item: T, signal: AbortSignal) => Promise<R>): Promise<BatchOutcome<R>[]> {
  const controller = new AbortController();
  // Every running probe listens on the one deadline signal.
  setMaxListeners(0, controller.signal);
  const timer = setTimeout(() => controller.abort(), options.deadlineMs);
  const results: BatchOutcome<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      const started = performance.now();
      if (controller.signal.aborted) {
        results[index] = { ok: false, error: new BatchDeadlinePassed('The batch deadline passed before this probe could start.'), elapsedMs: 0 };
        continue;
      }
      try {
        results[index] = { ok: true, value: await probe(items[index]!, controller.signal), elapsedMs: performance.now() - started };
      } catch (error) {
        results[index] = { ok: false, error, elapsedMs: performance.now() - started };
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, items.length)) }, worker));
  } finally {
    clearTimeout(timer);
  }
  return results;
}
