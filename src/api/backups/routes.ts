import type { FastifyInstance, FastifyRequest } from 'fastify';
import { typedRequests } from '../../http/typed-requests.js';
import { dateFilter, enumFilter, pageRequestFrom, pagination } from '../../http/paging.js';
import { IdParams } from '../../http/schemas.js';
import { badRequest, notFound } from '../../http/errors.js';
import { isRevisionAtLeast } from '../../http/api-version.js';
import { backupModel, backupObjectModel, restorePointDiskModel, restorePointModel } from './model.js';
import {
  BACKUP_ORDER_COLUMNS,
  BackupModel,
  BackupObjectModel,
  BackupObjectsQuery,
  BackupObjectsResult,
  BackupsQuery,
  DeleteBackupQuery,
  BackupsResult,
  MALWARE_STATUSES,
  OBJECT_ORDER_COLUMNS,
  PLATFORM_NAMES,
  RESTORE_POINT_ORDER_COLUMNS,
  RestorePointDisksResult,
  RestorePointModel,
  RestorePointsQuery,
  RestorePointsResult,
} from './schemas.js';
import type { BackupsService } from './service.js';
import type { BackupDeletion } from './deletion.js';
import type { BackupFiles } from './backup-files.js';
import type { BackupHealthCheck } from './health-check.js';
import { backupOperationsRoutes } from './operations-routes.js';
import { SessionModel } from '../sessions/schemas.js';
import { sessionModel } from '../sessions/service.js';
import { allStatuses } from '../../revisions/shapes.js';
import { DELETE_BACKUP } from '../../revisions/replies/backups.js';

const read = { apiFamily: 'vbr', access: 'Viewer' } as const;
const write = { apiFamily: 'vbr', access: 'Administrator' } as const;

/** A list of everything at once (the per-backup and per-object lists are documented without paging). */
const whole = (count: number) => pagination(count, count, { skip: 0, limit: count });

/**
 * /api/v1/backups, /backupObjects, and the restore points: `/objectRestorePoints`
 * for 1.0–1.1 clients, `/restorePoints` from 1.2 (Veeam renamed the section).
 * Each revision sees only its own path; the other answers 404, as Veeam does.
 */
