import type { StorageFigures } from './figures.js';

/** One thing to measure: a repository, by the host (or service point) it lives on. */
export interface MeasureTarget {
  id: string;
  /** Targets on one host share its slots, and its failure to answer, within a pass. */
  hostKey: string;
  measure(signal: AbortSignal): Promise<StorageFigures>;
}

export type MeasureOutcome = { id: string; figures: StorageFigures; error?: undefined } | { id: string; figures?: undefined; error: string };

export interface RefresherOptions {
  intervalMs: number;
  /** Measurements in flight at once, over all hosts. */
  concurrency: number;
  /** Measurements in flight at once on one host, so a slow host cannot take every slot. */
  perHostConcurrency: number;
  /** Bound on one measurement; past it the repository is offline for this pass. */
  timeoutMs: number;
  targets(ids?: string[]): Promise<MeasureTarget[]>;
  save(outcome: MeasureOutcome, measuredAt: string): Promise<void>;
  onError?(err: unknown): void;
}

export interface PassSummary {
  measured: number;
  failed: number;
  skipped: number;
  elapsedMs: number;
}

class TimedOut extends Error {}

/**
 * Measures repositories in the background so that the states list only reads
 * stored figures and never waits on a host. A pass runs every target with
 * bounded concurrency (overall and per host) and a per-measurement timeout; a
 * host that times out once is not asked again in the same pass: its remaining
 * repositories are recorded offline at once.
 */
export class StatesRefresher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PassSummary> | undefined;
  private stopped = false;
  private readonly controller = new AbortController();
  private readonly measuredListeners: ((outcome: MeasureOutcome) => void)[] = [];

  constructor(private readonly options: RefresherOptions) {}

  /** Calls `listener` with every stored measurement (the storage-space notifications watch them). */
  onMeasured(listener: (outcome: MeasureOutcome) => void): void {
    this.measuredListeners.push(listener);
  }

  start(): void {
    if (this.options.intervalMs <= 0) return;
    const tick = () => {
      this.timer = setTimeout(() => {
        this.refreshAll()
          .catch((err) => this.options.onError?.(err))
          .finally(() => {
            if (!this.stopped) tick();
          });
      }, this.options.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.controller.abort();
    await this.running?.catch(() => undefined);
  }

  /** One pass over every repository; a pass already under way is joined, not doubled. */
  refreshAll(): Promise<PassSummary> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Measures the given repositories now (on demand), outside the periodic pass. */
  async refresh(ids: string[]): Promise<PassSummary> {
    return this.run(await this.options.targets(ids));
  }

  private async pass(): Promise<PassSummary> {
    return this.run(await this.options.targets());
  }

  private async run(targets: MeasureTarget[]): Promise<PassSummary> {
    const started = Date.now();
    const summary: PassSummary = { measured: 0, failed: 0, skipped: 0, elapsedMs: 0 };
    const queue = [...targets];
    const inFlightByHost = new Map<string, number>();
    const deadHosts = new Set<string>();
    let inFlight = 0;
    let wake: (() => void) | undefined;
    const skippedSaves: Promise<void>[] = [];

    const finish = async (outcome: MeasureOutcome) => {
      try {
        await this.options.save(outcome, new Date().toISOString());
        for (const listener of this.measuredListeners) listener(outcome);
      } catch (err) {
        this.options.onError?.(err);
      }
    };

    const measureOne = async (target: MeasureTarget) => {
      const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.options.timeoutMs)]);
      let timer: NodeJS.Timeout | undefined;
      try {
        // The race covers measurements that ignore their signal (a blocked system call).
        const figures = await Promise.race([
          target.measure(signal),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new TimedOut()), this.options.timeoutMs);
          }),
        ]);
        summary.measured++;
        await finish({ id: target.id, figures });
      } catch (err) {
        summary.failed++;
        const timedOut = err instanceof TimedOut || signal.aborted;
        if (timedOut) deadHosts.add(target.hostKey);
        const message = timedOut ? `No answer within ${Math.round(this.options.timeoutMs / 1000)} s.` : err instanceof Error ? err.message : String(err);
        await finish({ id: target.id, error: message });
      } finally {
        clearTimeout(timer);
      }
    };

    await new Promise<void>((resolveAll) => {
      const pump = () => {
        if (this.controller.signal.aborted) queue.length = 0;
        for (let i = 0; i < queue.length && inFlight < this.options.concurrency;) {
          const target = queue[i]!;
          if (deadHosts.has(target.hostKey)) {
            queue.splice(i, 1);
            summary.skipped++;
            skippedSaves.push(finish({ id: target.id, error: 'The host did not answer another measurement in this pass; not asked again until the next one.' }));
            continue;
          }
          if ((inFlightByHost.get(target.hostKey) ?? 0) >= this.options.perHostConcurrency) {
            i++;
            continue;
          }
          queue.splice(i, 1);
          inFlight++;
          inFlightByHost.set(target.hostKey, (inFlightByHost.get(target.hostKey) ?? 0) + 1);
          void measureOne(target).finally(() => {
            inFlight--;
            inFlightByHost.set(target.hostKey, (inFlightByHost.get(target.hostKey) ?? 1) - 1);
            wake?.();
          });
        }
        if (queue.length === 0 && inFlight === 0) resolveAll();
      };
      wake = pump;
      pump();
    });
    await Promise.all(skippedSaves);
    summary.elapsedMs = Date.now() - started;
    return summary;
  }
}
