import type { FastifyInstance } from 'fastify';

/**
 * Once the answer is decided before the body was read (401 before the body, 413,
 * a refused content type), the rest of the body is not waited for: the reply says
 * `Connection: close` and Node closes the connection after sending it, instead of
 * reading a trickled body to its end to keep the connection alive.
 */
export function installUnreadBodyClose(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply) => {
    if (!request.raw.complete) reply.header('connection', 'close');
  });
}
