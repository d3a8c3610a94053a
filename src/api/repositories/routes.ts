import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { typedRequests } from '../../http/typed-requests.js';
import { enumFilter, pageRequestFrom, pagination } from '../../http/paging.js';
import { IdParams } from '../../http/schemas.js';
import { SessionModel as SessionModelSchema } from '../sessions/schemas.js';
import { sessionModel } from '../sessions/service.js';
import {
  AccessPermissionsModel,
  AddQuery,
  REPOSITORY_ORDER_COLUMNS,
  REPOSITORY_TYPES,
  RemoveQuery,
  RepositoriesQuery,
  RepositoriesResult,
  RepositoryEdit,
  RepositoryModel,
  RepositorySpec,
  RepositoryStatesResult,
  RescanSpec,
  SOBR_EXTENT_TYPES,
  STATES_ORDER_COLUMNS,
  StatesQuery,
} from './schemas.js';
import { repositoryModel, repositoryStateModel } from './model.js';
import { accessModel, type ExtentCriteria, type RepositoriesService } from './service.js';
import type { RepositoryRescan } from './rescan.js';
import { ACCESS_PERMISSIONS, REPOSITORY_REPLY, REPOSITORY_STATES_REPLY } from '../../revisions/replies/repositories.js';

const tags = ['Repositories'];
const read = { apiFamily: 'vbr', access: 'Viewer' } as const;
const write = { apiFamily: 'vbr', access: 'Administrator' } as const;

/** The 1.3 scale-out filters of the states list, or undefined when none is given. */
function extentCriteria(q: Static<typeof StatesQuery>): ExtentCriteria | undefined {
  const extentTypes = enumFilter('sobrExtentTypeFilter', q.sobrExtentTypeFilter, Object.keys(SOBR_EXTENT_TYPES) as (keyof typeof SOBR_EXTENT_TYPES)[]);
  if (!q.sobrIdFilter && !extentTypes && !q.sobrMembershipFilter) return undefined;
  return {
    scaleOutId: q.sobrIdFilter,
    tiers: extentTypes?.map((t) => SOBR_EXTENT_TYPES[t]),
    scaleOutName: q.sobrMembershipFilter || undefined,
  };
}

const idOf = (request: { params: { id: string } }) => request.params.id;
const who = (request: { principal?: { userName: string } }) => request.principal?.userName;

/** /api/v1/backupInfrastructure/repositories */
export function repositoriesRoutes(app: FastifyInstance, deps: { repositories: RepositoriesService; rescan: RepositoryRescan }): void {
  const typed = typedRequests(app);
  const prefix = '/api/v1/backupInfrastructure/repositories';

  typed.get(
    prefix,
    {
      config: { ...read, reply: { body: REPOSITORY_REPLY } },
      schema: { tags, summary: 'Get all repositories', querystring: RepositoriesQuery, response: { 200: RepositoriesResult } },
    },
    async (request) => {
      const q = request.query;
      const page = pageRequestFrom(q, REPOSITORY_ORDER_COLUMNS, { column: 'name_key', asc: true });
      const { rows, total } = await deps.repositories.list(page, {
        types: enumFilter('typeFilter', q.typeFilter, REPOSITORY_TYPES),
        hostId: q.hostIdFilter,
        path: q.pathFilter,
        vmbApi: q.vmbApiFilter,
        vmbApiPlatform: q.vmbApiPlatform,
        excludeExtents: q.excludeExtents,
      });
      return { data: rows.map(repositoryModel), pagination: pagination(total, rows.length, page) };
    },
  );

  typed.post(
    prefix,
    { config: write, schema: { tags, summary: 'Add repository', querystring: AddQuery, body: RepositorySpec, response: { 201: SessionModelSchema } } },
    async (request, reply) => {
      const session = await deps.repositories.add(request.body, {
        overwriteOwner: request.query.overwriteOwner,
        createdBy: who(request),
      });
      return reply.code(201).send(sessionModel(session, request.apiRevision));
    },
  );

  typed.get(
    `${prefix}/states`,
    {
      config: { ...read, reply: { body: REPOSITORY_STATES_REPLY } },
      schema: { tags, summary: 'Get all repository states', querystring: StatesQuery, response: { 200: RepositoryStatesResult } },
    },
    async (request) => {
      const q = request.query;
      const page = pageRequestFrom(q, STATES_ORDER_COLUMNS, { column: 'name_key', asc: true });
      const { rows, total } = await deps.repositories.states(page, {
        id: q.idFilter,
        types: enumFilter('typeFilter', q.typeFilter, REPOSITORY_TYPES),
        capacity: q.capacityFilter,
        freeSpace: q.freeSpaceFilter,
        usedSpace: q.usedSpaceFilter,
        isOnline: q.isOnlineFilter,
        isOutOfDate: q.isOutOfDateFilter,
        extentOf: extentCriteria(q),
        excludeExtents: q.excludeExtents,
      });
      return { data: rows.map(repositoryStateModel), pagination: pagination(total, rows.length, page) };
    },
  );

  typed.post(
    `${prefix}/rescan`,
    { config: write, schema: { tags, summary: 'Rescan repositories (1.2)', body: RescanSpec, response: { 201: SessionModelSchema } } },
    async (request, reply) => {
      const session = await deps.rescan.start(request.body.repositoryIds, who(request));
      return reply.code(201).send(sessionModel(session, request.apiRevision));
    },
  );

  typed.get(
    `${prefix}/:id`,
    { config: { ...read, reply: { body: REPOSITORY_REPLY } }, schema: { tags, summary: 'Get repository', params: IdParams, response: { 200: RepositoryModel } } },
    async (request) => repositoryModel(await deps.repositories.get(idOf(request))),
  );

  typed.put(
    `${prefix}/:id`,
    { config: write, schema: { tags, summary: 'Edit repository', params: IdParams, body: RepositoryEdit, response: { 201: SessionModelSchema } } },
    async (request, reply) => {
      const session = await deps.repositories.edit(idOf(request), request.body, who(request));
      return reply.code(201).send(sessionModel(session, request.apiRevision));
    },
  );

  typed.delete(`${prefix}/:id`, { config: write, schema: { tags, summary: 'Remove repository', params: IdParams, querystring: RemoveQuery } }, async (request, reply) => {
    await deps.repositories.remove(idOf(request), request.query.deleteBackups === true);
    return reply.code(204).send();
  });

  typed.get(
    `${prefix}/:id/accessPermissions`,
    {
      config: { ...read, reply: { body: ACCESS_PERMISSIONS } },
      schema: { tags, summary: 'Get repository access permissions', params: IdParams, response: { 200: AccessPermissionsModel } },
    },
    async (request) => accessModel(await deps.repositories.accessPermissions(idOf(request))),
  );

  typed.put(
    `${prefix}/:id/accessPermissions`,
    {
      config: { ...write, reply: { body: ACCESS_PERMISSIONS } },
      schema: { tags, summary: 'Edit repository access permissions', params: IdParams, body: AccessPermissionsModel, response: { 200: AccessPermissionsModel } },
    },
    async (request) => accessModel(await deps.repositories.setAccessPermissions(idOf(request), request.body)),
  );
}
