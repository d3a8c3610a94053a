import type { FastifyInstance } from 'fastify';
import { typedRequests } from '../../http/typed-requests.js';
import { enumFilter, pageRequestFrom, pagination } from '../../http/paging.js';
import { EmptySuccessSchema, IdParams } from '../../http/schemas.js';
import { SessionModel } from '../sessions/schemas.js';
import { sessionModel } from '../sessions/service.js';
import {
  PROXY_ORDER_COLUMNS,
  PROXY_STATE_ORDER_COLUMNS,
  PROXY_TYPES,
  ProxiesQuery,
  ProxiesResult,
  ProxyEdit,
  ProxyModel,
  ProxySpec,
  ProxyStatesQuery,
  ProxyStatesResult,
} from './schemas.js';
import { proxyModel, proxyStateModel } from './model.js';
import type { ProxiesService } from './service.js';
import { PROXY_REPLY } from '../../revisions/replies/proxies.js';

const tags = ['Proxies'];
const read = { apiFamily: 'vbr', access: 'Viewer', reply: { body: PROXY_REPLY } } as const;
const write = { apiFamily: 'vbr', access: 'Administrator' } as const;

/** /api/v1/backupInfrastructure/proxies: VMware backup proxies, each a role of a managed server. */
export function proxiesRoutes(app: FastifyInstance, deps: { proxies: ProxiesService }): void {
  const typed = typedRequests(app);
  const prefix = '/api/v1/backupInfrastructure/proxies';
  const id = (request: { params: { id: string } }) => request.params.id.toLowerCase();
  const user = (request: { principal?: { userName: string } }) => request.principal!.userName;

  typed.get(prefix, { config: read, schema: { tags, summary: 'Get All Proxies', querystring: ProxiesQuery, response: { 200: ProxiesResult } } }, async (request) => {
    const q = request.query;
    const page = pageRequestFrom(q, PROXY_ORDER_COLUMNS, { column: 'name_key', asc: true });
    const { rows, total } = await deps.proxies.list(page, { types: enumFilter('typeFilter', q.typeFilter, PROXY_TYPES), hostId: q.hostIdFilter?.toLowerCase() });
    return { data: rows.map(proxyModel), pagination: pagination(total, rows.length, page) };
  });

  // 1.3: what monitoring polls. Registered as a static path, so it never reads as an {id}.
  typed.get(
    `${prefix}/states`,
    { config: { apiFamily: 'vbr', access: 'Viewer' }, schema: { tags, summary: 'Get All Proxy States', querystring: ProxyStatesQuery, response: { 200: ProxyStatesResult } } },
    async (request) => {
      const q = request.query;
      const page = pageRequestFrom(q, PROXY_STATE_ORDER_COLUMNS, { column: 'name_key', asc: true });
      const { rows, total, online } = await deps.proxies.states(page, {
        types: enumFilter('typeFilter', q.typeFilter, PROXY_TYPES),
        hostId: q.hostIdFilter?.toLowerCase(),
        isDisabled: q.isDisabledFilter,
        isOnline: q.isOnlineFilter,
        isOutOfDate: q.isOutOfDateFilter,
      });
      return { data: rows.map((row) => proxyStateModel(row, online.has(row.host_id))), pagination: pagination(total, rows.length, page) };
    },
  );

  typed.post(prefix, { config: write, schema: { tags, summary: 'Add Proxy', body: ProxySpec, response: { 201: SessionModel } } }, async (request, reply) => {
    const session = await deps.proxies.add(request.body, user(request));
    return reply.code(201).send(sessionModel(session, request.apiRevision));
  });

  typed.get(`${prefix}/:id`, { config: read, schema: { tags, summary: 'Get Proxy', params: IdParams, response: { 200: ProxyModel } } }, async (request) =>
    proxyModel(await deps.proxies.get(id(request))),
  );

  typed.put(
    `${prefix}/:id`,
    { config: write, schema: { tags, summary: 'Edit Proxy', params: IdParams, body: ProxyEdit, response: { 201: SessionModel } } },
    async (request, reply) => {
      const session = await deps.proxies.edit(id(request), request.body, user(request));
      return reply.code(201).send(sessionModel(session, request.apiRevision));
    },
  );

  typed.delete(`${prefix}/:id`, { config: write, schema: { tags, summary: 'Remove Proxy', params: IdParams, response: { 204: EmptySuccessSchema } } }, async (request, reply) => {
    await deps.proxies.remove(id(request));
    return reply.code(204).send();
  });
}
