import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Store } from '../../store/database.js';
import { fetchPage, likePattern, type PageRequest } from '../../store/paged-query.js';
import type { ReferenceRegistry } from '../../store/references.js';
import { isUniqueViolation } from '../../store/unique-violation.js';
import type { SessionRecord } from '../../sessions/model.js';
import type { SessionContext, SessionOutcome, SessionRunner } from '../../sessions/runner.js';
import { badRequest, notFound } from '../../http/errors.js';
import { toStoredInstant } from '../../http/dates.js';
import { ENCRYPTION_PASSWORD_KIND } from '../encryption-passwords/service.js';
import { REPOSITORY_KIND } from '../repositories/service.js';
import { storedSettings, type JobRow } from './model.js';
import { checkJobReferences, type JobReferenceDeps, type ResolvedRepository } from './references.js';
import { nextRunOf } from './schedule.js';
import { jobSettingsFrom, type JobSettings } from './settings.js';
import { normaliseBody } from './wire.js';

type Body = Record<string, unknown>;

export interface JobFilters {
  types?: string[];
}

export interface JobStateFilters extends JobFilters {
  id?: string;
  lastResults?: string[];
  statuses?: string[];
  workloads?: string[];
  lastRunAfter?: string;
  lastRunBefore?: string;
  isHighPriority?: boolean;
  repositoryId?: string;
  objectsCount?: number;
}

/** What a run needs to know, fixed when it starts (an edit meanwhile applies to the next run). */
export interface JobRunPlan {
  job: JobRow;
  settings: JobSettings;
  repository: ResolvedRepository;
  activeFull: boolean;
  /** Read by the run between VMs: a graceful stop lets the current VM finish. */
  gracefulStop: { requested: boolean };
  /** Records a snapshot taken (so a crash leaves a trail to clean up) and its removal. */
  noteSnapshots(snapshots: unknown[]): Promise<void>;
}

/** The data mover's entry point (src/mover), given to the service by server.ts. */
export type BackupRunner = (ctx: SessionContext, plan: JobRunPlan) => Promise<SessionOutcome>;

export interface JobsDeps extends JobReferenceDeps {
  store: Store;
  runner: SessionRunner;
  nodeId: string;
  references: ReferenceRegistry;
  run: BackupRunner;
  /** Removes snapshots a dead run left behind (best effort); absent until the vSphere client is wired. */
  removeLeftSnapshots?: (snapshots: unknown[]) => Promise<void>;
  leaseMs?: number;
}

const reference = (id: string) => `/api/v1/jobs/${id}`;

/**
 * Backup jobs: their settings, state and runs. A run is a `Job` session
 * claimed through the `job_runs` table (one row per job: a second start is
 * refused, and with several nodes only one runs it); the row's lease is
 * renewed while the run lives, so a node that dies leaves a lapsed lease that
 * any node turns into a Failed session.
 */
export class JobsService {
  private readonly graceful = new Map<string, { requested: boolean }>();
  readonly leaseMs: number;
  /** Called with a job's name when one of its runs ends; the scheduler starts the jobs chained after it. */
  onRunEnded: (job: JobRow, result: string) => void = () => undefined;

  constructor(private readonly deps: JobsDeps) {
    this.leaseMs = deps.leaseMs ?? 30_000;
    // Repositories and encryption passwords a job uses cannot be removed while the job exists.
    deps.references.register(REPOSITORY_KIND, async (db, id) => {
      const rows = await db.selectFrom('jobs').select(['id', 'name']).where('repository_id', '=', id).execute();
      return rows.map((r) => ({ kind: 'backup job', id: r.id, name: r.name }));
    });
    deps.references.register(ENCRYPTION_PASSWORD_KIND, async (db, id) => {
      const rows = await db
        .selectFrom('jobs')
        .select(['id', 'name'])
        .where(sql<boolean>`settings like ${`%${id.toLowerCase()}%`}`)
        .execute();
      return rows.map((r) => ({ kind: 'backup job', id: r.id, name: r.name }));
    });
  }

  private get db() {
    return this.deps.store.db;
  }

  async list(page: PageRequest, filters: JobFilters) {
    let query = this.db.selectFrom('jobs');
    if (filters.types) query = query.where('type', 'in', filters.types);
    if (page.nameFilter) query = query.where(sql<boolean>`name_key like ${likePattern(page.nameFilter)} escape '\\'`);
    return fetchPage<JobRow>(query, { ...page, nameFilter: undefined });
  }

