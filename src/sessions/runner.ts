import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { sql } from 'kysely';
import type { Store } from '../store/database.js';
import type { LogStatus, SessionRecord, SessionResult } from './model.js';
import { toSessionRecord } from './records.js';

export interface SessionSpec {
  name: string;
  type: string;
  resourceId?: string | null;
  resourceReference?: string | null;
  parentSessionId?: string | null;
  createdBy?: string | null;
}

/** What the work reports when it ends normally. Throwing means Failed with the error's message. */
export interface SessionOutcome {
  result: Exclude<SessionResult, 'None'>;
  message?: string;
}

export interface SessionContext {
  readonly sessionId: string;
  /** Aborted when somebody stops the session or the server shuts down. */
  readonly signal: AbortSignal;
  /** Appends a log record and returns its id (to update it when the step ends). */
  log(title: string, status?: LogStatus, description?: string): Promise<number>;
  /** Appends several records in one statement (imports log one per object: ten thousand inserts would cost more than the objects). */
  logMany(records: { title: string; status?: LogStatus; description?: string }[]): Promise<void>;
  updateLog(recordId: number, status: LogStatus, title?: string, description?: string): Promise<void>;
  progress(percent: number): Promise<void>;
}

export type SessionWork = (ctx: SessionContext) => Promise<SessionOutcome | void>;

interface ActiveSession {
  controller: AbortController;
  done: Promise<void>;
  stopReason?: string;
  nextLogId: number;
  /** Log records written with status Warning (a session that logged one cannot end Success). */
  warnings: number;
}

/** A session whose end was just recorded. */
export interface SessionEnd {
  id: string;
  result: Exclude<SessionResult, 'None'>;
  canceled: boolean;
}

/** Thrown by the work (or by `throwIfStopped`) to end a session as canceled. */
export class SessionStopped extends Error {}

/**
 * Runs long work as sessions: a row that moves Working → Stopped with a result,
 * progress and a log. Stopping is cooperative: the work's AbortSignal fires and the
 * work ends at its next check. Sessions live in the database, so any node can list
 * them; a stop requested on another node reaches the owner through the `Stopping`
 * state, which the owner polls for.
 */
export class SessionRunner {
  private readonly active = new Map<string, ActiveSession>();
  private stopPoll: NodeJS.Timeout | undefined;
  private changes = 0;
  private readonly endListeners: ((end: SessionEnd) => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly nodeId: string,
    private readonly logger: Logger,
  ) {}

  /** Sessions this node left Working when it died are Failed: their work is gone. */
  async markInterrupted(): Promise<number> {
    const now = new Date().toISOString();
    const result = await this.store.db
      .updateTable('sessions')
      .set({
        state: 'Stopped',
        result: 'Failed',
        result_message: 'The session was interrupted: the server stopped while it was running.',
        end_time: now,
        usn: sql`usn + 1`,
      })
      .where('node_id', '=', this.nodeId)
      .where('state', '!=', 'Stopped')
      .executeTakeFirst();
    this.changes++;
    return Number(result.numUpdatedRows);
  }

  startStopPolling(intervalMs = 1000): void {
    this.stopPoll = setInterval(() => {
      this.pollStopRequests().catch(() => undefined);
    }, intervalMs);
    this.stopPoll.unref();
  }

