import type { FastifyInstance } from 'fastify';
import { typedRequests } from '../../http/typed-requests.js';
import { BatchProbeResult, BatchProbeSpec, ConnectionCertificateModel, HostConnectionSpec } from './schemas.js';
import type { ConnectionService } from './service.js';

const tags = ['Connection'];
// Probing makes this server open connections to any host and port: Administrators only.
const admin = { apiFamily: 'vbr', access: 'Administrator' } as const;

/** /api/v1/connectionCertificate: what a host presents (TLS certificate or SSH host key), before it is trusted. */
export function connectionRoutes(app: FastifyInstance, deps: { connection: ConnectionService }): void {
  const typed = typedRequests(app);
  typed.post(
    '/api/v1/connectionCertificate',
    { config: admin, schema: { tags, summary: 'Request TLS certificate or SSH fingerprint', body: HostConnectionSpec, response: { 201: ConnectionCertificateModel } } },
    async (request, reply) => reply.code(201).send(await deps.connection.connectionCertificate(request.body, request.apiRevision)),
  );

  typed.post(
    '/api/v1/connectionCertificate/batch',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Probe many hosts at once (Rampart extension)',
        description:
          'Each target is probed like connectionCertificate (no credentials needed), at most `concurrency` at a time, all within `deadlineMs`; every target gets its result or its error, in the order given.',
        body: BatchProbeSpec,
        response: { 200: BatchProbeResult },
      },
    },
    async (request) => {
      const body = request.body;
      return deps.connection.batch(body.targets, body, request.apiRevision);
    },
  );
}