export function backupsRoutes(
  app: FastifyInstance,
  deps: {
    backups: BackupsService;
    deletion?: BackupDeletion;
    files?: BackupFiles;
    healthCheck?: BackupHealthCheck;
    repositoryNames: (ids: string[]) => Promise<Map<string, string>>;
  },
): void {
  const typed = typedRequests(app);
  backupOperationsRoutes(app, deps);
  const id = (request: { params: { id: string } }) => request.params.id;

  typed.get(
    '/api/v1/backups',
    { config: read, schema: { tags: ['Backups'], summary: 'Get All Backups', querystring: BackupsQuery, response: { 200: BackupsResult } } },
    async (request) => {
      const q = request.query;
      const page = pageRequestFrom(q, BACKUP_ORDER_COLUMNS, { column: 'creation_time', asc: false });
      const { rows, total } = await deps.backups.listBackups(page, {
        createdAfter: dateFilter('createdAfterFilter', q.createdAfterFilter),
        createdBefore: dateFilter('createdBeforeFilter', q.createdBeforeFilter),
        platformId: q.platformIdFilter,
        jobId: q.jobIdFilter,
        policyTag: q.policyTagFilter,
      });
      const names = await deps.repositoryNames([...new Set(rows.map((r) => r.repository_id))]);
      return { data: rows.map((r) => backupModel(r, request.apiRevision, names.get(r.repository_id))), pagination: pagination(total, rows.length, page) };
    },
  );

  typed.get('/api/v1/backups/:id', { config: read, schema: { tags: ['Backups'], summary: 'Get Backup', params: IdParams, response: { 200: BackupModel } } }, async (request) => {
    const row = await deps.backups.getBackup(id(request));
    return backupModel(row, request.apiRevision, (await deps.repositoryNames([row.repository_id])).get(row.repository_id));
  });

  const deletion = deps.deletion;
  if (deletion)
    typed.delete(
      '/api/v1/backups/:id',
      {
        config: { ...write, reply: DELETE_BACKUP },
        schema: {
          tags: ['Backups'],
          summary: 'Delete Backup',
          params: IdParams,
          querystring: DeleteBackupQuery,
          response: Object.fromEntries(allStatuses(DELETE_BACKUP, 201).map((status) => [status, SessionModel])),
        },
      },
      async (request, reply) => {
        // Veeam documents the delete from 1.2 on; 1.0–1.1 clients see no such route, as there.
        if (!isRevisionAtLeast(request.apiRevision, '1.2-rev0'))
          throw notFound(`No resource at DELETE ${request.url.split('?')[0]}: revision ${request.apiRevision} cannot delete backups (1.2 added it).`);
        const q = request.query;
        const session = await deletion.delete(id(request), { fromDB: q.fromDB === true, createdBy: request.principal?.userName });
        // 201 here; the revision hook answers 200 to 1.2 clients, as their document says.
        return reply.code(201).send(sessionModel(session, request.apiRevision));
      },
    );

  typed.get(
    '/api/v1/backups/:id/objects',
    { config: read, schema: { tags: ['Backups'], summary: 'Get Backup Objects', params: IdParams, response: { 200: BackupObjectsResult } } },
    async (request) => {
      const rows = await deps.backups.objectsOfBackup(id(request));
      return { data: rows.map(backupObjectModel), pagination: whole(rows.length) };
    },
  );

  typed.get(
    '/api/v1/backupObjects',
    { config: read, schema: { tags: ['Backup Objects'], summary: 'Get All Backup Objects', querystring: BackupObjectsQuery, response: { 200: BackupObjectsResult } } },
    async (request) => {
      const q = request.query;
      const page = pageRequestFrom(q, OBJECT_ORDER_COLUMNS, { column: 'name_key', asc: true });
      const { rows, total } = await deps.backups.listObjects(page, {
        platformNames: enumFilter('platformNameFilter', q.platformNameFilter, PLATFORM_NAMES),
        platformId: q.platformIdFilter,
        type: q.typeFilter,
        viType: q.viTypeFilter,
      });
      return { data: rows.map(backupObjectModel), pagination: pagination(total, rows.length, page) };
    },
  );

  typed.get(
    '/api/v1/backupObjects/:id',
    { config: read, schema: { tags: ['Backup Objects'], summary: 'Get Backup Object', params: IdParams, response: { 200: BackupObjectModel } } },
    async (request) => backupObjectModel(await deps.backups.getObject(id(request))),
  );

  typed.get(
    '/api/v1/backupObjects/:id/restorePoints',
    { config: read, schema: { tags: ['Backup Objects'], summary: 'Get Backup Object Restore Points', params: IdParams, response: { 200: RestorePointsResult } } },
    async (request) => {
      const rows = await deps.backups.restorePointsOfObject(id(request));
      return { data: rows.map((r) => restorePointModel(r, request.apiRevision)), pagination: whole(rows.length) };
    },
  );

  for (const [base, renamed] of [
    ['/api/v1/objectRestorePoints', false],
    ['/api/v1/restorePoints', true],
  ] as const) {
    const tags = ['Restore Points'];
    /** The path of the other revision family is not there for this caller. */
    const served = (request: FastifyRequest) => {
      if (isRevisionAtLeast(request.apiRevision, '1.2-rev0') !== renamed) {
        throw notFound(
          `No resource at ${request.method} ${request.url.split('?')[0]}: revision ${request.apiRevision} lists restore points under ${renamed ? '/api/v1/objectRestorePoints' : '/api/v1/restorePoints'}.`,
        );
      }
    };
    typed.get(
      base,
      { config: read, schema: { tags, summary: 'Get All Restore Points', querystring: RestorePointsQuery, response: { 200: RestorePointsResult } } },
      async (request) => {
        served(request);
        const q = request.query;
        if (!renamed && q.malwareStatusFilter !== undefined)
          throw badRequest(`Invalid query parameter "malwareStatusFilter": revision ${request.apiRevision} has no such filter (1.2 added it).`);
        const page = pageRequestFrom(q, RESTORE_POINT_ORDER_COLUMNS, { column: 'creation_time', asc: false });
        const { rows, total } = await deps.backups.listRestorePoints(page, {
          createdAfter: dateFilter('createdAfterFilter', q.createdAfterFilter),
          createdBefore: dateFilter('createdBeforeFilter', q.createdBeforeFilter),
          platformNames: enumFilter('platformNameFilter', q.platformNameFilter, PLATFORM_NAMES),
          platformId: q.platformIdFilter,
          backupId: q.backupIdFilter,
          backupObjectId: q.backupObjectIdFilter,
          malwareStatuses: renamed ? enumFilter('malwareStatusFilter', q.malwareStatusFilter, MALWARE_STATUSES) : undefined,
        });
        return { data: rows.map((r) => restorePointModel(r, request.apiRevision)), pagination: pagination(total, rows.length, page) };
      },
    );
    typed.get(`${base}/:id`, { config: read, schema: { tags, summary: 'Get Restore Point', params: IdParams, response: { 200: RestorePointModel } } }, async (request) => {
      served(request);
      return restorePointModel(await deps.backups.getRestorePoint(id(request)), request.apiRevision);
    });
    typed.get(
      `${base}/:id/disks`,
      { config: read, schema: { tags, summary: 'Get Restore Point Disks', params: IdParams, response: { 200: RestorePointDisksResult } } },
      async (request) => {
        served(request);
        const rows = await deps.backups.disksOf(id(request));
        return { data: rows.map(restorePointDiskModel), pagination: whole(rows.length) };
      },
    );
  }
}
