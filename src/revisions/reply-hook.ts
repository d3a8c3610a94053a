import type { FastifyInstance } from 'fastify';
import { shapeModel, statusFor, type ReplyShape } from './shapes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How the route's reply differs per Veeam document (see docs/revisions.md). */
    reply?: ReplyShape;
  }
}

/**
 * Every Backup & Replication reply leaves the server in the shape of the document its
 * revision follows: nulls left out, the route's declared renames, omissions, enum
 * spellings and status code applied. Runs before serialization, so the response schema
 * sees the shaped body. Bodies a route sends already serialized (the cached session
 * pages) are shaped by their section with the same data.
 */
export function installReplyShapes(app: FastifyInstance): void {
  app.addHook('preSerialization', async (request, reply, payload) => {
    const config = request.routeOptions.config;
    if (config?.apiFamily !== 'vbr' || typeof payload !== 'object' || payload === null) return payload;
    const shape = config.reply;
    if (shape?.status && reply.statusCode < 300) reply.code(statusFor(shape, request.apiRevision, reply.statusCode));
    return shapeModel(reply.statusCode < 300 ? shape?.body : undefined, request.apiRevision, payload);
  });
}
