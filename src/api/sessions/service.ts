import type { Store } from '../../store/database.js';
import { fetchPage, type PageRequest } from '../../store/paged-query.js';
import { ResultCache } from '../../store/result-cache.js';
import type { SessionsTable } from '../../store/schema.js';
import type { Selectable } from 'kysely';
import { formatInstant } from '../../http/dates.js';
import { shapeModel } from '../../revisions/shapes.js';
import { SESSION } from '../../revisions/replies/sessions.js';
import type { SessionRunner } from '../../sessions/runner.js';
import { toLogRecord, toSessionRecord } from '../../sessions/records.js';
import type { SessionRecord } from '../../sessions/model.js';

/** Every filter, in the cache key's order; the type check below fails if one is left out. */
const FILTER_KEYS = ['createdAfter', 'createdBefore', 'endedAfter', 'endedBefore', 'types', 'states', 'results', 'jobId', 'automation'] as const;
type FiltersMissingFromKey = Exclude<keyof SessionFilters, (typeof FILTER_KEYS)[number]>;
const _everyFilterInKey: [FiltersMissingFromKey] extends [never] ? true : never = true;

export interface SessionFilters {
  createdAfter?: string;
  createdBefore?: string;
  endedAfter?: string;
  endedBefore?: string;
  types?: string[];
  states?: string[];
  results?: string[];
  jobId?: string;
  /** Automation sessions have their own list under /api/v1/automation/sessions. */
  automation: boolean;
}

/**
 * SessionModel as the document of the client's revision shows it (revisions/replies/sessions.ts):
 * built in the 1.2 spelling, absent fields left out, then shaped.
 */
export function sessionModel(record: SessionRecord, revision?: string): SessionModelBody {
  const running = record.result === 'None' && record.state !== 'Stopped';
  const built = {
    id: record.id,
    name: record.name,
    jobId: record.activityId,
    sessionType: record.sessionType === 'Job' ? 'BackupJob' : record.sessionType,
    creationTime: formatInstant(record.creationTime)!,
    endTime: formatInstant(record.endTime) ?? undefined,
    state: record.state,
    progressPercent: record.progressPercent,
    result: running ? undefined : { result: record.result, message: record.resultMessage ?? undefined, isCanceled: record.isCanceled },
    resourceId: record.resourceId ?? undefined,
    resourceReference: record.resourceReference ?? undefined,
    parentSessionId: record.parentSessionId ?? undefined,
    usn: record.usn,
    platformName: 'CustomPlatform',
    platformId: '00000000-0000-0000-0000-000000000000',
  };
  return shapeModel(SESSION, revision, built) as SessionModelBody;
}

/** A SessionModel body in some document's spelling (see SessionModel in schemas.ts). */
export type SessionModelBody = Record<string, unknown> & { id: string; state: string };

/**
 * Monitoring tools poll the same session list again and again; answers are cached
 * until this node changes a session, and for at most one second (changes made by
 * other nodes or the command line show up within that second).
 */
const LIST_CACHE_TTL_MS = 1000;

export interface SessionPage {
  readonly data: readonly ReturnType<typeof sessionModel>[];
  readonly total: number;
}

export class SessionsService {
  private readonly listCache = new ResultCache<SessionPage>(LIST_CACHE_TTL_MS);

  constructor(
    private readonly store: Store,
    private readonly runner: SessionRunner,
  ) {}

  /** One page of SessionModels as the client's revision sees them. Equal requests share one (frozen) answer. */
  async list(page: PageRequest, filters: SessionFilters, revision?: string): Promise<SessionPage> {
    // A flat array of primitives: cheaper to stringify than the nested objects, and as exact.
    const key = JSON.stringify([page.skip, page.limit, page.orderBy, page.orderAsc, page.nameFilter, revision, ...FILTER_KEYS.map((k) => filters[k])]);
    const generation = this.runner.generation;
    const cached = this.listCache.get(key, generation);
    if (cached) return cached;
    const { records, total } = await this.query(page, filters);
    const fresh = Object.freeze({ data: records.map((r) => sessionModel(r, revision)), total });
    this.listCache.set(key, generation, fresh);
    return fresh;
  }

  private async query(page: PageRequest, filters: SessionFilters) {
    let query = this.store.db.selectFrom('sessions');
    query = filters.automation ? query.where('session_type', '=', 'Automation') : query.where('session_type', '!=', 'Automation');
    if (filters.createdAfter) query = query.where('creation_time', '>=', filters.createdAfter);
    if (filters.createdBefore) query = query.where('creation_time', '<=', filters.createdBefore);
    if (filters.endedAfter) query = query.where('end_time', '>=', filters.endedAfter);
    if (filters.endedBefore) query = query.where('end_time', '<=', filters.endedBefore);
    if (filters.types) query = query.where('session_type', 'in', expandTypes(filters.types));
    if (filters.states) query = query.where('state', 'in', filters.states);
    if (filters.results) query = query.where('result', 'in', filters.results);
    if (filters.jobId) query = query.where('activity_id', '=', filters.jobId);
    const { rows, total } = await fetchPage<Selectable<SessionsTable>>(query, page, { nameColumn: 'name' });
    return { records: rows.map(toSessionRecord), total };
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const row = await this.store.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toSessionRecord(row) : undefined;
  }

  /** Log records newest first, as Veeam lists them. */
  async logs(id: string) {
    const rows = await this.store.db.selectFrom('session_logs').selectAll().where('session_id', '=', id).orderBy('record_id', 'desc').execute();
    return rows.map(toLogRecord);
  }

  stop(id: string, requestedBy: string): Promise<boolean> {
    return this.runner.stop(id, requestedBy);
  }
}

/** `Job` (1.1) and `BackupJob` (1.2) name the same sessions. */
function expandTypes(types: string[]): string[] {
  const out = new Set(types);
  if (out.has('Job')) out.add('BackupJob');
  if (out.has('BackupJob')) out.add('Job');
  return [...out];
}
