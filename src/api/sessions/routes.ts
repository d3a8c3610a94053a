import type { FastifyInstance } from 'fastify';
import { typedRequests } from '../../http/typed-requests.js';
import { dateFilter, enumFilter, pageRequestFrom, pagination } from '../../http/paging.js';
import { notFound } from '../../http/errors.js';
import { formatInstant } from '../../http/dates.js';
import { EmptySuccessSchema, IdParams } from '../../http/schemas.js';
import { LOG_STATUSES, SESSION_RESULTS, SESSION_STATES, SESSION_TYPES } from '../../sessions/model.js';
import { SESSION_ORDER_COLUMNS, SessionLogResult, SessionLogsQuery, SessionModel, SessionsQuery, SessionsResult } from './schemas.js';
import { sessionModel, type SessionsService } from './service.js';

/**
 * Sessions and, with `automation`, the automation sessions: the same model, filters
 * and actions under another prefix.
 */
const serializedPages = new WeakMap<object, Buffer>();

export function sessionsRoutes(app: FastifyInstance, deps: { sessions: SessionsService }, prefix = '/api/v1/sessions', automation = false): void {
  const typed = typedRequests(app);
  const tags = [automation ? 'Automation' : 'Sessions'];

  typed.get(
    prefix,
    { config: { apiFamily: 'vbr', access: 'Viewer' }, schema: { tags, summary: 'Get all sessions', querystring: SessionsQuery, response: { 200: SessionsResult } } },
    async (request, reply) => {
      const q = request.query;
      const page = pageRequestFrom(q, SESSION_ORDER_COLUMNS, { column: 'creation_time', asc: false });
      const result = await deps.sessions.list(
        page,
        {
          createdAfter: dateFilter('createdAfterFilter', q.createdAfterFilter),
          createdBefore: dateFilter('createdBeforeFilter', q.createdBeforeFilter),
          endedAfter: dateFilter('endedAfterFilter', q.endedAfterFilter),
          endedBefore: dateFilter('endedBeforeFilter', q.endedBeforeFilter),
          types: enumFilter('typeFilter', q.typeFilter, SESSION_TYPES),
          states: enumFilter('stateFilter', q.stateFilter, SESSION_STATES),
          results: enumFilter('resultFilter', q.resultFilter, SESSION_RESULTS),
          jobId: q.jobIdFilter,
          automation,
        },
        request.apiRevision,
      );
      // A page polled again is sent as the same bytes: serialized and UTF-8 encoded once
      // per cached answer (encoding a 45 KB page costs as much as the rest of the request).
      let body = serializedPages.get(result);
      if (body === undefined) {
        body = Buffer.from(JSON.stringify({ data: result.data, pagination: pagination(result.total, result.data.length, page) }));
        serializedPages.set(result, body);
      }
      return reply.type('application/json; charset=utf-8').send(body);
    },
  );

  typed.get(
    `${prefix}/:id`,
    { config: { apiFamily: 'vbr', access: 'Viewer' }, schema: { tags, summary: 'Get session', params: IdParams, response: { 200: SessionModel } } },
    async (request) => {
      const { id } = request.params;
      const record = await deps.sessions.get(id);
      if (!record) throw notFound(`Session ${id} was not found.`, id);
      return sessionModel(record, request.apiRevision);
    },
  );

  typed.get(
    `${prefix}/:id/logs`,
    {
      config: { apiFamily: 'vbr', access: 'Viewer' },
      schema: { tags, summary: 'Get session logs', params: IdParams, querystring: SessionLogsQuery, response: { 200: SessionLogResult } },
    },
    async (request) => {
      const { id } = request.params;
      if (!(await deps.sessions.get(id))) throw notFound(`Session ${id} was not found.`, id);
      // 1.3 statusFilter: records of these statuses only (a handful per session: filtered here, not in SQL).
      const statuses = enumFilter('statusFilter', request.query.statusFilter, LOG_STATUSES);
      const records = (await deps.sessions.logs(id))
        .filter((r) => !statuses || statuses.includes(r.status))
        .map((r) => ({ ...r, startTime: formatInstant(r.startTime)!, updateTime: formatInstant(r.updateTime)! }));
      return { totalRecords: records.length, records };
    },
  );

  typed.post(
    `${prefix}/:id/stop`,
    { config: { apiFamily: 'vbr', access: 'Operator' }, schema: { tags, summary: 'Stop session', params: IdParams, response: { 200: EmptySuccessSchema } } },
    async (request) => {
      const { id } = request.params;
      if (!(await deps.sessions.stop(id, request.principal!.userName))) throw notFound(`Session ${id} was not found.`, id);
      return {};
    },
  );
}
