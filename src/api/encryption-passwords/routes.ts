import type { FastifyInstance } from 'fastify';
import { typedRequests } from '../../http/typed-requests.js';
import { pageRequestFrom, pagination } from '../../http/paging.js';
import { EmptySuccessSchema, IdParams } from '../../http/schemas.js';
import {
  ENCRYPTION_PASSWORD_ORDER_COLUMNS,
  EncryptionPasswordChangeSpec,
  EncryptionPasswordEdit,
  EncryptionPasswordModel,
  EncryptionPasswordSpec,
  EncryptionPasswordsQuery,
  EncryptionPasswordsResult,
} from './schemas.js';
import { encryptionPasswordModel, type EncryptionPasswordsService } from './service.js';
import { ENCRYPTION_PASSWORD_REPLY } from '../../revisions/replies/encryption-passwords.js';

const tags = ['Encryption'];
const read = { apiFamily: 'vbr', access: 'Viewer', reply: { body: ENCRYPTION_PASSWORD_REPLY } } as const;
const write = { apiFamily: 'vbr', access: 'Administrator', reply: { body: ENCRYPTION_PASSWORD_REPLY } } as const;

/** /api/v1/encryptionPasswords: data encryption passwords; the password itself is never shown. */
export function encryptionPasswordsRoutes(app: FastifyInstance, deps: { encryptionPasswords: EncryptionPasswordsService }): void {
  const typed = typedRequests(app);
  const prefix = '/api/v1/encryptionPasswords';
  const service = deps.encryptionPasswords;

  typed.get(
    prefix,
    { config: read, schema: { tags, summary: 'Get all encryption passwords', querystring: EncryptionPasswordsQuery, response: { 200: EncryptionPasswordsResult } } },
    async (request) => {
      const q = request.query;
      const page = pageRequestFrom(q, ENCRYPTION_PASSWORD_ORDER_COLUMNS, { column: 'hint_key', asc: true });
      const { rows, total } = await service.list(page, q.hintFilter);
      return { data: rows.map(encryptionPasswordModel), pagination: pagination(total, rows.length, page) };
    },
  );

  typed.post(
    prefix,
    { config: write, schema: { tags, summary: 'Add encryption password', body: EncryptionPasswordSpec, response: { 201: EncryptionPasswordModel } } },
    async (request, reply) => reply.code(201).send(encryptionPasswordModel(await service.add(request.body))),
  );

  typed.get(
    `${prefix}/:id`,
    { config: read, schema: { tags, summary: 'Get encryption password', params: IdParams, response: { 200: EncryptionPasswordModel } } },
    async (request) => encryptionPasswordModel(await service.get(request.params.id)),
  );

  typed.put(
    `${prefix}/:id`,
    {
      config: write,
      schema: { tags, summary: 'Edit encryption password (hint and tag)', params: IdParams, body: EncryptionPasswordEdit, response: { 200: EncryptionPasswordModel } },
    },
    async (request) => encryptionPasswordModel(await service.edit(request.params.id, request.body)),
  );

  typed.delete(`${prefix}/:id`, { config: write, schema: { tags, summary: 'Remove encryption password', params: IdParams } }, async (request, reply) => {
    await service.remove(request.params.id);
    return reply.code(204).send();
  });

  typed.post(
    `${prefix}/:id/changepassword`,
    { config: write, schema: { tags, summary: 'Change encryption password (1.2)', params: IdParams, body: EncryptionPasswordChangeSpec, response: { 200: EmptySuccessSchema } } },
    async (request) => {
      const body = request.body;
      await service.changePassword(request.params.id, body.password, body.hint);
      return {};
    },
  );
}
