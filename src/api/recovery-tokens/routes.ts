import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { dateFilter, pageRequestFrom, pagination, DEFAULT_LIMIT } from '../../http/paging.js';
import { IdParams } from '../../http/schemas.js';
import { formatInstant } from '../../http/dates.js';
import { allStatuses } from '../../revisions/shapes.js';
import { CREATE_RECOVERY_TOKEN } from '../../revisions/replies/agents-and-appliances.js';
import { PublishedExportModel, PublishSpec } from '../restore/schemas.js';
import {
  RECOVERY_TOKEN_ORDER_COLUMNS,
  RecoveryTokenEdit,
  RecoveryTokenModel,
  RecoveryTokenSpec,
  RecoveryTokensQuery,
  RecoveryTokensResult,
  TokenRestorePointsResult,
} from './schemas.js';
import { recoveryTokenModel, type RecoveryTokensService } from './service.js';

const tags = ['Agents'];
const read = { apiFamily: 'vbr', access: 'Viewer' } as const;
const write = { apiFamily: 'vbr', access: 'Administrator' } as const;
/** The token is the credential: no access token is asked for, the handler checks the recovery token. */
const tokenHolder = { apiFamily: 'vbr', access: 'public' } as const;

/** `Authorization: RecoveryToken <token>`; a Bearer access token is not a recovery token. */
function recoveryTokenOf(request: FastifyRequest): string | undefined {
  return /^RecoveryToken\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
}

/**
 * /api/v1/agents/recoveryTokens (Veeam's) and the two routes a token holder uses
 * (Rampart's own, under /api/v1/rampart/recovery): list the restore points the token
 * opens, and publish one of them as a read-only NBD export.
 */
export function recoveryTokensRoutes(app: FastifyInstance, deps: { recoveryTokens: RecoveryTokensService }): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const prefix = '/api/v1/agents/recoveryTokens';
  const service = deps.recoveryTokens;

  typed.get(
    prefix,
    { config: read, schema: { tags, summary: 'Get All Recovery Tokens', querystring: RecoveryTokensQuery, response: { 200: RecoveryTokensResult } } },
    async (request) => {
      const q = request.query;
      const page = pageRequestFrom(q, RECOVERY_TOKEN_ORDER_COLUMNS, { column: 'name_key', asc: true });
      const { rows, total } = await service.list(page, {
        expiresBefore: dateFilter('expirationDateBefore', q.expirationDateBefore),
        expiresAfter: dateFilter('expirationDateAfter', q.expirationDateAfter),
      });
      return { data: rows.map((row) => recoveryTokenModel(row)), pagination: pagination(total, rows.length, page) };
    },
  );

  typed.post(
    prefix,
    {
      config: { ...write, reply: CREATE_RECOVERY_TOKEN },
      schema: {
        tags,
        summary: 'Create Recovery Token (the token is in this reply only)',
        body: RecoveryTokenSpec,
        response: Object.fromEntries(allStatuses(CREATE_RECOVERY_TOKEN, 200).map((status) => [status, RecoveryTokenModel])),
      },
    },
    async (request) => {
      const { row, token } = await service.create(request.body);
      return recoveryTokenModel(row, token);
    },
  );

  typed.get(`${prefix}/:id`, { config: read, schema: { tags, summary: 'Get Recovery Token', params: IdParams, response: { 200: RecoveryTokenModel } } }, async (request) =>
    recoveryTokenModel(await service.get(request.params.id)),
  );

  typed.put(
    `${prefix}/:id`,
    { config: write, schema: { tags, summary: 'Edit Recovery Token (name, expiration date)', params: IdParams, body: RecoveryTokenEdit, response: { 200: RecoveryTokenModel } } },
    async (request) => recoveryTokenModel(await service.edit(request.params.id, request.body)),
  );

  typed.delete(`${prefix}/:id`, { config: write, schema: { tags, summary: 'Delete Recovery Token', params: IdParams } }, async (request, reply) => {
    await service.remove(request.params.id);
    return reply.code(204).send();
  });

  typed.get(
    '/api/v1/rampart/recovery/restorePoints',
    {
      config: tokenHolder,
      schema: {
        tags,
        summary: 'Restore points a recovery token opens (Authorization: RecoveryToken <token>)',
        querystring: Type.Object({ skip: Type.Optional(Type.Integer({ minimum: 0 })), limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })) }),
        response: { 200: TokenRestorePointsResult },
      },
    },
    async (request) => {
      const row = await service.authorize(recoveryTokenOf(request));
      const q = request.query;
      const page = { skip: q.skip ?? 0, limit: q.limit ?? DEFAULT_LIMIT, orderBy: 'creation_time', orderAsc: false };
      const { rows, total } = await service.restorePoints(row, page);
      return {
        data: rows.map((p) => ({ id: p.id, backupId: p.backup_id, name: p.name, creationTime: formatInstant(p.creation_time)!, type: p.type })),
        pagination: pagination(total, rows.length, page),
      };
    },
  );

  typed.post(
    '/api/v1/rampart/recovery/restorePoints/:id/nbdExport',
    {
      config: tokenHolder,
      schema: {
        tags,
        summary: 'Publish a restore point the recovery token opens as a read-only NBD export (Authorization: RecoveryToken <token>)',
        params: IdParams,
        body: PublishSpec,
        response: { 201: PublishedExportModel },
      },
    },
    async (request, reply) => {
      const row = await service.authorize(recoveryTokenOf(request));
      const ttlMinutes = request.body?.ttlMinutes ?? 60;
      const opened = await service.openExport(row, request.params.id, ttlMinutes * 60_000);
      return reply.code(201).send({ restorePointId: opened.restorePointId, expirationTime: formatInstant(opened.expiresAt)!, disks: opened.disks });
    },
  );
}
