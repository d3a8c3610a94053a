import type { FastifyInstance } from 'fastify';
import { VBR_REVISIONS } from '../http/api-version.js';
import { DOCUMENT_OF, type VeeamDocument } from './documents.js';
import { allStatuses, nearest, type ModelShape, type ReplyShape, type ShapeByDocument } from './shapes.js';

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Where each accepted revision's OpenAPI document is served. */
export const openApiPath = (revision: string) => `/swagger/v${revision}/swagger.json`;

/** A schema with the properties named left out wherever they occur in it (`omitAtAnyDepth`). */
function withoutPropertiesAtAnyDepth(schema: unknown, names: readonly string[]): unknown {
  if (Array.isArray(schema)) return schema.map((s) => withoutPropertiesAtAnyDepth(s, names));
  if (!isNode(schema)) return schema;
  const out: Node = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && isNode(value)) {
      out.properties = Object.fromEntries(Object.entries(value).flatMap(([name, p]) => (names.includes(name) ? [] : [[name, withoutPropertiesAtAnyDepth(p, names)]])));
    } else if (key === 'required' && Array.isArray(value)) out.required = value.filter((r) => !names.includes(r as string));
    else out[key] = key === 'enum' || key === 'examples' ? value : withoutPropertiesAtAnyDepth(value, names);
  }
  return out;
}

/** Enum values spelt per property name wherever it occurs in the schema (`spellAtAnyDepth`). */
function spelledEnumsAtAnyDepth(schema: unknown, spellings: Readonly<Record<string, Readonly<Record<string, string>>>>, spelling?: Readonly<Record<string, string>>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => spelledEnumsAtAnyDepth(s, spellings, spelling));
  if (!isNode(schema)) return schema;
  const out: Node = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'enum' && Array.isArray(value) && spelling) out.enum = [...new Set(value.map((v) => (typeof v === 'string' ? (spelling[v] ?? v) : v)))];
    else if (key === 'properties' && isNode(value))
      out.properties = Object.fromEntries(Object.entries(value).map(([name, p]) => [name, spelledEnumsAtAnyDepth(p, spellings, spellings[name])]));
    else if (key === 'items') out.items = spelledEnumsAtAnyDepth(value, spellings, spelling);
    else out[key] = key === 'examples' ? value : spelledEnumsAtAnyDepth(value, spellings);
  }
  return out;
}

/** The same shape data the replies go through, applied to a reply's schema instead of its value. */
function shapeSchema(schema: unknown, shape: ModelShape | undefined, document: VeeamDocument): unknown {
  if (!isNode(schema) || !shape) return schema;
  if (schema.type === 'array' && isNode(schema.items)) return { ...schema, items: shapeSchema(schema.items, shape, document) };
  if (!isNode(schema.properties)) return schema;
  if (shape.omitAtAnyDepth) schema = withoutPropertiesAtAnyDepth(schema, shape.omitAtAnyDepth) as Node;
  if (shape.spellAtAnyDepth) schema = spelledEnumsAtAnyDepth(schema, shape.spellAtAnyDepth) as Node;
  const source = schema as Node & { properties: Node };
  const properties: Node = {};
  for (const [name, property] of Object.entries(source.properties)) {
    // The per-revision documents describe what a generated client gets: no Rampart extras.
    if (shape.omit?.includes(name) || shape.extras?.includes(name)) continue;
    const nested = shape.fields?.[name];
    let shaped = nested ? shapeSchema(property, nearest(nested, document), document) : property;
    const spelling = shape.spell?.[name];
    if (spelling && isNode(shaped) && Array.isArray(shaped.enum))
      shaped = { ...shaped, enum: [...new Set(shaped.enum.map((v) => (typeof v === 'string' ? (spelling[v] ?? v) : v)))] };
    const plucked = shape.pluck?.[name];
    if (plucked && isNode(shaped) && isNode(shaped.items) && isNode(shaped.items.properties)) shaped = { ...shaped, items: shaped.items.properties[plucked] ?? {} };
    if (shape.asArray?.includes(name)) shaped = { type: 'array', items: shaped };
    const nesting = shape.nest?.[name];
    if (nesting)
      shaped = {
        type: 'object',
        required: [nesting.discriminator],
        properties: { [nesting.discriminator]: { type: typeof nesting.value, enum: [nesting.value] }, [nesting.key]: shaped },
      };
    properties[shape.rename?.[name] ?? name] = shaped;
  }
  const required = Array.isArray(source.required) ? source.required.filter((r) => r in properties || (typeof r === 'string' && shape.rename?.[r] !== undefined)) : undefined;
  return { ...source, properties, ...(required ? { required: required.map((r) => (typeof r === 'string' ? (shape.rename?.[r] ?? r) : r)) } : {}) };
}

/** An operation's responses as one document shows them: shaped bodies, and only the status it lists. */
function shapeResponses(responses: Node, reply: ReplyShape, document: VeeamDocument): Node {
  const body: ShapeByDocument | undefined = reply.body;
  const served = nearest(reply.status, document);
  const out: Node = {};
  for (const [status, response] of Object.entries(responses)) {
    const code = Number(status);
    if (served !== undefined && code < 300 && code !== served && allStatuses(reply, served).includes(code)) continue;
    if (!isNode(response) || code >= 300 || !isNode(response.content)) {
      out[status] = response;
      continue;
    }
    const content: Node = {};
    for (const [type, media] of Object.entries(response.content)) {
      content[type] = isNode(media) ? { ...media, schema: shapeSchema(media.schema, nearest(body, document), document) } : media;
    }
    out[status] = { ...response, content };
  }
  return out;
}

/**
 * Serves `/swagger/v{revision}/swagger.json` for every accepted revision: the generated
 * document with each operation's replies in the shape served under that revision.
 */
export function serveRevisionDocuments(app: FastifyInstance): void {
  const replies = new Map<string, ReplyShape>();
  app.addHook('onRoute', (route) => {
    const reply = route.config?.reply;
    if (!reply) return;
    for (const method of [route.method].flat()) replies.set(`${method.toLowerCase()} ${route.url.replace(/:(\w+)/g, '{$1}')}`, reply);
  });
  const cache = new Map<string, Node>();
  for (const revision of VBR_REVISIONS) {
    const document = DOCUMENT_OF[revision];
    app.get(openApiPath(revision), { schema: { hide: true } }, async () => {
      const cached = cache.get(revision);
      if (cached) return cached;
      const base = app.swagger() as unknown as Node & { paths?: Record<string, Record<string, Node>> };
      const paths: Record<string, Node> = {};
      for (const [path, operations] of Object.entries(base.paths ?? {})) {
        const shaped: Node = {};
        for (const [method, operation] of Object.entries(operations)) {
          const reply = replies.get(`${method} ${path}`);
          shaped[method] = reply && isNode(operation.responses) ? { ...operation, responses: shapeResponses(operation.responses, reply, document) } : operation;
        }
        paths[path] = shaped;
      }
      const info = isNode(base.info) ? base.info : {};
      const built = {
        ...base,
        info: { ...info, version: revision, description: `${String(info.description ?? '')} Replies under x-api-version ${revision} follow Veeam's ${document} document.` },
        paths,
      };
      cache.set(revision, built);
      return built;
    });
  }
}
