import type { FastifyInstance, FastifyTypeProvider } from 'fastify';
import type { Static, TSchema } from 'typebox';

/**
 * Types a handler's request parts (params, querystring, body, headers) from the route's
 * TypeBox schemas, which Fastify has already validated, so handlers read them without casts.
 *
 * Reply bodies are deliberately left untyped here: handlers return the revision-neutral
 * model and src/revisions/reply-hook.ts reshapes it for the revision the client asked for,
 * so a route's response schema (the document it is published under) is not the handler's
 * return type. The test suite checks every reply against Veeam's document of that revision
 * instead (test/support/conformance.ts).
 */
export interface RequestSchemaTypes extends FastifyTypeProvider {
  validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
  serializer: unknown;
}

export function typedRequests(app: FastifyInstance) {
  return app.withTypeProvider<RequestSchemaTypes>();
}
