import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { badRequest } from './errors.js';

/**
 * The rules every request's input meets before its schema is checked, in one place
 * so SQLite and PostgreSQL (and every section) see the same thing:
 *
 * 1. Text: no string (value or key) in the body, query or path holds a control
 *    character other than tab, line feed and carriage return, nor half of a UTF-16
 *    surrogate pair. No real name, description or password holds them; PostgreSQL
 *    cannot store NUL at all. → 400 naming the field.
 * 2. Types: JSON bodies keep their JSON types. The one coercion kept is a boolean
 *    sent as the string "true"/"false" (any case), which generated clients do.
 *    Query and path values are text by nature: numbers, booleans (any case) and
 *    repeated keys as arrays are read from it. Anything else (`true` for a list,
 *    `true` for a port, `"22"` for a number in a body, `null` where null is not
 *    documented) → 400 naming the field.
 * 3. Ranges: every integer a request carries fits what the database stores (a
 *    32-bit integer) unless its schema says otherwise, and every number is finite
 *    (`1e309` is Infinity) → 400 naming the field; the value itself is not echoed.
 */
export function installInputRules(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => boundRouteSchemas(route));
  app.addHook('preValidation', async (request) => {
    checkText(request.query, 'query');
    checkText(request.params, 'params');
    checkText(request.body, 'body');
    const schema = request.routeOptions.schema;
    if (schema?.body && request.body !== undefined && isJson(request)) request.body = coerceBody(schema.body as Schema, request.body, '');
    if (schema?.querystring && request.query && typeof request.query === 'object') coerceText(schema.querystring as Schema, request.query as Record<string, unknown>, 'query');
    if (schema?.params && request.params && typeof request.params === 'object') coerceText(schema.params as Schema, request.params as Record<string, unknown>, 'params');
  });
}

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  [key: string]: unknown;
};

const INT32 = { minimum: -2_147_483_648, maximum: 2_147_483_647 };
const FINITE = { minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER };

// C0 controls except tab, LF, CR; DEL; a lone high or low surrogate. Matching control characters is the point here.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const FLAG = /^(true|false)$/i;

const LABEL = { body: 'field', query: 'query parameter', params: 'path parameter' } as const;

