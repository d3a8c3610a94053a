import type { FastifyInstance } from 'fastify';
import { typedRequests } from '../../http/typed-requests.js';
import { pageRequestFrom, pagination } from '../../http/paging.js';
import { IdParams } from '../../http/schemas.js';
import { SessionModel as SessionModelSchema } from '../sessions/schemas.js';
import { sessionModel } from '../sessions/service.js';
import { AccessPermissionsModel } from '../repositories/schemas.js';
import { ExtentMaintenanceSpec, RemoveQuery, SOBR_ORDER_COLUMNS, ScaleOutEdit, ScaleOutModel, ScaleOutQuery, ScaleOutResult, ScaleOutSpec, ScaleOutStateModel } from './schemas.js';
import type { ScaleOutRepositoriesService } from './service.js';
import type { ModeAction } from './modes.js';
import { ACCESS_PERMISSIONS, SCALE_OUT_REPOSITORY_REPLY } from '../../revisions/replies/repositories.js';

const tags = ['Repositories'];
const read = { apiFamily: 'vbr', access: 'Viewer', reply: { body: SCALE_OUT_REPOSITORY_REPLY } } as const;
const write = { apiFamily: 'vbr', access: 'Administrator' } as const;

const idOf = (request: { params: { id: string } }) => request.params.id;
const who = (request: { principal?: { userName: string } }) => request.principal?.userName;

const MODE_ACTIONS: { action: ModeAction; summary: string }[] = [
  { action: 'enableSealedMode', summary: 'Enable sealed mode' },
  { action: 'disableSealedMode', summary: 'Disable sealed mode' },
  { action: 'enableMaintenanceMode', summary: 'Enable maintenance mode' },
  { action: 'disableMaintenanceMode', summary: 'Disable maintenance mode' },
  { action: 'evacuateBackups', summary: 'Evacuate backups from extents' },
];

/** /api/v1/backupInfrastructure/scaleOutRepositories */
export function scaleOutRepositoriesRoutes(app: FastifyInstance, deps: { scaleOut: ScaleOutRepositoriesService }): void {
  const typed = typedRequests(app);
  const prefix = '/api/v1/backupInfrastructure/scaleOutRepositories';

  typed.get(
    prefix,
    { config: read, schema: { tags, summary: 'Get all scale-out backup repositories', querystring: ScaleOutQuery, response: { 200: ScaleOutResult } } },
    async (request) => {
      const page = pageRequestFrom(request.query, SOBR_ORDER_COLUMNS, { column: 'name_key', asc: true });
      const { rows, total } = await deps.scaleOut.list(page);
      return { data: await deps.scaleOut.models(rows), pagination: pagination(total, rows.length, page) };
    },
  );

  typed.post(
    prefix,
    { config: write, schema: { tags, summary: 'Add scale-out backup repository', body: ScaleOutSpec, response: { 201: SessionModelSchema } } },
    async (request, reply) => {
      const session = await deps.scaleOut.add(request.body, who(request));
      return reply.code(201).send(sessionModel(session, request.apiRevision));
    },
  );

  typed.get(
    `${prefix}/:id`,
    { config: read, schema: { tags, summary: 'Get scale-out backup repository', params: IdParams, response: { 200: ScaleOutModel } } },
    async (request) => (await deps.scaleOut.models([await deps.scaleOut.get(idOf(request))]))[0],
  );

  typed.get(
    `${prefix}/:id/state`,
    {
      config: read,
      schema: { tags, summary: 'Rampart extension: capacity of a scale-out repository, aggregated from its extents', params: IdParams, response: { 200: ScaleOutStateModel } },
    },
    async (request) => deps.scaleOut.state(idOf(request)),
  );

  typed.put(
    `${prefix}/:id`,
    { config: write, schema: { tags, summary: 'Edit scale-out backup repository', params: IdParams, body: ScaleOutEdit, response: { 201: SessionModelSchema } } },
    async (request, reply) => {
      const session = await deps.scaleOut.edit(idOf(request), request.body, who(request));
      return reply.code(201).send(sessionModel(session, request.apiRevision));
    },
  );

  typed.delete(
    `${prefix}/:id`,
    { config: write, schema: { tags, summary: 'Remove scale-out backup repository', params: IdParams, querystring: RemoveQuery } },
    async (request, reply) => {
      await deps.scaleOut.remove(idOf(request));
      return reply.code(204).send();
    },
  );

  typed.get(
    `${prefix}/:id/accessPermissions`,
    {
      config: { ...read, reply: { body: ACCESS_PERMISSIONS } },
      schema: { tags, summary: 'Get scale-out repository access permissions', params: IdParams, response: { 200: AccessPermissionsModel } },
    },
    async (request) => deps.scaleOut.accessPermissions(idOf(request)),
  );

  typed.put(
    `${prefix}/:id/accessPermissions`,
    {
      config: { ...write, reply: { body: ACCESS_PERMISSIONS } },
      schema: { tags, summary: 'Edit scale-out repository access permissions', params: IdParams, body: AccessPermissionsModel, response: { 200: AccessPermissionsModel } },
    },
    async (request) => deps.scaleOut.setAccessPermissions(idOf(request), request.body),
  );

  for (const { action, summary } of MODE_ACTIONS) {
    typed.post(
      `${prefix}/:id/${action}`,
      { config: write, schema: { tags, summary, params: IdParams, body: ExtentMaintenanceSpec, response: { 201: SessionModelSchema } } },
      async (request, reply) => {
        const session = await deps.scaleOut.changeMode(idOf(request), action, request.body.repositoryIds, who(request));
        return reply.code(201).send(sessionModel(session, request.apiRevision));
      },
    );
  }
}