  async states(page: PageRequest, f: JobStateFilters) {
    let query = this.db.selectFrom('jobs');
    const running = this.db.selectFrom('job_runs').select('job_id');
    if (f.id) query = query.where('id', '=', f.id.toLowerCase());
    if (f.types) query = query.where('type', 'in', f.types);
    if (f.lastResults) query = query.where('last_result', 'in', f.lastResults);
    if (f.workloads && !f.workloads.includes('vm')) query = query.where(sql<boolean>`1 = 0`);
    if (f.lastRunAfter) query = query.where('last_run', '>=', f.lastRunAfter);
    if (f.lastRunBefore) query = query.where('last_run', '<=', f.lastRunBefore);
    if (f.isHighPriority !== undefined) query = query.where('is_high_priority', '=', f.isHighPriority ? 1 : 0);
    if (f.repositoryId) query = query.where('repository_id', '=', f.repositoryId.toLowerCase());
    if (f.objectsCount !== undefined) query = query.where('objects_count', '=', f.objectsCount);
    if (f.statuses) {
      const wanted = new Set(f.statuses);
      query = query.where(({ or, eb, and, not, exists }) => {
        const isRunning = eb('id', 'in', running);
        const parts = [];
        if (wanted.has('running')) parts.push(isRunning);
        if (wanted.has('disabled')) parts.push(and([eb('is_disabled', '=', 1), not(isRunning)]));
        if (wanted.has('inactive')) parts.push(and([eb('is_disabled', '=', 0), not(isRunning)]));
        void exists;
        return or(parts);
      });
    }
    if (page.nameFilter) query = query.where(sql<boolean>`name_key like ${likePattern(page.nameFilter)} escape '\\'`);
    return fetchPage<JobRow>(query, { ...page, nameFilter: undefined });
  }

