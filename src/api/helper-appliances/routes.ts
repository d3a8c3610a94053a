import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { TSchema } from 'typebox';
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
/** Sessions leave in the requested revision's spelling (a loose record type), so the reply is not typed from the schema. */
const sessionReplies = (statuses: number[]): Record<number, TSchema> => Object.fromEntries(statuses.map((status) => [status, SessionModel]));

/** /api/v1/cloudCredentials/{id}/helperAppliances: Linux helper appliances of an AzureCompute account, deployed and removed as sessions. */
export function helperAppliancesRoutes(app: FastifyInstance, deps: { helperAppliances: HelperAppliancesService }): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const prefix = '/api/v1/cloudCredentials/:id/helperAppliances';
  const service = deps.helperAppliances;
  const user = (request: { principal?: { userName: string } }) => request.principal!.userName;

  typed.get(
    prefix,
    { config: read, schema: { tags, summary: 'Get All Helper Appliances', params: IdParams, querystring: AppliancesQuery, response: { 200: HelperAppliancesResult } } },
    async (request) => {
      const q = request.query;
      const page = { skip: q.skip ?? 0, limit: q.limit ?? DEFAULT_LIMIT };
      const { rows, total } = await service.list(request.params.id, page);
      return { data: rows.map(helperApplianceModel), pagination: pagination(total, rows.length, page) };
    },
  );

  typed.post(
    prefix,
    { config: write, schema: { tags, summary: 'Add or Edit Helper Appliance', params: IdParams, body: HelperApplianceSpec, response: sessionReplies([201]) } },
    async (request, reply) => {
      const session = await service.deploy(request.params.id, request.body, user(request));
      return reply.code(201).send(sessionModel(session, request.apiRevision));
    },
  );

  typed.get(
    `${prefix}/:applianceId`,
    { config: read, schema: { tags, summary: 'Get Helper Appliance', params: ApplianceParams, response: { 200: HelperApplianceModel } } },
    async (request) => {
      const params = request.params;
      return helperApplianceModel(await service.get(params.id, params.applianceId));
    },
  );

  typed.delete(
    `${prefix}/:applianceId`,
    {
      config: { ...write, reply: REMOVE_HELPER_APPLIANCE },
      schema: {
        tags,
        summary: 'Remove Helper Appliance',
        params: ApplianceParams,
        response: sessionReplies(allStatuses(REMOVE_HELPER_APPLIANCE, 201)),
      },
    },
    async (request, reply) => {
      const params = request.params;
      // 1.1-rev0 answers 204 without a body; the removal still runs as a session (GET /api/v1/sessions lists it).
      return reply.code(201).send(sessionModel(await service.remove(params.id, params.applianceId, user(request)), request.apiRevision));
    },
  );
}
