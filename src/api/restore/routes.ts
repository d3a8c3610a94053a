import type { FastifyInstance, FastifyRequest } from 'fastify';
import { typedRequests } from '../../http/typed-requests.js';
import { notFound } from '../../http/errors.js';
import { isRevisionAtLeast } from '../../http/api-version.js';
import { SessionModel } from '../sessions/schemas.js';
import { sessionModel } from '../sessions/service.js';
import { readEntireVmRestoreSpec } from './entire-vm-spec.js';
import { EntireVmRestoreSpec, InstantVmRecoverySpec, MountIdParams, MountsQuery, PublishedExportModel, PublishSpec, QuickMigrationSpec } from './schemas.js';
import { IdParams } from '../../http/schemas.js';
import type { RestoreService } from './service.js';
import { instantVmRecoveryMountModel, isMountState, MOUNT_STATES, type InstantRecoveryService } from './instant-recovery.js';
import { readInstantVmRecoverySpec, readQuickMigrationSpec } from './instant-recovery-spec.js';
import { badRequest } from '../../http/errors.js';
import { pagination } from '../../http/paging.js';
import { fcdRecoveryRoutes } from './fcd-routes.js';

const operate = { apiFamily: 'vbr', access: 'Operator' } as const;
const read = { apiFamily: 'vbr', access: 'Viewer' } as const;
const tags = ['Restore'];

/**
 * /api/v1/restore/…: 1.0–1.1 clients address VMware restores under `vmware`,
 * 1.2 and later under `vSphere` (Veeam renamed the platform). Each revision
 * sees only its own path; the other answers 404, as Veeam does.
 */
export function restoreRoutes(app: FastifyInstance, deps: { restore: RestoreService; instantRecovery: InstantRecoveryService }): void {
  const typed = typedRequests(app);
  const user = (request: { principal?: { userName: string } }) => request.principal!.userName;

  // Rampart's own (no Veeam document has it): a read-only NBD export of a restore point's disks for qemu-img or nbdcopy, time-limited.
  typed.post(
    '/api/v1/rampart/restorePoints/:id/nbdExport',
    { config: operate, schema: { tags, summary: 'Publish Restore Point as NBD Export', params: IdParams, body: PublishSpec, response: { 201: PublishedExportModel } } },
    async (request, reply) => {
      const id = request.params.id;
      const ttlMinutes = request.body?.ttlMinutes ?? 60;
      const published = await deps.instantRecovery.publish(id, ttlMinutes * 60_000);
      return reply.code(201).send({ restorePointId: id, expirationTime: published.expiresAt.toISOString(), disks: published.disks });
    },
  );

  for (const [platform, renamed] of [
    ['vmware', false],
    ['vSphere', true],
  ] as const) {
    const served = (request: FastifyRequest) => {
      if (isRevisionAtLeast(request.apiRevision, '1.2-rev0') !== renamed)
        throw notFound(
          `No resource at ${request.method} ${request.url.split('?')[0]}: revision ${request.apiRevision} addresses VMware restores under /api/v1/restore/…/${renamed ? 'vmware' : 'vSphere'}.`,
        );
    };

    typed.post(
      `/api/v1/restore/vmRestore/${platform}`,
      { config: operate, schema: { tags, summary: 'Start Entire VM Restore', body: EntireVmRestoreSpec, response: { 201: SessionModel } } },
      async (request, reply) => {
        served(request);
        // The body passed EntireVmRestoreSpec's schema; the reader checks each part and names the field that is wrong.
        const spec = readEntireVmRestoreSpec(request.body, request.apiRevision);
        const session = await deps.restore.startEntireVmRestore(spec, renamed ? 'restorePointId' : 'objectRestorePointId', user(request));
        return reply.code(201).send(sessionModel(session, request.apiRevision));
      },
    );
    fcdRecoveryRoutes(app, deps, platform, served);
    const ir = `/api/v1/restore/instantRecovery/${platform}/vm`;
    const irTags = ['Restore'];
    const mountId = (request: { params: { mountId: string } }) => request.params.mountId;

    typed.get(ir, { config: read, schema: { tags: irTags, summary: 'Get All Instant Recovery Mounts', querystring: MountsQuery } }, async (request) => {
      served(request);
      const q = request.query;
      if (q.stateFilter !== undefined && !isMountState(q.stateFilter)) throw badRequest(`Invalid query parameter "stateFilter": expected one of ${MOUNT_STATES.join(', ')}.`);
      const page = {
        skip: q.skip ?? 0,
        limit: q.limit ?? 200,
        orderAsc: q.orderAsc ?? true,
        orderColumn: q.orderColumn,
        nameFilter: q.vmNameFilter ?? q.nameFilter,
        state: q.stateFilter,
      };
      const { rows, total } = await deps.instantRecovery.list(page);
      return { data: rows.map((r) => instantVmRecoveryMountModel(r, request.apiRevision)), pagination: pagination(total, rows.length, page) };
    });

    typed.post(
      ir,
      { config: operate, schema: { tags: irTags, summary: 'Start Instant Recovery', body: InstantVmRecoverySpec, response: { 201: SessionModel } } },
      async (request, reply) => {
        served(request);
        const spec = readInstantVmRecoverySpec(request.body, request.apiRevision);
        const { session } = await deps.instantRecovery.mount(spec, request.body, renamed ? 'restorePointId' : 'objectRestorePointId', user(request));
        return reply.code(201).send(sessionModel(session, request.apiRevision));
      },
    );

    typed.get(`${ir}/:mountId`, { config: read, schema: { tags: irTags, summary: 'Get Instant Recovery Mount', params: MountIdParams } }, async (request) => {
      served(request);
      return instantVmRecoveryMountModel(await deps.instantRecovery.get(mountId(request)), request.apiRevision);
    });

    typed.post(
      `${ir}/:mountId/unmount`,
      { config: operate, schema: { tags: irTags, summary: 'Stop Instant Recovery', params: MountIdParams, response: { 200: SessionModel } } },
      async (request) => {
        served(request);
        return sessionModel(await deps.instantRecovery.unmount(mountId(request), user(request)), request.apiRevision);
      },
    );

    typed.post(
      `${ir}/:mountId/migrate`,
      { config: operate, schema: { tags: irTags, summary: 'Start Quick Migration', params: MountIdParams, body: QuickMigrationSpec, response: { 200: SessionModel } } },
      async (request) => {
        served(request);
        const target = readQuickMigrationSpec(request.body);
        return sessionModel(await deps.instantRecovery.migrate(mountId(request), target, user(request)), request.apiRevision);
      },
    );
  }
}
