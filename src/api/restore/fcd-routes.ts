import type { FastifyInstance, FastifyRequest } from 'fastify';
import { typedRequests } from '../../http/typed-requests.js';
import { badRequest } from '../../http/errors.js';
import { pagination } from '../../http/paging.js';
import { SessionModel } from '../sessions/schemas.js';
import { sessionModel } from '../sessions/service.js';
import { FcdRecoveryService, fcdRecoveryMountModel } from './fcd-recovery.js';
import { readFcdMigrationSpec, readFcdRecoverySpec } from './fcd-spec.js';
import { isMountState, MOUNT_STATES, type InstantRecoveryService } from './instant-recovery.js';
import { FcdMigrationSpec, FcdRecoverySpec, MountIdParams, MountsQuery } from './schemas.js';

const operate = { apiFamily: 'vbr', access: 'Operator' } as const;
const read = { apiFamily: 'vbr', access: 'Viewer' } as const;
const tags = ['Restore'];

/** /api/v1/restore/instantRecovery/{vmware|vSphere}/fcd: instant recovery of first-class disks (docs/restore.md §3). */
export function fcdRecoveryRoutes(
  app: FastifyInstance,
  deps: { instantRecovery: InstantRecoveryService },
  platform: 'vmware' | 'vSphere',
  served: (request: FastifyRequest) => void,
): void {
  const typed = typedRequests(app);
  const fcd = new FcdRecoveryService(deps.instantRecovery);
  const base = `/api/v1/restore/instantRecovery/${platform}/fcd`;
  const user = (request: { principal?: { userName: string } }) => request.principal!.userName;
  const mountId = (request: { params: { mountId: string } }) => request.params.mountId;

  typed.get(base, { config: read, schema: { tags, summary: 'Get All FCD Instant Recovery Mounts', querystring: MountsQuery } }, async (request) => {
    served(request);
    const q = request.query;
    if (q.stateFilter !== undefined && !isMountState(q.stateFilter)) throw badRequest(`Invalid query parameter "stateFilter": expected one of ${MOUNT_STATES.join(', ')}.`);
    const page = { skip: q.skip ?? 0, limit: q.limit ?? 200, orderAsc: q.orderAsc ?? true, orderColumn: q.orderColumn, nameFilter: q.nameFilter, state: q.stateFilter };
    const { rows, total } = await fcd.list(page);
    return { data: rows.map((r) => fcdRecoveryMountModel(r, request.apiRevision)), pagination: pagination(total, rows.length, page) };
  });

  typed.post(base, { config: operate, schema: { tags, summary: 'Start Instant FCD Recovery', body: FcdRecoverySpec, response: { 201: SessionModel } } }, async (request, reply) => {
    served(request);
    const spec = readFcdRecoverySpec(request.body, request.apiRevision);
    const session = await fcd.mount(spec, request.body, platform === 'vSphere' ? 'restorePointId' : 'objectRestorePointId', user(request));
    return reply.code(201).send(sessionModel(session, request.apiRevision));
  });

  typed.get(`${base}/:mountId`, { config: read, schema: { tags, summary: 'Get FCD Instant Recovery Mount', params: MountIdParams } }, async (request) => {
    served(request);
    return fcdRecoveryMountModel(await fcd.get(mountId(request)), request.apiRevision);
  });

  typed.post(
    `${base}/:mountId/dismount`,
    { config: operate, schema: { tags, summary: 'Stop Instant FCD Recovery', params: MountIdParams, response: { 200: SessionModel } } },
    async (request) => {
      served(request);
      return sessionModel(await fcd.dismount(mountId(request), user(request)), request.apiRevision);
    },
  );

  typed.post(
    `${base}/:mountId/migrate`,
    { config: operate, schema: { tags, summary: 'Start FCD Quick Migration', params: MountIdParams, body: FcdMigrationSpec, response: { 200: SessionModel } } },
    async (request) => {
      served(request);
      return sessionModel(await fcd.migrate(mountId(request), readFcdMigrationSpec(request.body), user(request)), request.apiRevision);
    },
  );
}
