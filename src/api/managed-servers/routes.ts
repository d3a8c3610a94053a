import type { FastifyInstance } from 'fastify';
import { typedRequests } from '../../http/typed-requests.js';
import { Type } from 'typebox';
import { enumFilter, pageRequestFrom, pagination } from '../../http/paging.js';
import { IdParams } from '../../http/schemas.js';
import { SessionModel } from '../sessions/schemas.js';
import { sessionModel } from '../sessions/service.js';
import { MANAGED_SERVER_TYPES, LinuxCredentialsSpec } from '../connection/schemas.js';
import {
  KnownHostsImportResult,
  MANAGED_SERVER_ORDER_COLUMNS,
  ManagedServerEdit,
  ManagedServerModel,
  ManagedServerSpec,
  ManagedServersQuery,
  ManagedServersResult,
  SERVER_STATE_FILTERS,
  UPDATES_STATES,
  VI_HOST_TYPES,
} from './schemas.js';
import { managedServerModel } from './model.js';
import { MANAGED_SERVER_REPLY } from '../../revisions/replies/managed-servers.js';
import type { ManagedServersService } from './service.js';

const tags = ['Managed Servers'];
const read = { apiFamily: 'vbr', access: 'Viewer' } as const;
const readServers = { ...read, reply: { body: MANAGED_SERVER_REPLY } } as const;
const write = { apiFamily: 'vbr', access: 'Administrator' } as const;
const created = { 201: SessionModel };

/** /api/v1/backupInfrastructure/managedServers: hosts Rampart talks to, pinned to the identity they were shown with. */
export function managedServersRoutes(app: FastifyInstance, deps: { managedServers: ManagedServersService }): void {
  const typed = typedRequests(app);
  const prefix = '/api/v1/backupInfrastructure/managedServers';
  const id = (request: { params: { id: string } }) => request.params.id;
  const user = (request: { principal?: { userName: string } }) => request.principal!.userName;

  typed.get(
    prefix,
    { config: readServers, schema: { tags, summary: 'Get all servers', querystring: ManagedServersQuery, response: { 200: ManagedServersResult } } },
    async (request) => {
      const q = request.query;
      const page = pageRequestFrom(q, MANAGED_SERVER_ORDER_COLUMNS, { column: 'name_key', asc: true });
      const { rows, total } = await deps.managedServers.list(page, {
        types: enumFilter('typeFilter', q.typeFilter, MANAGED_SERVER_TYPES),
        viTypes: enumFilter('viTypeFilter', q.viTypeFilter, VI_HOST_TYPES),
        states: enumFilter('serverStateFilter', q.serverStateFilter, SERVER_STATE_FILTERS),
        updatesStates: enumFilter('updatesStateFilter', q.updatesStateFilter, UPDATES_STATES),
      });
      return { data: rows.map(managedServerModel), pagination: pagination(total, rows.length, page) };
    },
  );

  typed.post(prefix, { config: write, schema: { tags, summary: 'Add server', body: ManagedServerSpec, response: created } }, async (request, reply) => {
    const session = await deps.managedServers.add(request.body, user(request));
    return reply.code(201).send(sessionModel(session, request.apiRevision));
  });

  // Static paths before /:id so they are never read as ids.
  typed.get(
    `${prefix}/knownHosts`,
    {
      config: read,
      schema: {
        tags,
        summary: 'Export pinned SSH host keys as known_hosts (Rampart extension)',
        querystring: Type.Object({ hashed: Type.Optional(Type.Boolean({ description: 'Hash the host names as HashKnownHosts does (default false).' })) }),
      },
    },
    async (request, reply) => reply.type('text/plain; charset=utf-8').send(await deps.managedServers.exportKnownHosts(request.query.hashed === true)),
  );

  typed.post(
    `${prefix}/knownHosts`,
    {
      config: write,
      schema: {
        tags,
        summary: 'Import SSH host key pins from a known_hosts file (Rampart extension)',
        description: 'Body: the file as text/plain (or JSON {"knownHosts": "..."}). Pins keys for Linux servers that exist; other hosts are reported.',
        response: { 200: KnownHostsImportResult },
      },
    },
    async (request) => {
      const body = request.body;
      const text = typeof body === 'string' ? body : typeof (body as { knownHosts?: unknown })?.knownHosts === 'string' ? (body as { knownHosts: string }).knownHosts : '';
      return { results: await deps.managedServers.importKnownHosts(text) };
    },
  );

  typed.get(`${prefix}/:id`, { config: readServers, schema: { tags, summary: 'Get server', params: IdParams, response: { 200: ManagedServerModel } } }, async (request) =>
    managedServerModel(await deps.managedServers.get(id(request))),
  );

  typed.put(`${prefix}/:id`, { config: write, schema: { tags, summary: 'Edit server', params: IdParams, body: ManagedServerEdit, response: created } }, async (request, reply) => {
    const session = await deps.managedServers.edit(id(request), request.body, user(request));
    return reply.code(201).send(sessionModel(session, request.apiRevision));
  });

  typed.delete(`${prefix}/:id`, { config: write, schema: { tags, summary: 'Remove server', params: IdParams, response: created } }, async (request, reply) => {
    const session = await deps.managedServers.remove(id(request), user(request));
    return reply.code(201).send(sessionModel(session, request.apiRevision));
  });

  typed.post(
    `${prefix}/:id/updateSingleUseCredentials`,
    { config: write, schema: { tags, summary: 'Change to single-use credentials', params: IdParams, body: LinuxCredentialsSpec, response: created } },
    async (request, reply) => {
      const session = await deps.managedServers.updateSingleUseCredentials(id(request), request.body, user(request));
      return reply.code(201).send(sessionModel(session, request.apiRevision));
    },
  );

  typed.post(
    `${prefix}/:id/rescan`,
    { config: write, schema: { tags, summary: 'Rescan server: check it against its pin (Rampart extension)', params: IdParams, response: created } },
    async (request, reply) => {
      const session = await deps.managedServers.rescan(id(request), user(request));
      return reply.code(201).send(sessionModel(session, request.apiRevision));
    },
  );
}
