import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound } from '../../http/errors.js';
import { isRevisionAtLeast } from '../../http/api-version.js';
import { SessionModel } from '../sessions/schemas.js';
import { sessionModel } from '../sessions/service.js';
import { readEntireVmRestoreSpec } from './entire-vm-spec.js';
import { EntireVmRestoreSpec } from './schemas.js';
import type { RestoreService } from './service.js';

const operate = { apiFamily: 'vbr', access: 'Operator' } as const;
const tags = ['Restore'];

/**
 * /api/v1/restore/…: 1.0–1.1 clients address VMware restores under `vmware`,
 * 1.2 and later under `vSphere` (Veeam renamed the platform). Each revision
 * sees only its own path; the other answers 404, as Veeam does.
 */
export function restoreRoutes(app: FastifyInstance, deps: { restore: RestoreService }): void {
  const user = (request: { principal?: { userName: string } }) => request.principal!.userName;

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

    app.post(
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
  }
}
