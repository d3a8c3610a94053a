import type { FastifyInstance } from 'fastify';
import { EXTRAS_HEADER, shapeModel, statusFor, type ReplyShape } from './shapes.js';

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
  app.addHook('onRoute', (route) => {
    const response = (route.schema as { response?: Record<string, unknown> } | undefined)?.response;
    if (route.config?.apiFamily !== 'vbr' || !response) return;
    route.schema = { ...route.schema, response: Object.fromEntries(Object.entries(response).map(([status, schema]) => [status, withoutNullable(schema)])) };
  });
  app.addHook('preSerialization', async (request, reply, payload) => {
    const config = request.routeOptions.config;
    if (config?.apiFamily !== 'vbr' || typeof payload !== 'object' || payload === null) return payload;
    const shape = config.reply;
    if (shape?.status && reply.statusCode < 300) reply.code(statusFor(shape, request.apiRevision, reply.statusCode));
    return shapeModel(reply.statusCode < 300 ? shape?.body : undefined, request.apiRevision, payload, request.headers[EXTRAS_HEADER] === 'true');
  });
}

type SchemaNode = Record<string, unknown>;
const isNode = (v: unknown): v is SchemaNode => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNullSchema = (v: unknown) => isNode(v) && v.type === 'null';
const mayBeNull = (v: unknown) => isNode(v) && (isNullSchema(v) || (Array.isArray(v.type) && v.type.includes('null')) || (Array.isArray(v.anyOf) && v.anyOf.some(isNullSchema)));

/**
 * A reply schema as the wire sees it after `withoutNulls`: a property that may be null is
 * an optional property that is never null. (A copy: section schemas are shared with
 * request bodies, where clients may well send null.)
 */
export function withoutNullable(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutNullable);
  if (!isNode(schema)) return schema;
  const out: SchemaNode = {};
  for (const [key, value] of Object.entries(schema)) out[key] = key === 'properties' || key === 'enum' || key === 'examples' ? value : withoutNullable(value);
  if (Array.isArray(out.anyOf) && out.anyOf.some(isNullSchema)) {
    const rest = out.anyOf.filter((branch) => !isNullSchema(branch));
    delete out.anyOf;
    if (rest.length === 1 && isNode(rest[0])) Object.assign(out, rest[0]);
    else out.anyOf = rest;
  }
  if (Array.isArray(out.type) && out.type.includes('null')) {
    const types = out.type.filter((t) => t !== 'null');
    out.type = types.length === 1 ? types[0] : types;
    if (Array.isArray(out.enum)) out.enum = out.enum.filter((v) => v !== null);
  }
  if (isNode(schema.properties)) {
    const properties: SchemaNode = {};
    const nullable = new Set<string>();
    for (const [name, property] of Object.entries(schema.properties)) {
      if (mayBeNull(property)) nullable.add(name);
      properties[name] = withoutNullable(property);
    }
    out.properties = properties;
    if (Array.isArray(schema.required)) out.required = schema.required.filter((name) => !nullable.has(String(name)));
  }
  return out;
}
