import type { FastifyInstance } from 'fastify';
import { typedRequests } from '../../http/typed-requests.js';
import { enumFilter, pageRequestFrom, pagination } from '../../http/paging.js';
import { IdParams } from '../../http/schemas.js';
import { formatInstant } from '../../http/dates.js';
import type {} from '../../azure/endpoints.js';
import {
  CLOUD_CREDENTIALS_ORDER_COLUMNS,
  CLOUD_CREDENTIALS_TYPES,
  CertificateUploadSpec,
  CloudCredentialsEdit,
  CloudCredentialsModel,
  CloudCredentialsQuery,
  CloudCredentialsResult,
  CloudCredentialsSpec,
  DeviceCodeModel,
  DeviceCodeSpec,
  NativeApplicationModel,
  SecretKeyChangeSpec,
  VerificationCodeParams,
} from './schemas.js';
import { cloudCredentialsModel, type CloudCredentialsService } from './service.js';
import { CHANGE_CERTIFICATE, CHANGE_SECRET_KEY, CLOUD_CREDENTIALS } from '../../revisions/replies/cloud-credentials.js';
import { allStatuses, modelOrList, type ReplyShape } from '../../revisions/shapes.js';

const tags = ['Credentials'];

/** The model under every status a document lists for the route (201, 200; 204 sends no body). */
function eachStatus(shape: ReplyShape, model: typeof CloudCredentialsModel) {
  return Object.fromEntries(allStatuses(shape, 201).map((status) => [status, model]));
}
const read = { apiFamily: 'vbr', access: 'Viewer', reply: { body: modelOrList(CLOUD_CREDENTIALS) } } as const;
const write = { apiFamily: 'vbr', access: 'Administrator', reply: { body: modelOrList(CLOUD_CREDENTIALS) } } as const;

/** /api/v1/cloudCredentials: Amazon, Google, Azure storage and Azure compute accounts. */
export function cloudCredentialsRoutes(app: FastifyInstance, deps: { cloudCredentials: CloudCredentialsService }): void {
  const typed = typedRequests(app);
  const prefix = '/api/v1/cloudCredentials';
  const service = deps.cloudCredentials;

  typed.get(
    prefix,
    { config: read, schema: { tags, summary: 'Get all cloud credentials', querystring: CloudCredentialsQuery, response: { 200: CloudCredentialsResult } } },
    async (request) => {
      const q = request.query;
      const page = pageRequestFrom(q, CLOUD_CREDENTIALS_ORDER_COLUMNS, { column: 'name_key', asc: true });
      const { rows, total } = await service.list(page, enumFilter('typeFilter', q.typeFilter, CLOUD_CREDENTIALS_TYPES));
      return { data: rows.map(cloudCredentialsModel), pagination: pagination(total, rows.length, page) };
    },
  );

  typed.post(
    prefix,
    { config: write, schema: { tags, summary: 'Add cloud credentials record', body: CloudCredentialsSpec, response: { 201: CloudCredentialsModel } } },
    async (request, reply) => reply.code(201).send(cloudCredentialsModel(await service.add(request.body))),
  );

  // Registered before /:id so the static segment wins; find-my-way prefers it anyway.
  typed.post(
    `${prefix}/appRegistration`,
    { config: write, schema: { tags, summary: 'Get verification code', body: DeviceCodeSpec, response: { 201: DeviceCodeModel } } },
    async (request, reply) => {
      const grant = await service.requestDeviceCode(request.body.region);
      return reply.code(201).send({ type: 'AzureCompute', url: grant.url, verificationCode: grant.verificationCode, expirationTime: formatInstant(grant.expiresAt)! });
    },
  );

  typed.post(
    `${prefix}/appRegistration/:verificationCode`,
    { config: write, schema: { tags, summary: 'Register Azure AD application', params: VerificationCodeParams, response: { 201: NativeApplicationModel } } },
    async (request, reply) => {
      const app = await service.registerApplication(request.params.verificationCode);
      return reply.code(201).send({ type: 'AzureCompute', applicationId: app.applicationId, secret: app.secret, tenantId: app.tenantId });
    },
  );

  typed.get(
    `${prefix}/:id`,
    { config: read, schema: { tags, summary: 'Get cloud credentials record', params: IdParams, response: { 200: CloudCredentialsModel } } },
    async (request) => cloudCredentialsModel(await service.get(request.params.id)),
  );

  typed.put(
    `${prefix}/:id`,
    { config: write, schema: { tags, summary: 'Edit cloud credentials record', params: IdParams, body: CloudCredentialsEdit, response: { 200: CloudCredentialsModel } } },
    async (request) => cloudCredentialsModel(await service.edit(request.params.id, request.body)),
  );

  typed.delete(`${prefix}/:id`, { config: write, schema: { tags, summary: 'Remove cloud credentials record', params: IdParams } }, async (request, reply) => {
    await service.remove(request.params.id);
    return reply.code(204).send();
  });

  typed.post(
    `${prefix}/:id/changeSecretKey`,
    {
      config: { ...write, reply: CHANGE_SECRET_KEY },
      schema: { tags, summary: 'Change secret key', params: IdParams, body: SecretKeyChangeSpec, response: eachStatus(CHANGE_SECRET_KEY, CloudCredentialsModel) },
    },
    async (request, reply) => {
      const row = await service.changeSecretKey(request.params.id, request.body.newSecretKey);
      return reply.code(201).send(cloudCredentialsModel(row));
    },
  );

  typed.post(
    `${prefix}/:id/changeCertificate`,
    {
      config: { ...write, reply: CHANGE_CERTIFICATE },
      schema: { tags, summary: 'Change certificate', params: IdParams, body: CertificateUploadSpec, response: eachStatus(CHANGE_CERTIFICATE, CloudCredentialsModel) },
    },
    async (request, reply) => {
      const row = await service.changeCertificate(request.params.id, request.body);
      return reply.code(201).send(cloudCredentialsModel(row));
    },
  );
}
