import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/database.js';
import type { ServingCertificate } from '../../certificates/serving-certificate.js';
import { CertificateModel, ServerInfoModel, ServerTimeModel } from './schemas.js';
import { certificateModel, serverInfo, serverTime } from './service.js';
import { CERTIFICATE, SERVER_INFO } from '../../revisions/replies/service.js';

export interface ServiceDeps {
  store: Store;
  certificate: ServingCertificate;
  installationId: string;
  expiryWarningDays: number;
}

export function serviceRoutes(app: FastifyInstance, deps: ServiceDeps): void {
  app.get(
    '/api/v1/serverTime',
    { config: { apiFamily: 'vbr', access: 'public' }, schema: { tags: ['Service'], summary: 'Get server time', response: { 200: ServerTimeModel } } },
    async () => serverTime(),
  );

  app.get(
    '/api/v1/serverCertificate',
    {
      config: { apiFamily: 'vbr', access: 'public', reply: { body: CERTIFICATE } },
      schema: { tags: ['Service'], summary: 'Get the certificate the server is serving now', response: { 200: CertificateModel } },
    },
    async () => certificateModel(deps.certificate.current.description),
  );

  app.get(
    '/api/v1/serverInfo',
    {
      config: { apiFamily: 'vbr', access: 'Viewer', reply: { body: SERVER_INFO } },
      schema: { tags: ['Service'], summary: 'Get backup server information', response: { 200: ServerInfoModel } },
    },
    async (request) => {
      const validBy = deps.certificate.current.description.validBy;
      const expiresSoon = validBy.getTime() - Date.now() < deps.expiryWarningDays * 86_400_000;
      return serverInfo(deps.store, deps.installationId, request.apiRevision, { validBy, expiresSoon });
    },
  );
}
