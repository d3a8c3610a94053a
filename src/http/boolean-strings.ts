import type { FastifyInstance, preValidationHookHandler } from 'fastify';

type Schema = Record<string, unknown>;

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A schema and the branches of its anyOf/oneOf/allOf, flattened: the places a value may match. */
function branches(schema: Schema, out: Schema[] = []): Schema[] {
  out.push(schema);
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    const list = schema[key];
    if (Array.isArray(list)) for (const s of list) if (isSchema(s)) branches(s, out);
  }
  return out;
}

function typesOf(schema: Schema): string[] {
  const t = schema.type;
  return typeof t === 'string' ? [t] : Array.isArray(t) ? (t as string[]) : [];
}

const allowsBoolean = (s: Schema) => typesOf(s).includes('boolean');

/** Strings are left alone wherever a string could be meant: a string type, or no constraint at all. */
function allowsString(s: Schema): boolean {
  const types = typesOf(s);
  if (types.includes('string')) return true;
  const combined = ['anyOf', 'oneOf', 'allOf', 'properties', 'items', 'enum', 'const'].some((k) => k in s);
  return types.length === 0 && !combined;
}

function containsBoolean(schema: unknown, depth = 0): boolean {
  if (!isSchema(schema) || depth > 32) return false;
  if (allowsBoolean(schema)) return true;
  const children: unknown[] = [schema.items, schema.additionalProperties, ...Object.values(isSchema(schema.properties) ? schema.properties : {})];
  for (const key of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(schema[key])) children.push(...(schema[key] as unknown[]));
  return children.some((c) => containsBoolean(c, depth + 1));
}

/**
 * Turns `True`, `TRUE`, `False`… into booleans wherever the schema wants a boolean and would
 * not take a string. Python's requests sends `True` for True, and Veeam's server accepts any
 * case; the validator's own coercion knows only lower-case `true`/`false`. Nothing else is
 * coerced here (no numbers, no lists): that stays the validator's business.
 */
export function normalizeBooleanStrings(value: unknown, schemas: Schema[]): unknown {
  const flat = schemas.flatMap((s) => branches(s));
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower !== 'true' && lower !== 'false') return value;
    return flat.some(allowsBoolean) && !flat.some(allowsString) ? lower === 'true' : value;
  }
  if (Array.isArray(value)) {
    const items = flat.flatMap((s) => (isSchema(s.items) ? [s.items] : []));
    if (items.length > 0) for (let i = 0; i < value.length; i++) value[i] = normalizeBooleanStrings(value[i], items);
    return value;
  }
  if (isSchema(value)) {
    for (const key of Object.keys(value)) {
      const inner = flat.flatMap((s) => {
        const property = isSchema(s.properties) ? s.properties[key] : undefined;
        if (isSchema(property)) return [property];
        return isSchema(s.additionalProperties) ? [s.additionalProperties] : [];
      });
      if (inner.length > 0) value[key] = normalizeBooleanStrings(value[key], inner);
    }
  }
  return value;
}

/**
 * Adds the normalization, before validation, to every route whose query string or body
 * schema has a boolean somewhere; routes without one pay nothing.
 */
export function installBooleanStrings(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const query = route.schema?.querystring;
    const body = route.schema?.body;
    const queryHasBoolean = containsBoolean(query);
    const bodyHasBoolean = containsBoolean(body);
    if (!queryHasBoolean && !bodyHasBoolean) return;
    const hook: preValidationHookHandler = (request, _reply, done) => {
      if (queryHasBoolean && isSchema(request.query)) normalizeBooleanStrings(request.query, [query as Schema]);
      if (bodyHasBoolean && request.body !== undefined) request.body = normalizeBooleanStrings(request.body, [body as Schema]);
      done();
    };
    const existing = route.preValidation;
    route.preValidation = existing === undefined ? [hook] : [hook, ...(Array.isArray(existing) ? existing : [existing])];
  });
}
