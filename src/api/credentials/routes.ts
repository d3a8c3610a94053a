import type { FastifyInstance } from 'fastify';
import { typedRequests } from '../../http/typed-requests.js';
import { dateFilter, enumFilter, pageRequestFrom, pagination } from '../../http/paging.js';
import { EmptySuccessSchema, IdParams } from '../../http/schemas.js';
import {
  CREDENTIALS_ORDER_COLUMNS,
  CREDENTIALS_TYPES,
  CredentialsEdit,
  CredentialsModel,
  CredentialsQuery,
  CredentialsResult,
  CredentialsSpec,
  PasswordChangeSpec,
  PrivateKeyChangeSpec,
} from './schemas.js';
import { credentialsModel, type CredentialsService } from './service.js';
import { CREDENTIALS } from '../../revisions/replies/credentials.js';
import { modelOrList } from '../../revisions/shapes.js';

const tags = ['Credentials'];
const read = { apiFamily: 'vbr', access: 'Viewer', reply: { body: modelOrList(CREDENTIALS) } } as const;
const write = { apiFamily: 'vbr', access: 'Administrator', reply: { body: modelOrList(CREDENTIALS) } } as const;

/** /api/v1/credentials: Standard and Linux credentials records; secrets are write-only. */
export function credentialsRoutes(app: FastifyInstance, deps: { credentials: CredentialsService }): void {
  const typed = typedRequests(app);
  const prefix = '/api/v1/credentials';

  typed.get(prefix, { config: read, schema: { tags, summary: 'Get all credentials', querystring: CredentialsQuery, response: { 200: CredentialsResult } } }, async (request) => {
    const q = request.query;
    const page = pageRequestFrom(q, CREDENTIALS_ORDER_COLUMNS, { column: 'username_key', asc: true });
    const { rows, total } = await deps.credentials.list(page, {
      types: enumFilter('typeFilter', q.typeFilter, CREDENTIALS_TYPES),
      createdAfter: dateFilter('createdAfterFilter', q.createdAfterFilter),
      createdBefore: dateFilter('createdBeforeFilter', q.createdBeforeFilter),
    });
    const keyed = await deps.credentials.withPrivateKey(rows);
    return { data: rows.map((row) => credentialsModel(row, keyed)), pagination: pagination(total, rows.length, page) };
  });

  typed.post(prefix, { config: write, schema: { tags, summary: 'Add credentials record', body: CredentialsSpec, response: { 201: CredentialsModel } } }, async (request, reply) => {
    const row = await deps.credentials.add(request.body);
    return reply.code(201).send(credentialsModel(row, await deps.credentials.withPrivateKey([row])));
  });

  typed.get(`${prefix}/:id`, { config: read, schema: { tags, summary: 'Get credentials record', params: IdParams, response: { 200: CredentialsModel } } }, async (request) => {
    const row = await deps.credentials.get(request.params.id);
    return credentialsModel(row, await deps.credentials.withPrivateKey([row]));
  });

  typed.put(
    `${prefix}/:id`,
    { config: write, schema: { tags, summary: 'Edit credentials record', params: IdParams, body: CredentialsEdit, response: { 200: CredentialsModel } } },
    async (request) => {
      const row = await deps.credentials.edit(request.params.id, request.body);
      return credentialsModel(row, await deps.credentials.withPrivateKey([row]));
    },
  );

  typed.delete(`${prefix}/:id`, { config: write, schema: { tags, summary: 'Remove credentials record', params: IdParams } }, async (request, reply) => {
    await deps.credentials.remove(request.params.id);
    return reply.code(204).send();
  });

  typed.post(
    `${prefix}/:id/changepassword`,
    { config: write, schema: { tags, summary: 'Change password', params: IdParams, body: PasswordChangeSpec, response: { 200: EmptySuccessSchema } } },
    async (request) => {
      await deps.credentials.changePassword(request.params.id, request.body.password);
      return {};
    },
  );

  typed.post(
    `${prefix}/:id/changeprivatekey`,
    { config: write, schema: { tags, summary: 'Change private key', params: IdParams, body: PrivateKeyChangeSpec, response: { 200: EmptySuccessSchema } } },
    async (request) => {
      const body = request.body;
      await deps.credentials.changePrivateKey(request.params.id, body.privateKey, body.passphrase ?? undefined);
      return {};
    },
  );

  typed.post(
    `${prefix}/:id/changerootpassword`,
    { config: write, schema: { tags, summary: 'Change root password', params: IdParams, body: PasswordChangeSpec, response: { 200: EmptySuccessSchema } } },
    async (request) => {
      await deps.credentials.changeRootPassword(request.params.id, request.body.password);
      return {};
    },
  );
}
