import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { TRAFFIC_RULES } from '../../revisions/replies/traffic-rules.js';
import { TrafficRulesModel, TrafficRulesSpec } from './schemas.js';
import type { TrafficRulesService } from './service.js';

const tags = ['Traffic Rules'];
// Veeam's documents make both operations Backup Administrator ones.
const config = { apiFamily: 'vbr', access: 'Administrator', reply: { body: TRAFFIC_RULES } } as const;

/** /api/v1/trafficRules: global network traffic rules, enforced by the data mover (mover/throttle.ts). */
export function trafficRulesRoutes(app: FastifyInstance, deps: { trafficRules: TrafficRulesService }): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const path = '/api/v1/trafficRules';

  typed.get(path, { config, schema: { tags, summary: 'Get Traffic Rules', response: { 200: TrafficRulesModel } } }, async () => deps.trafficRules.get());

  typed.put(path, { config, schema: { tags, summary: 'Edit Traffic Rules', body: TrafficRulesSpec, response: { 201: TrafficRulesModel } } }, async (request, reply) =>
    reply.code(201).send(await deps.trafficRules.update(request.body)),
  );
}