  async start(spec: SessionSpec, work: SessionWork): Promise<SessionRecord> {
    const id = randomUUID();
    const now = new Date().toISOString();
    const row = {
      id,
      name: spec.name,
      activity_id: id,
      session_type: spec.type,
      state: 'Working',
      creation_time: now,
      end_time: null,
      progress_percent: 0,
      result: 'None',
      result_message: null,
      is_canceled: 0,
      resource_id: spec.resourceId ?? null,
      resource_reference: spec.resourceReference ?? null,
      parent_session_id: spec.parentSessionId ?? null,
      usn: 0,
      node_id: this.nodeId,
      created_by: spec.createdBy ?? null,
    };
    await this.store.db.insertInto('sessions').values(row).execute();
    this.changes++;
    const controller = new AbortController();
    const entry: ActiveSession = { controller, done: Promise.resolve(), nextLogId: 1, warnings: 0 };
    this.active.set(id, entry);
    // The work starts on the next tick so the caller can answer 201 with the fresh session first.
    entry.done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.execute(id, entry, work));
    return toSessionRecord(row);
  }

  /** Requests a stop. Returns false when no such session exists. */
  async stop(id: string, requestedBy: string): Promise<boolean> {
    const row = await this.store.db.selectFrom('sessions').select(['state']).where('id', '=', id).executeTakeFirst();
    if (!row) return false;
    if (row.state === 'Stopped') return true;
    const reason = `Stopped by ${requestedBy}.`;
    await this.store.db
      .updateTable('sessions')
      .set({ state: 'Stopping', usn: sql`usn + 1` })
      .where('id', '=', id)
      .where('state', '!=', 'Stopped')
      .execute();
    this.changes++;
    const local = this.active.get(id);
    if (local && !local.controller.signal.aborted) {
      local.stopReason = reason;
      local.controller.abort(new SessionStopped(reason));
    }
    return true;
  }

  /** Used on shutdown: stop everything and wait (bounded) for the work to wind down. */
  async stopAll(reason: string, waitMs: number): Promise<void> {
    for (const entry of this.active.values()) {
      if (!entry.controller.signal.aborted) {
        entry.stopReason = reason;
        entry.controller.abort(new SessionStopped(reason));
      }
    }
    if (this.stopPoll) clearInterval(this.stopPoll);
    const all = Promise.all([...this.active.values()].map((e) => e.done));
    await Promise.race([all, new Promise((r) => setTimeout(r, waitMs).unref())]);
  }

  /** Bumped after every write this runner makes, so cached session lists know they are stale. */
  get generation(): number {
    return this.changes;
  }

  /** For writers outside the runner (tests, imports) that change session rows. */
  noteChange(): void {
    this.changes++;
  }

  get runningCount(): number {
    return this.active.size;
  }

  /** Calls `listener` after each session this node runs has its end recorded (email notifications). */
  onSessionEnd(listener: (end: SessionEnd) => void): void {
    this.endListeners.push(listener);
  }

  /** Resolves when the session's work has finished on this node. */
  async settled(id: string): Promise<void> {
    await this.active.get(id)?.done;
  }

  /** The session as stored now. */
  async find(id: string): Promise<SessionRecord | undefined> {
    const row = await this.store.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toSessionRecord(row) : undefined;
  }

  private async execute(id: string, entry: ActiveSession, work: SessionWork): Promise<void> {
    const ctx = this.contextFor(id, entry);
    let result: Exclude<SessionResult, 'None'> = 'Success';
    let message: string | undefined;
    let canceled = false;
    try {
      // Stopped before it began (e.g. a shutdown right after the start): the work never runs.
      entry.controller.signal.throwIfAborted();
      const outcome = await work(ctx);
      if (outcome) ({ result, message } = outcome);
      // Veeam ends a session that raised warnings with Warning; monitoring reads the result, not the log.
      if (result === 'Success' && entry.warnings > 0) {
        result = 'Warning';
        message ??= `Completed with ${entry.warnings} warning(s); see the session log.`;
      }
      if (entry.controller.signal.aborted) canceled = true;
    } catch (err) {
      canceled = entry.controller.signal.aborted;
      result = 'Failed';
      message = canceled ? entry.stopReason : err instanceof Error ? err.message : String(err);
      if (!canceled && !(err instanceof Error && err.name === 'UserFacingError')) {
        this.logger.warn({ sessionId: id, err: err instanceof Error ? { name: err.name, message: err.message } : String(err) }, 'session work failed');
      }
    }
    if (canceled) {
      result = 'Failed';
      message = entry.stopReason ?? message;
    }
    try {
      await this.store.db
        .updateTable('sessions')
        .set({
          state: 'Stopped',
          result,
          result_message: message ?? null,
          is_canceled: canceled ? 1 : 0,
          end_time: new Date().toISOString(),
          progress_percent: result === 'Failed' ? sql`progress_percent` : 100,
          usn: sql`usn + 1`,
        })
        .where('id', '=', id)
        .execute();
      this.changes++;
      for (const listener of this.endListeners) listener({ id, result, canceled });
    } catch (err) {
      this.logger.error({ sessionId: id, err: (err as Error).message }, 'could not record the end of a session');
    } finally {
      this.active.delete(id);
    }
  }

  private contextFor(id: string, entry: ActiveSession): SessionContext {
    const db = this.store.db;
    const changed = () => this.changes++;
    return {
      sessionId: id,
      signal: entry.controller.signal,
      async log(title, status = 'Succeeded', description = '') {
        if (status === 'Warning') entry.warnings++;
        const recordId = entry.nextLogId++;
        const now = new Date().toISOString();
        await db.insertInto('session_logs').values({ session_id: id, record_id: recordId, status, start_time: now, update_time: now, title, description }).execute();
        return recordId;
      },
      async logMany(records) {
        const now = new Date().toISOString();
        entry.warnings += records.filter((r) => r.status === 'Warning').length;
        const rows = records.map((r) => ({
          session_id: id,
          record_id: entry.nextLogId++,
          status: r.status ?? 'Succeeded',
          start_time: now,
          update_time: now,
          title: r.title,
          description: r.description ?? '',
        }));
        // 7 values a row: well under every dialect's bound-parameter limit.
        for (let i = 0; i < rows.length; i += 500)
          await db
            .insertInto('session_logs')
            .values(rows.slice(i, i + 500))
            .execute();
      },
      async updateLog(recordId, status, title, description) {
        if (status === 'Warning') entry.warnings++;
        await db
          .updateTable('session_logs')
          .set({
            status,
            update_time: new Date().toISOString(),
            ...(title !== undefined ? { title } : {}),
            ...(description !== undefined ? { description } : {}),
          })
          .where('session_id', '=', id)
          .where('record_id', '=', recordId)
          .execute();
      },
      async progress(percent) {
        const clamped = Math.max(0, Math.min(100, Math.round(percent)));
        await db
          .updateTable('sessions')
          .set({ progress_percent: clamped, usn: sql`usn + 1` })
          .where('id', '=', id)
          // A report sent without waiting (a byte counter) may land after the end: it must not undo the final 100.
          .where('state', '=', 'Working')
          .execute();
        changed();
      },
    };
  }

  private async pollStopRequests(): Promise<void> {
    if (this.active.size === 0) return;
    const ids = [...this.active.keys()];
    const rows = await this.store.db.selectFrom('sessions').select('id').where('id', 'in', ids).where('state', '=', 'Stopping').execute();
    for (const { id } of rows) {
      const entry = this.active.get(id);
      if (entry && !entry.controller.signal.aborted) {
        entry.stopReason ??= 'Stopped on request.';
        entry.controller.abort(new SessionStopped(entry.stopReason));
      }
    }
  }
}