function describeForbidden(text: string): string {
  const ch = FORBIDDEN_TEXT.exec(text)?.[0] ?? '';
  const code = ch.charCodeAt(0);
  return code >= 0xd800 && code <= 0xdfff ? 'half of a UTF-16 surrogate pair (not valid Unicode)' : `a control character (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
}

function checkText(value: unknown, part: keyof typeof LABEL, path = ''): void {
  if (typeof value === 'string') {
    if (FORBIDDEN_TEXT.test(value))
      throw badRequest(`Invalid ${LABEL[part]} "${path || part}": contains ${describeForbidden(value)}; only tab, line feed and carriage return are accepted.`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkText(item, part, path ? `${path}[${i}]` : `[${i}]`));
    return;
  }
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const [key, item] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      if (FORBIDDEN_TEXT.test(key))
        throw badRequest(`Invalid ${LABEL[part]} name "${(path ? `${path}.` : '') + key.replace(FORBIDDEN_TEXT, '?')}": contains ${describeForbidden(key)}.`);
      checkText(item, part, at);
    }
  }
}

function isJson(request: FastifyRequest): boolean {
  return /json/i.test(String(request.headers['content-type'] ?? 'application/json'));
}

function typesOf(schema: Schema): string[] | undefined {
  if (schema.type === undefined) return schema.properties ? ['object'] : undefined;
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Whether the schema takes a value of this JSON type at all (its other constraints are Ajv's job). */
function accepts(schema: Schema, value: unknown): boolean {
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return branches.some((b) => accepts(b, value));
  const types = typesOf(schema);
  if (!types) return true;
  const type = jsonType(value);
  return types.includes(type) || (type === 'integer' && types.includes('number'));
}

function coerceBody(schema: Schema, value: unknown, path: string): unknown {
  for (const part of schema.allOf ?? []) value = coerceBody(part, value, path);
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    const match = branches.find((b) => accepts(b, value));
    if (match) return coerceBody(match, value, path);
    const flag = branches.find((b) => typesOf(b)?.includes('boolean'));
    if (flag && typeof value === 'string' && FLAG.test(value)) return value.toLowerCase() === 'true';
    throw mismatch(
      branches.flatMap((b) => typesOf(b) ?? []),
      path,
    );
  }
  const types = typesOf(schema);
  if (!types) return value;
  if (!accepts(schema, value)) {
    if (types.includes('boolean') && typeof value === 'string' && FLAG.test(value)) return value.toLowerCase() === 'true';
    throw mismatch(types, path);
  }
  if (Array.isArray(value) && schema.items) return value.map((item, i) => coerceBody(schema.items!, item, `${path}[${i}]`));
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    for (const [key, item] of Object.entries(object)) {
      const property = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      if (property) object[key] = coerceBody(property, item, path ? `${path}.${key}` : key);
    }
  }
  return value;
}

function mismatch(types: string[], path: string): Error {
  const wanted = [...new Set(types)].map((t) => (t === 'integer' ? 'a whole number' : t === 'null' ? 'null' : `${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`));
  return path ? badRequest(`Invalid field "${path}": must be ${wanted.join(' or ')}.`) : badRequest(`The request body must be ${wanted.join(' or ')}.`);
}

/**
 * Query and path values are text. `orderAsc=True` and `orderAsc=TRUE` mean what
 * `true` means (clients differ in case); a number that reads as Infinity (`1e309`)
 * is refused here, because Ajv skips its range checks for non-finite numbers.
 */
function coerceText(schema: Schema, values: Record<string, unknown>, part: 'query' | 'params'): void {
  for (const [key, value] of Object.entries(values)) {
    const property = schema.properties?.[key];
    if (!property || typeof value !== 'string') continue;
    const branches = property.anyOf ?? property.oneOf ?? [property];
    if (FLAG.test(value) && branches.some((b) => typesOf(b)?.includes('boolean'))) values[key] = value.toLowerCase();
    const numeric = branches.find((b) => typesOf(b)?.some((t) => t === 'number' || t === 'integer'));
    if (numeric && value.trim() !== '' && !Number.isNaN(Number(value)) && !Number.isFinite(Number(value))) {
      const range = numeric.minimum !== undefined && numeric.maximum !== undefined ? ` from ${numeric.minimum} to ${numeric.maximum}` : ' that is finite';
      throw badRequest(`Invalid ${LABEL[part]} "${key}": must be a number${range}.`);
    }
  }
}

/** Gives every integer and number of the request schemas a storage-sized range unless the schema sets one. */
function boundRouteSchemas(route: RouteOptions): void {
  const schema = route.schema;
  if (!schema) return;
  for (const part of ['body', 'querystring', 'params', 'headers'] as const) {
    if (schema[part]) schema[part] = bounded(schema[part] as Schema);
  }
}

/** The same schema object always gives the same bounded copy: Ajv caches compiled validators by object, so shared schemas compile once. */
const boundedCopies = new WeakMap<Schema, Schema>();

function bounded(schema: Schema): Schema {
  if (!schema || typeof schema !== 'object') return schema;
  const known = boundedCopies.get(schema);
  if (known) return known;
  const out: Schema = { ...schema };
  boundedCopies.set(schema, out);
  boundedCopies.set(out, out);
  const types = typesOf(schema) ?? [];
  if (types.includes('integer') || types.includes('number')) {
    const range = types.includes('integer') ? INT32 : FINITE;
    if (out.minimum === undefined && out.exclusiveMinimum === undefined) out.minimum = range.minimum;
    if (out.maximum === undefined && out.exclusiveMaximum === undefined) out.maximum = range.maximum;
  }
  if (schema.properties) out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, bounded(v)]));
  if (schema.items && typeof schema.items === 'object') out.items = bounded(schema.items);
  if (typeof schema.additionalProperties === 'object') out.additionalProperties = bounded(schema.additionalProperties);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) if (schema[key]) out[key] = schema[key].map(bounded);
  return out;
}
