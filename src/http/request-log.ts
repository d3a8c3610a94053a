import type { FastifyInstance } from 'fastify';

/**
 * One line per request: method, route, status, duration, user. The query string is
 * left out and no header or body is logged, so no token or secret reaches the log.
 */
export function installRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? null,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
        user: request.principal?.userName ?? null,
      },
      'request',
    );
  });
}
