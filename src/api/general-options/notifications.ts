import type { Logger } from 'pino';
import type { Store } from '../../store/database.js';
import type { SessionEnd } from '../../sessions/runner.js';
import type { MeasureOutcome } from '../../storage/refresher.js';
import type { GeneralOptionsService } from './service.js';

const DAY_MS = 86_400_000;

/** Fills Veeam's subject variables (%Time%, %JobName%, %JobResult%, %ObjectCount%, %Issues%). */
export function jobSubject(template: string, values: { time: string; jobName: string; result: string; objectCount: number; issues: number }): string {
  return template
    .replaceAll('%Time%', values.time)
    .replaceAll('%JobName%', values.jobName)
    .replaceAll('%JobResult%', values.result)
    .replaceAll('%ObjectCount%', String(values.objectCount))
    .replaceAll('%Issues%', values.issues > 0 ? `(${values.issues} issue(s))` : '');
}

/**
 * The email notifications the general options name: job results (at a job session's
 * end), backup storage below the free-space threshold (from the repository refresher's
 * measurements) and the serving certificate's coming expiry. Sending never blocks the
 * event that caused it.
 */
export class Notifications {
  /** Repositories already reported below the threshold: one message per crossing, not per pass. */
  private readonly lowOnSpace = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly options: GeneralOptionsService,
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  /** Resolves when every notification started so far has been sent or dropped (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private track(work: Promise<unknown>): void {
    const p = work.catch((err) => this.logger.warn({ err: (err as Error).message }, 'notification failed')).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  sessionEnded(end: SessionEnd): void {
    this.track(this.jobResult(end));
  }

  private async jobResult(end: SessionEnd): Promise<void> {
    const session = await this.store.db.selectFrom('sessions').selectAll().where('id', '=', end.id).executeTakeFirst();
    if (!session || session.session_type !== 'Job' || !session.resource_id) return;
    const job = await this.store.db.selectFrom('jobs').select(['name', 'objects_count']).where('id', '=', session.resource_id).executeTakeFirst();
    const issues = await this.store.db
      .selectFrom('session_logs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('session_id', '=', end.id)
      .where('status', 'in', ['Warning', 'Failed'])
      .executeTakeFirst();
    const jobName = job?.name ?? session.name;
    await this.options.notify(
      (o) => (end.result === 'Success' ? o.emailSettings.notifyOnSuccess : end.result === 'Warning' ? o.emailSettings.notifyOnWarning : o.emailSettings.notifyOnFailure),
      (o) => ({
        subject: jobSubject(o.emailSettings.subject, {
          time: session.end_time ?? new Date().toISOString(),
          jobName,
          result: end.result,
          objectCount: job?.objects_count ?? 0,
          issues: Number(issues?.n ?? 0),
        }),
        text: [
          `Job: ${jobName}`,
          `Result: ${end.result}${end.canceled ? ' (stopped)' : ''}`,
          `Started: ${session.creation_time}`,
          `Ended: ${session.end_time ?? ''}`,
          session.result_message ? `Details: ${session.result_message}` : '',
          `Session: ${end.id}`,
        ]
          .filter(Boolean)
          .join('\n'),
      }),
    );
  }

  repositoryMeasured(outcome: MeasureOutcome): void {
    this.track(this.storageSpace(outcome));
  }

  private async storageSpace(outcome: MeasureOutcome): Promise<void> {
    const f = outcome.figures;
    if (!f || f.capacityBytes === null || f.freeBytes === null || f.capacityBytes <= 0) return;
    const options = await this.options.get();
    const threshold = options.notifications.storageSpaceThreshold;
    const freePercent = (f.freeBytes / f.capacityBytes) * 100;
    if (!options.notifications.storageSpaceThresholdEnabled || freePercent >= threshold) {
      this.lowOnSpace.delete(outcome.id);
      return;
    }
    if (this.lowOnSpace.has(outcome.id)) return;
    this.lowOnSpace.add(outcome.id);
    const repo = await this.store.db.selectFrom('repositories').select(['name']).where('id', '=', outcome.id).executeTakeFirst();
    const name = repo?.name ?? outcome.id;
    const sent = await this.options.notify(
      () => true,
      () => ({
        subject: `[Warning] Backup repository "${name}" is low on free space`,
        text: `Backup repository "${name}" has ${freePercent.toFixed(1)} % free space (${gib(f.freeBytes!)} GB of ${gib(f.capacityBytes!)} GB), below the ${threshold} % threshold.`,
      }),
    );
    // Not sent (notifications off, SMTP down): try again at the next measurement.
    if (!sent) this.lowOnSpace.delete(outcome.id);
  }

  private certificate: { current: () => { validBy: Date; thumbprint: string }; warningDays: number } | undefined;
  private certificateNotified = '';

  /** Checks the serving certificate now and then once a day; returns a function that stops it. */
  watchCertificate(current: () => { validBy: Date; thumbprint: string }, warningDays: number): () => void {
    this.certificate = { current, warningDays };
    this.checkCertificate();
    const timer = setInterval(() => this.checkCertificate(), DAY_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** One message per certificate once it is within the warning days (also checked when the options change). */
  checkCertificate(): void {
    if (!this.certificate) return;
    const { validBy, thumbprint } = this.certificate.current();
    const msLeft = validBy.getTime() - Date.now();
    if (msLeft >= this.certificate.warningDays * DAY_MS || this.certificateNotified === thumbprint) return;
    const daysLeft = Math.max(0, Math.floor(msLeft / DAY_MS));
    this.track(
      this.options
        .notify(
          (o) => o.notifications.notifyOnSupportExpiration,
          () => ({
            subject: msLeft <= 0 ? '[Failed] The Rampart server certificate has expired' : `[Warning] The Rampart server certificate expires in ${daysLeft} day(s)`,
            text: `The serving certificate ${thumbprint} is valid until ${validBy.toISOString()}. Regenerate or upload a new one (POST /api/v1/settings/certificates/generate or /upload).`,
          }),
        )
        .then((sent) => {
          if (sent) this.certificateNotified = thumbprint;
        }),
    );
  }
}

const gib = (bytes: number) => (bytes / 1024 ** 3).toFixed(2);
