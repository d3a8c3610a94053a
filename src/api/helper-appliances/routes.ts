import type { FastifyInstance } from 'fastify';
import { DEFAULT_LIMIT, pagination } from '../../http/paging.js';
import { IdParams } from '../../http/schemas.js';
import { allStatuses } from '../../revisions/shapes.js';
import { REMOVE_HELPER_APPLIANCE } from '../../revisions/replies/agents-and-appliances.js';
import { SessionModel } from '../sessions/schemas.js';
import { sessionModel } from '../sessions/service.js';
import { ApplianceParams, AppliancesQuery, HelperApplianceModel, HelperApplianceSpec, HelperAppliancesResult } from './schemas.js';
import { helperApplianceModel, type HelperAppliancesService } from './service.js';

const tags = ['Credentials'];
const read = { apiFamily: 'vbr', access: 'Viewer' } as const;
const write = { apiFamily: 'vbr', access: 'Administrator' } as const;

/** /api/v1/cloudCredentials/{id}/helperAppliances: Linux helper appliances of an AzureCompute account, deployed and removed as sessions. */
export function helperAppliancesRoutes(app: FastifyInstance, deps: { helperAppliances: HelperAppliancesService }): void {
  const prefix = '/api/v1/cloudCredentials/:id/helperAppliances';
  const service = deps.helperAppliances;
  const user = (request: { principal?: { userName: string } }) => request.principal!.userName;

  app.get(
    prefix,
    { config: read, schema: { tags, summary: 'Get All Helper Appliances', params: IdParams, querystring: AppliancesQuery, response: { 200: HelperAppliancesResult } } },
    async (request) => {
      const q = request.query as { skip?: number; limit?: number };
      const page = { skip: q.skip ?? 0, limit: q.limit ?? DEFAULT_LIMIT };
      const { rows, total } = await service.list((request.params as { id: string }).id, page);
      return { data: rows.map(helperApplianceModel), pagination: pagination(total, rows.length, page) };
    },
  );

  app.post(
    prefix,
    { config: write, schema: { tags, summary: 'Add or Edit Helper Appliance', params: IdParams, body: HelperApplianceSpec, response: { 201: SessionModel } } },
    async (request, reply) => {
      const session = await service.deploy((request.params as { id: string }).id, request.body as Record<string, unknown>, user(request));
      return reply.code(201).send(sessionModel(session, request.apiRevision));
    },
  );

  app.get(
    `${prefix}/:applianceId`,
    { config: read, schema: { tags, summary: 'Get Helper Appliance', params: ApplianceParams, response: { 200: HelperApplianceModel } } },
    async (request) => {
      const params = request.params as { id: string; applianceId: string };
      return helperApplianceModel(await service.get(params.id, params.applianceId));
    },
  );

  app.delete(
    `${prefix}/:applianceId`,
    {
      config: { ...write, reply: REMOVE_HELPER_APPLIANCE },
      schema: {
        tags,
        summary: 'Remove Helper Appliance',
        params: ApplianceParams,
        response: Object.fromEntries(allStatuses(REMOVE_HELPER_APPLIANCE, 201).map((status) => [status, SessionModel])),
      },
    },
    async (request, reply) => {
      const params = request.params as { id: string; applianceId: string };
      // 1.1-rev0 answers 204 without a body; the removal still runs as a session (GET /api/v1/sessions lists it).
      return reply.code(201).send(sessionModel(await service.remove(params.id, params.applianceId, user(request)), request.apiRevision));
    },
  );
}
