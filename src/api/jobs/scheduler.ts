import type { Logger } from 'pino';
import type { Store } from '../../store/database.js';
import { storedSettings, type JobRow } from './model.js';
import { nextRunOf, retryPolicy, runsAfter } from './schedule.js';
import type { JobsService } from './service.js';

/**
 * Runs enabled jobs when their `nextRun` comes. Every node ticks; a due job is
 * claimed by moving its next_run forward with a compare-and-set on the old
 * value, so on a shared PostgreSQL exactly one node fires it. The same tick
 * fails runs whose lease lapsed (their node died). A failed automatic run is
 * retried per `schedule.retry`; a finished run starts the jobs scheduled
 * `afterThisJob`.
 */
export class JobScheduler {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly jobs: JobsService,
    private readonly logger: Logger,
  ) {
    jobs.onRunEnded = (job, result) => {
      this.afterRun(job, result).catch((err: Error) => this.logger.warn({ job: job.id, err: err.message }, 'could not schedule what follows a job run'));
    };
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.ticking ??= this.tick()
        .then(() => undefined)
        .catch((err: Error) => this.logger.warn({ err: err.message }, 'job scheduler tick failed'))
        .finally(() => (this.ticking = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
  }

  /** One pass: lapsed leases first, then every due job. */
  async tick(now = new Date()): Promise<string[]> {
    await this.jobs.failLapsedRuns();
    const due = await this.store.db
      .selectFrom('jobs')
      .selectAll()
      .where('is_disabled', '=', 0)
      .where('next_run', 'is not', null)
      .where('next_run', '<=', now.toISOString())
      .execute();
    const fired: string[] = [];
    for (const job of due) {
      if (await this.claim(job, nextRunOf(storedSettings(job).schedule, now)?.toISOString() ?? null)) {
        if (await this.fire(job)) fired.push(job.id);
      }
    }
    return fired;
  }

  /** Compare-and-set on next_run: true on the one node that moved it. */
  private async claim(job: JobRow, next: string | null): Promise<boolean> {
    const result = await this.store.db.updateTable('jobs').set({ next_run: next }).where('id', '=', job.id).where('next_run', '=', job.next_run).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  private async fire(job: JobRow): Promise<boolean> {
    try {
      await this.jobs.launch(job, false, null);
      return true;
    } catch (err) {
      // Already running (a long run overlapping its next slot) or a reference gone: Veeam skips the slot too.
      this.logger.warn({ job: job.id, err: (err as Error).message }, 'scheduled job run skipped');
      return false;
    }
  }

  private async afterRun(job: JobRow, result: string): Promise<void> {
    const current = await this.store.db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirst();
    if (!current) return;
    const retry = retryPolicy(storedSettings(current).schedule);
    if (result === 'Failed' && retry && storedSettings(current).schedule.runAutomatically && current.retry_attempt < retry.count && current.is_disabled === 0) {
      const at = new Date(Date.now() + retry.awaitMinutes * 60_000).toISOString();
      // The retry takes the next slot unless the regular one comes first.
      const next = current.next_run && current.next_run < at ? current.next_run : at;
      await this.store.db
        .updateTable('jobs')
        .set({ retry_attempt: current.retry_attempt + 1, next_run: next })
        .where('id', '=', current.id)
        .execute();
    } else if (current.retry_attempt !== 0 && result !== 'Failed') {
      await this.store.db.updateTable('jobs').set({ retry_attempt: 0 }).where('id', '=', current.id).execute();
    }
    // Chained jobs: those scheduled to run after this one.
    const followers = (await this.jobs.all()).filter((j) => j.is_disabled === 0 && runsAfter(storedSettings(j).schedule)?.toLowerCase() === current.name_key);
    for (const follower of followers) await this.fire(follower);
  }
}
