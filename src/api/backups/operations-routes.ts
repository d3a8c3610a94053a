import type { FastifyInstance, FastifyRequest } from 'fastify';
import { typedRequests } from '../../http/typed-requests.js';
import { Type } from 'typebox';
import { PaginationSchema, dateFilter, pageRequestFrom, pagination } from '../../http/paging.js';
import { IdParams } from '../../http/schemas.js';
import { notFound } from '../../http/errors.js';
import { formatInstant } from '../../http/dates.js';
import { followsAtLeast, type VeeamDocument } from '../../revisions/documents.js';
import { SessionModel } from '../sessions/schemas.js';
import { sessionModel } from '../sessions/service.js';
import type { BackupDeletion } from './deletion.js';
import type { BackupFile, BackupFiles } from './backup-files.js';
import type { BackupHealthCheck } from './health-check.js';
import {
  BACKUP_FILE_ORDER_COLUMNS,
  BackupFileModel,
  BackupFileParams,
  BackupFilesQuery,
  BackupFilesResult,
  BackupObjectParams,
  DeleteBackupObjectQuery,
  HealthCheckSpec,
} from './schemas.js';

const read = { apiFamily: 'vbr', access: 'Viewer' } as const;
const write = { apiFamily: 'vbr', access: 'Administrator' } as const;
const tags = ['Backups'];

/** An operation a revision's document lacks is not there for its clients: 404, as for DELETE /backups/{id} before 1.2. */
function servedFrom(request: FastifyRequest, first: VeeamDocument): void {
  if (!followsAtLeast(request.apiRevision, first))
    throw notFound(`No resource at ${request.method} ${request.url.split('?')[0]}: revision ${request.apiRevision} does not have this operation (${first} added it).`);
}

/** BackupFileModel of the request's document: one `objectId` up to 1.3-rev1, `objectIds` from 1.3-rev2. */
function backupFileModel(file: BackupFile, revision: string | undefined) {
  return {
    id: file.id,
    name: file.name,
    backupId: file.backupId,
    ...(followsAtLeast(revision, '1.3-rev2') ? { objectIds: [file.objectId] } : { objectId: file.objectId }),
    restorePointIds: [file.restorePointId],
    dataSize: file.dataSize,
    backupSize: file.backupSize,
    dedupRatio: file.dedupRatio,
    compressRatio: file.compressRatio,
    creationTime: formatInstant(file.creationTime)!,
    gfsPeriods: file.gfsPeriods,
  };
}

const ORDER: Record<(typeof BACKUP_FILE_ORDER_COLUMNS)[number], (f: BackupFile) => string | number> = {
  Name: (f) => f.name.toLowerCase(),
  DataSize: (f) => f.dataSize,
  BackupSize: (f) => f.backupSize,
  DedupRatio: (f) => f.dedupRatio,
  CompressRatio: (f) => f.compressRatio,
  CreationTime: (f) => Date.parse(f.creationTime),
  GFSPeriod: (f) => f.gfsPeriods.join(','),
};

/** `*` is the wildcard of Veeam's name filters; everything else matches itself, case-insensitively. */
function nameMatcher(filter: string | undefined): (name: string) => boolean {
  if (!filter) return () => true;
  const re = new RegExp(
    `^${filter
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return (name) => re.test(name);
}

/**
 * The later revisions' operations on backups: delete one object (1.3-rev0),
 * the backup files (1.2-rev1) and an on-demand health check (1.3-rev1).
 */
export function backupOperationsRoutes(app: FastifyInstance, deps: { deletion?: BackupDeletion; files?: BackupFiles; healthCheck?: BackupHealthCheck }): void {
  const typed = typedRequests(app);
  const { deletion, files, healthCheck } = deps;

  if (deletion)
    typed.delete(
      '/api/v1/backups/:id/objects/:objectId',
      { config: write, schema: { tags, summary: 'Delete Backup Object', params: BackupObjectParams, querystring: DeleteBackupObjectQuery, response: { 201: SessionModel } } },
      async (request, reply) => {
        servedFrom(request, '1.3-rev0');
        const session = await deletion.deleteObject(request.params.id, request.params.objectId, {
          includeGFS: request.query.includeGFS === true,
          createdBy: request.principal?.userName,
        });
        return reply.code(201).send(sessionModel(session, request.apiRevision));
      },
    );

  if (files) {
    typed.get(
      '/api/v1/backups/:id/backupFiles',
      { config: read, schema: { tags, summary: 'Get All Backup Files', params: IdParams, querystring: BackupFilesQuery, response: { 200: BackupFilesResult } } },
      async (request) => {
        servedFrom(request, '1.2-rev1');
        const q = request.query;
        const page = pageRequestFrom(q, Object.fromEntries(BACKUP_FILE_ORDER_COLUMNS.map((c) => [c, c])), { column: 'CreationTime', asc: false });
        const after = dateFilter('createdAfterFilter', q.createdAfterFilter);
        const before = dateFilter('createdBeforeFilter', q.createdBeforeFilter);
        const named = nameMatcher(q.nameFilter);
        const key = ORDER[page.orderBy as keyof typeof ORDER];
        const all = (await files.list(request.params.id))
          .filter((f) => named(f.name))
          .filter((f) => !after || Date.parse(f.creationTime) >= Date.parse(after))
          .filter((f) => !before || Date.parse(f.creationTime) <= Date.parse(before))
          .filter((f) => !q.gfsPeriodFilter || f.gfsPeriods.includes(q.gfsPeriodFilter))
          .sort((a, b) => {
            const [x, y] = [key(a), key(b)];
            const d = x < y ? -1 : x > y ? 1 : a.id.localeCompare(b.id);
            return page.orderAsc ? d : -d;
          });
        const slice = all.slice(page.skip, page.skip + page.limit);
        return { data: slice.map((f) => backupFileModel(f, request.apiRevision)), pagination: pagination(all.length, slice.length, page) };
      },
    );
    typed.get(
      '/api/v1/backups/:id/backupFiles/:backupFileId',
      { config: read, schema: { tags, summary: 'Get Backup File', params: BackupFileParams, response: { 200: BackupFileModel } } },
      async (request) => {
        servedFrom(request, '1.2-rev1');
        return backupFileModel(await files.get(request.params.id, request.params.backupFileId), request.apiRevision);
      },
    );
  }

  if (healthCheck)
    typed.post(
      '/api/v1/backups/runHealthcheck',
      {
        config: write,
        schema: {
          tags,
          summary: 'Start Backup Health Check',
          body: HealthCheckSpec,
          response: { 201: Type.Object({ data: Type.Array(SessionModel), pagination: PaginationSchema }) },
        },
      },
      async (request, reply) => {
        servedFrom(request, '1.3-rev1');
        const sessions = await healthCheck.start({ ...request.body, createdBy: request.principal?.userName });
        return reply.code(201).send({
          data: sessions.map((s) => sessionModel(s, request.apiRevision)),
          pagination: pagination(sessions.length, sessions.length, { skip: 0, limit: sessions.length }),
        });
      },
    );
}