  async runningJobIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.selectFrom('job_runs').select('job_id').where('job_id', 'in', ids).execute();
    return new Set(rows.map((r) => r.job_id));
  }

  /** The running jobs among `ids`, each with its run's progress (JobStateModel.progressPercent, 1.3). */
  async runningProgress(ids: string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('job_runs')
      .innerJoin('sessions', 'sessions.id', 'job_runs.session_id')
      .select(['job_runs.job_id', 'sessions.progress_percent'])
      .where('job_runs.job_id', 'in', ids)
      .execute();
    return new Map(rows.map((r) => [r.job_id, r.progress_percent]));
  }

  async get(id: string): Promise<JobRow> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
    if (!row) throw notFound(`Job ${id} was not found.`, id);
    return row;
  }

  async findByName(name: string): Promise<JobRow | undefined> {
    return this.db.selectFrom('jobs').selectAll().where('name_key', '=', name.toLowerCase()).executeTakeFirst();
  }

  async all(): Promise<JobRow[]> {
    return this.db.selectFrom('jobs').selectAll().orderBy('name_key').execute();
  }

  /** The settings a body asks for, normalised and checked against everything they reference. */
  async plan(body: Body): Promise<{ settings: JobSettings; repository: ResolvedRepository; name: string; description: string }> {
    const normalised = normaliseBody(body) as Body;
    const settings = jobSettingsFrom(normalised);
    const repository = await checkJobReferences(this.deps, settings);
    const name = String(normalised.name).trim();
    if (name === '') throw badRequest('Invalid field "name": must not be empty.');
    return { settings, repository, name, description: String(normalised.description ?? '') };
  }

  async create(spec: Body): Promise<JobRow> {
    const { settings, name, description } = await this.plan(spec);
    const now = toStoredInstant();
    const row: JobRow = {
      id: randomUUID(),
      type: 'Backup',
      name,
      name_key: name.toLowerCase(),
      description,
      description_key: description.toLowerCase(),
      is_disabled: 0,
      is_high_priority: settings.isHighPriority ? 1 : 0,
      repository_id: settings.storage.backupRepositoryId,
      objects_count: settings.virtualMachines.includes.length,
      settings: JSON.stringify(settings),
      next_run: nextRunOf(settings.schedule, new Date())?.toISOString() ?? null,
      last_run: null,
      last_result: 'None',
      last_session_id: null,
      retry_attempt: 0,
      creation_time: now,
      updated_at: now,
    };
    try {
      await this.db.insertInto('jobs').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw badRequest(`A job named "${name}" already exists.`);
      throw err;
    }
    return row;
  }

  async edit(id: string, model: Body): Promise<JobRow> {
    const existing = await this.get(id);
    if (model.id !== undefined && model.id !== null && String(model.id).toLowerCase() !== existing.id) {
      throw badRequest(`The body's id ${String(model.id)} is not the id in the path (${existing.id}).`, existing.id);
    }
    const { settings, name, description } = await this.plan(model);
    const changes = {
      name,
      name_key: name.toLowerCase(),
      description,
      description_key: description.toLowerCase(),
      is_high_priority: settings.isHighPriority ? 1 : 0,
      repository_id: settings.storage.backupRepositoryId,
      objects_count: settings.virtualMachines.includes.length,
      settings: JSON.stringify(settings),
      next_run: nextRunOf(settings.schedule, new Date())?.toISOString() ?? null,
      // isDisabled is read-only in the model: enable/disable change it.
      updated_at: toStoredInstant(),
    };
    try {
      await this.db.updateTable('jobs').set(changes).where('id', '=', existing.id).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw badRequest(`A job named "${name}" already exists.`);
      throw err;
    }
    return this.get(existing.id);
  }

  /** Its backups stay (Veeam keeps them as orphaned backups); a running job must be stopped first. */
  async remove(id: string): Promise<void> {
    const row = await this.get(id);
    if ((await this.runningJobIds([row.id])).size > 0) throw badRequest(`Job "${row.name}" is running; stop it before deleting it.`, row.id);
    await this.db.deleteFrom('jobs').where('id', '=', row.id).execute();
  }

  async setDisabled(id: string, disabled: boolean): Promise<void> {
    const row = await this.get(id);
    const nextRun = disabled ? null : (nextRunOf(storedSettings(row).schedule, new Date())?.toISOString() ?? null);
    await this.db
      .updateTable('jobs')
      .set({ is_disabled: disabled ? 1 : 0, next_run: nextRun, updated_at: toStoredInstant() })
      .where('id', '=', row.id)
      .execute();
  }

  /** Starts a run now: a `Job` session (BackupJob under 1.2+, sessions/service.ts maps it). */
  async start(id: string, spec: Body, createdBy: string): Promise<SessionRecord> {
    const row = await this.get(id);
    if (row.is_disabled === 1) throw badRequest(`Job "${row.name}" is disabled; enable it to start it.`, row.id);
    const normalised = normaliseBody(spec ?? {}) as Body;
    return this.launch(row, normalised.performActiveFull === true, createdBy);
  }

  /** Stops the job's running session: gracefully (the current VM finishes) or at once. */
  async stop(id: string, spec: Body, requestedBy: string): Promise<SessionRecord> {
    const row = await this.get(id);
    const normalised = normaliseBody(spec ?? {}) as Body;
    const run = await this.db.selectFrom('job_runs').select(['session_id']).where('job_id', '=', row.id).executeTakeFirst();
    if (!run) throw badRequest(`Job "${row.name}" is not running.`, row.id);
    const graceful = this.graceful.get(run.session_id);
    if (normalised.gracefullStop === true && graceful) graceful.requested = true;
    else await this.deps.runner.stop(run.session_id, requestedBy);
    const session = await this.deps.runner.find(run.session_id);
    if (!session) throw notFound(`Session ${run.session_id} was not found.`, run.session_id);
    return session;
  }

  /**
   * Claims the job (one job_runs row per job, so a second start — from this
   * node, another node or the scheduler — is refused) and runs it as a session.
   */
  async launch(row: JobRow, activeFull: boolean, createdBy: string | null): Promise<SessionRecord> {
    const settings = storedSettings(row);
    // vSphere is not asked here: an unreachable vCenter is the run's failure (a Failed session saying why), not a 400.
    const repository = await checkJobReferences(this.deps, settings, { inventory: false }).catch((err: Error) => {
      throw badRequest(`Job "${row.name}" cannot start: ${err.message}`, row.id);
    });
    const claim = `claim-${randomUUID()}`;
    try {
      await this.db.insertInto('job_runs').values({ session_id: claim, job_id: row.id, node_id: this.deps.nodeId, lease_until: this.leaseEnd(), snapshots: '[]' }).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw badRequest(`Job "${row.name}" is already running.`, row.id);
      throw err;
    }
    const gracefulStop = { requested: false };
    let sessionId = '';
    let session: SessionRecord;
    try {
      session = await this.deps.runner.start({ name: row.name, type: 'Job', resourceId: row.id, resourceReference: reference(row.id), createdBy }, (ctx) =>
        this.runWithLease(ctx, { job: row, settings, repository, activeFull, gracefulStop, noteSnapshots: (s) => this.noteSnapshots(row.id, s) }),
      );
      sessionId = session.id;
    } catch (err) {
      await this.db.deleteFrom('job_runs').where('session_id', '=', claim).execute();
      throw err;
    }
    this.graceful.set(sessionId, gracefulStop);
    await this.db.updateTable('job_runs').set({ session_id: sessionId }).where('session_id', '=', claim).execute();
    await this.db.updateTable('jobs').set({ last_session_id: sessionId }).where('id', '=', row.id).execute();
    return session;
  }

  private leaseEnd(): string {
    return new Date(Date.now() + this.leaseMs).toISOString();
  }

  // By job id: the run may start before its claim row learns the session id (one row per job).
  private async noteSnapshots(jobId: string, snapshots: unknown[]): Promise<void> {
    await this.db
      .updateTable('job_runs')
      .set({ snapshots: JSON.stringify(snapshots) })
      .where('job_id', '=', jobId)
      .execute();
  }

  private async runWithLease(ctx: SessionContext, plan: JobRunPlan): Promise<SessionOutcome> {
    const renew = setInterval(
      () => {
        this.db
          .updateTable('job_runs')
          .set({ lease_until: this.leaseEnd() })
          .where('job_id', '=', plan.job.id)
          .execute()
          .catch(() => undefined);
      },
      Math.max(1000, Math.floor(this.leaseMs / 3)),
    );
    renew.unref();
    let result = 'Failed';
    try {
      const outcome = await this.deps.run(ctx, plan);
      result = outcome.result;
      return outcome;
    } finally {
      clearInterval(renew);
      this.graceful.delete(ctx.sessionId);
      await this.finishRun(plan.job.id, ctx.sessionId, result).catch(() => undefined);
      this.onRunEnded(plan.job, result);
    }
  }

  private async finishRun(jobId: string, sessionId: string, result: string): Promise<void> {
    await this.db.deleteFrom('job_runs').where('job_id', '=', jobId).execute();
    await this.db.updateTable('jobs').set({ last_run: toStoredInstant(), last_result: result, last_session_id: sessionId }).where('id', '=', jobId).execute();
  }

  /**
   * Runs whose lease lapsed (their node died, or this node restarted) end as
   * Failed sessions; the snapshots they recorded are removed. `onlyThisNode`
   * is the start-up pass: this node's runs cannot be alive any more.
   */
  async failLapsedRuns(onlyThisNode = false): Promise<number> {
    let query = this.db.selectFrom('job_runs').selectAll();
    query = onlyThisNode ? query.where('node_id', '=', this.deps.nodeId) : query.where('lease_until', '<', toStoredInstant());
    const lapsed = await query.execute();
    for (const run of lapsed) {
      const message = onlyThisNode
        ? 'The session was interrupted: the server stopped while it was running.'
        : `The node running this session (${run.node_id}) stopped renewing its lease; the run is lost.`;
      const taken = await this.db.deleteFrom('job_runs').where('session_id', '=', run.session_id).where('lease_until', '=', run.lease_until).executeTakeFirst();
      // Another node handled it first.
      if (Number(taken.numDeletedRows) === 0) continue;
      await this.db
        .updateTable('sessions')
        .set({ state: 'Stopped', result: 'Failed', result_message: message, end_time: toStoredInstant(), usn: sql`usn + 1` })
        .where('id', '=', run.session_id)
        .where('state', '!=', 'Stopped')
        .execute();
      this.deps.runner.noteChange();
      await this.db.updateTable('jobs').set({ last_result: 'Failed', last_run: toStoredInstant() }).where('id', '=', run.job_id).execute();
      const snapshots = JSON.parse(run.snapshots) as unknown[];
      if (snapshots.length > 0 && this.deps.removeLeftSnapshots) await this.deps.removeLeftSnapshots(snapshots).catch(() => undefined);
    }
    return lapsed.length;
  }
}
