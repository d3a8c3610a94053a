import type { FastifyInstance } from 'fastify';
import { SessionModel } from '../sessions/schemas.js';
import { sessionModel } from '../sessions/service.js';
import { VaultStatusModel } from './schemas.js';
import type { VaultService } from './service.js';

const tags = ['Vault'];
const admin = { apiFamily: 'vbr', access: 'Administrator' } as const;

/**
 * Rampart's own vault calls (not part of Veeam's API): the state of the master
 * keys, and the master key rotation, run as a session like Veeam's long calls.
 */
export function vaultRoutes(app: FastifyInstance, deps: { vault: VaultService }): void {
  app.get('/api/v1/vault', { config: admin, schema: { tags, summary: 'Get vault status', response: { 200: VaultStatusModel } } }, async () => deps.vault.status());

  app.post(
    '/api/v1/vault/rotateMasterKey',
    { config: admin, schema: { tags, summary: 'Rotate the master key (re-seal every secret)', response: { 201: SessionModel } } },
    async (request, reply) => {
      const session = await deps.vault.startRotation(request.principal!.userName);
      return reply.code(201).send(sessionModel(session, request.apiRevision));
    },
  );
}
