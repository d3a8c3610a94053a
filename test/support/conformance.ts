import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2019 as Ajv, type ValidateFunction } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { documentOf, type VeeamDocument } from '../../src/revisions/documents.js';
import { VBR_REVISIONS } from '../../src/http/api-version.js';

/**
 * Checks every JSON reply the API tests receive against Veeam's own OpenAPI document of
 * the revision the request asked for: the status code must be listed for the operation
 * (a documented `default` counts) and the body must validate against its schema.
 * Operations a document does not contain (Rampart extensions, sections the document
 * lacks) are not checked here. The Backup for AWS routes are checked against Veeam's
 * Backup for AWS document.
 */

// Veeam's documents live in shared/ beside the project (they are not ours to copy into it).
export const REFERENCE_DIR = process.env.RAMPART_REFERENCE_DIR ?? fileURLToPath(new URL('../../../shared/reference', import.meta.url));
/** The Backup for AWS document (Swagger 2.0, YAML): every Backup for AWS revision Rampart accepts answers as it. */
const BACKUP_FOR_AWS = 'vbaws-1.0-rev0';
type ReferenceDocument = VeeamDocument | typeof BACKUP_FOR_AWS;

/** The Backup for AWS routes Rampart serves (src/api/aws-token, src/api/settings-certificates); that document also has paths the Backup & Replication ones share. */
const BACKUP_FOR_AWS_ROUTES = /^\/api\/v1\/(token|settings\/certificates)(\/|$)/i;

export const FILES: Record<ReferenceDocument, string> = {
  [BACKUP_FOR_AWS]: 'vbaws_1.0-rev0.swagger.yaml',
  '1.1-rev0': 'vbr_rest_1.1-rev0.swagger.json',
  '1.2-rev1': 'vbr_rest_1.2-rev1.json',
  '1.3-rev0': 'vbr_rest_1.3-rev0.json',
  '1.3-rev1': 'vbr_rest_1.3-rev1.json',
  '1.3-rev2': 'vbr_rest_1.3-rev2.json',
};

/**
 * Veeam's own document errors, and nothing else: fields a schema lists as required but
 * never defines (so no server, Veeam's included, can send them as that schema describes).
 * Each requirement is dropped only while the schema still leaves the field undefined.
 */
const VEEAM_DOCUMENT_ERRORS: { document: ReferenceDocument; schemas: readonly string[]; required: string; why: string }[] = [
  { document: '1.1-rev0', schemas: ['ServerInfoModel'], required: 'vbrInstallationId', why: 'required, never defined; the model defines vbrId' },
  {
    document: '1.1-rev0',
    schemas: [
      'S3CompatibleStorageAccountModel',
      'AmazonS3StorageAccountModel',
      'AmazonSnowballEdgeStorageAccountModel',
      'AzureBlobStorageAccountImportModel',
      'AzureArchiveStorageAccountImportModel',
    ],
    required: 'gatewayServer',
    why: 'required on the account, defined only inside connectionSettings',
  },
  {
    document: '1.1-rev0',
    schemas: ['AmazonS3GlacierStorageImportSpec', 'AzureArchiveStorageImportSpec'],
    required: 'mountServer',
    why: 'required, never defined for archive tiers',
  },
  {
    document: '1.1-rev0',
    schemas: ['CloudCredentialsImportSpecCollection'],
    required: 'credentials',
    why: 'required, never defined; the collection defines one array per cloud type',
  },
  { document: '1.1-rev0', schemas: ['ObjectRestorePointModel'], required: 'paltformName', why: 'misspelt requirement; the field is platformName' },
  { document: '1.2-rev1', schemas: ['BackupFileModel'], required: 'restorePointId', why: 'required, never defined; the model defines restorePointIds' },
  { document: '1.3-rev0', schemas: ['BackupFileModel'], required: 'restorePointId', why: 'required, never defined; the model defines restorePointIds' },
];

/**
 * The Backup for AWS document types the certificate and token dates as `date-time`, but
 * Veeam's own AWS SDK parses only `YYYY-MM-DDTHH:MM:SS` there (and panics on an offset),
 * which is what its servers send: in that document a date-time's offset is optional.
 */
const BACKUP_FOR_AWS_DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$/i;

type Json = Record<string, unknown>;

interface Operation {
  responses: Record<string, Json>;
}

interface LoadedDocument {
  ajv: Ajv;
  paths: { pattern: RegExp; literalSegments: number; operations: Record<string, Operation> }[];
  components: Record<string, Record<string, Json>>;
  /** The error responses the document defines once and lists on operations (400 BadRequest, 404 NotFound…), by status. */
  documentedErrors: Record<string, Json>;
  validators: Map<string, ValidateFunction>;
}

const loaded = new Map<ReferenceDocument, LoadedDocument>();

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const refName = (ref: unknown) => (typeof ref === 'string' && ref.startsWith('#/components/schemas/') ? ref.slice('#/components/schemas/'.length) : undefined);

function definesField(schemas: Record<string, Json>, schema: Json, field: string, seen = new Set<Json>()): boolean {
  if (seen.has(schema)) return false;
  seen.add(schema);
  if (isObject(schema.properties) && field in schema.properties) return true;
  const target = refName(schema.$ref);
  if (target && schemas[target]) return definesField(schemas, schemas[target], field, seen);
  return Array.isArray(schema.allOf) && schema.allOf.some((part) => isObject(part) && definesField(schemas, part, field, seen));
}

/**
 * OpenAPI 3.0 → JSON Schema for ajv: a discriminated `oneOf` whose branches extend the
 * base by `allOf: [$ref base]` is a cycle ajv cannot evaluate, so each such base gets a
 * `<name>__base` copy without the dispatch (what the branches extend), and the base
 * itself dispatches on the discriminator with if/then.
 */
function prepareSchemas(schemas: Record<string, Json>, document: ReferenceDocument): Record<string, Json> {
  const out: Record<string, Json> = structuredClone(schemas);
  for (const entry of VEEAM_DOCUMENT_ERRORS) {
    if (entry.document !== document) continue;
    for (const name of entry.schemas) {
      const schema = out[name];
      if (!schema || !Array.isArray(schema.required) || definesField(out, schema, entry.required)) continue;
      schema.required = schema.required.filter((r) => r !== entry.required);
    }
  }
  const discriminated = new Set(Object.keys(out).filter((name) => isObject(out[name]!.discriminator)));
  for (const name of discriminated) {
    const schema = out[name]!;
    const { discriminator, oneOf, ...base } = schema as Json & { discriminator: { propertyName: string; mapping?: Record<string, string> }; oneOf?: Json[] };
    out[`${name}__base`] = base;
    const mapping = discriminator.mapping ?? Object.fromEntries((oneOf ?? []).map((o) => [refName(o.$ref)!, o.$ref as string]));
    out[name] = {
      allOf: [
        { $ref: `#/components/schemas/${name}__base` },
        ...Object.entries(mapping).map(([value, target]) => ({
          if: { properties: { [discriminator.propertyName]: { const: value } }, required: [discriminator.propertyName] },
          then: { $ref: target },
        })),
      ],
    };
  }
  // Branches extend the base, not the dispatcher.
  const rewrite = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(rewrite);
    if (!isObject(node)) return;
    if (Array.isArray(node.allOf)) {
      for (const part of node.allOf as Json[]) {
        const target = refName(part.$ref);
        if (target && discriminated.has(target)) part.$ref = `#/components/schemas/${target}__base`;
      }
    }
    // ajv refuses `nullable` without `type`; OpenAPI means "or null".
    if (node.nullable === true && node.type === undefined) {
      delete node.nullable;
      const copy = { ...node };
      for (const k of Object.keys(node)) delete node[k];
      node.anyOf = [{ type: 'null' }, copy];
    }
    for (const value of Object.values(node)) rewrite(value);
  };
  for (const schema of Object.values(out)) rewrite(schema);
  return out;
}

type RawDocument = { paths: Record<string, Record<string, Operation>>; components: Json };

/** Swagger 2.0 (the Backup for AWS document) in OpenAPI 3 terms: definitions as component schemas, each response's schema as JSON content. */
function fromSwagger2(swagger: { paths: Record<string, Record<string, Operation>>; definitions?: Json }): RawDocument {
  const refs = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(refs);
    if (!isObject(node)) return node;
    const out = Object.fromEntries(
      Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace('#/definitions/', '#/components/schemas/') : refs(v)]),
    );
    // Draft 4's boolean exclusive bounds → the numeric ones ajv reads.
    for (const [exclusive, bound] of [
      ['exclusiveMaximum', 'maximum'],
      ['exclusiveMinimum', 'minimum'],
    ] as const) {
      if (typeof out[exclusive] !== 'boolean') continue;
      if (out[exclusive] === true) {
        out[exclusive] = out[bound];
        delete out[bound];
      } else delete out[exclusive];
    }
    return out;
  };
  const paths: Record<string, Record<string, Operation>> = {};
  for (const [path, operations] of Object.entries(swagger.paths)) {
    paths[path] = {};
    for (const [method, operation] of Object.entries(operations)) {
      if (!isObject(operation) || !isObject(operation.responses)) continue;
      const responses = Object.fromEntries(
        Object.entries(operation.responses as Record<string, Json>).map(([status, r]) => [
          status,
          { description: r.description, ...(r.schema ? { content: { 'application/json': { schema: refs(r.schema) } } } : {}) },
        ]),
      );
      paths[path][method] = { responses };
    }
  }
  return { paths, components: { schemas: refs(swagger.definitions ?? {}) as Json } };
}

function load(document: ReferenceDocument): LoadedDocument {
  const existing = loaded.get(document);
  if (existing) return existing;
  const text = readFileSync(`${REFERENCE_DIR}/${FILES[document]}`, 'utf8');
  const raw: RawDocument = document === BACKUP_FOR_AWS ? fromSwagger2(parseYaml(text) as Parameters<typeof fromSwagger2>[0]) : (JSON.parse(text) as RawDocument);
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats.default(ajv);
  // Formats Veeam uses that carry no checkable syntax beyond their type.
  for (const f of ['integer', 'Tar', 'Zip', 'time', 'password', 'binary']) ajv.addFormat(f, true);
  if (document === BACKUP_FOR_AWS) ajv.addFormat('date-time', BACKUP_FOR_AWS_DATE_TIME);
  const components = { ...raw.components, schemas: prepareSchemas((raw.components.schemas ?? {}) as Record<string, Json>, document) };
  ajv.addSchema({ $id: 'veeam', components }, 'veeam');
  ajv.addSchema({ $id: 'veeam-strict', components: { ...components, schemas: closeSchemas(components.schemas) } }, 'veeam-strict');
  const paths = Object.entries(raw.paths).map(([template, operations]) => {
    const segments = template.split('/');
    const pattern = new RegExp(`^${segments.map((s) => (/^\{.+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('/')}/?$`, 'i');
    return { pattern, literalSegments: segments.filter((s) => !/^\{.+\}$/.test(s)).length, operations };
  });
  // Literal paths (…/proxies/states) win over templated ones (…/proxies/{id}).
  paths.sort((a, b) => b.literalSegments - a.literalSegments);
  const documentedErrors: Record<string, Json> = {};
  for (const operations of Object.values(raw.paths)) {
    for (const operation of Object.values(operations)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (Number(status) >= 400 && typeof response.$ref === 'string') documentedErrors[status] ??= response;
      }
    }
  }
  const result: LoadedDocument = { ajv, paths, components: components as Record<string, Record<string, Json>>, documentedErrors, validators: new Map() };
  loaded.set(document, result);
  return result;
}

/**
 * The strict reading of a document's schemas: no property outside the schema. A strict
 * generated client (Go with DisallowUnknownFields, pydantic with extra=forbid) fails on an
 * extra field as surely as on a missing one. `unevaluatedProperties` (not
 * `additionalProperties`) so that properties a branch inherits through `allOf` count; a
 * schema other schemas extend gets an open `__open` copy for them to extend.
 */
function closeSchemas(schemas: Record<string, Json>): Record<string, Json> {
  const out: Record<string, Json> = structuredClone(schemas);
  const extended = new Set<string>();
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(collect);
    if (!isObject(node)) return;
    if (Array.isArray(node.allOf)) for (const part of node.allOf as Json[]) if (refName(part.$ref)) extended.add(refName(part.$ref)!);
    Object.values(node).forEach(collect);
  };
  Object.values(out).forEach(collect);
  const close = (node: unknown, open: boolean): void => {
    if (Array.isArray(node)) return node.forEach((n) => close(n, false));
    if (!isObject(node)) return;
    const object = isObject(node.properties) || Array.isArray(node.allOf);
    if (object && !open && node.additionalProperties === undefined) node.unevaluatedProperties = false;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'if' || key === 'enum' || key === 'example' || key === 'examples' || key === 'required') continue;
      if (key === 'properties' && isObject(value)) Object.values(value).forEach((p) => close(p, false));
      // Parts of a composition see only their own properties: the whole is closed, not each part.
      else if (key === 'allOf' || key === 'anyOf' || key === 'oneOf') (value as unknown[]).forEach((part) => close(part, true));
      else close(value, false);
    }
  };
  // A field a schema requires but never defines (1.1-rev0's `kind` on repositories) is
  // one Veeam's own clients expect: sending it is no extra property.
  for (const schema of Object.values(out)) {
    if (!Array.isArray(schema.required)) continue;
    for (const field of schema.required as string[]) {
      if (definesField(out, schema, field)) continue;
      schema.properties = { ...(isObject(schema.properties) ? schema.properties : {}), [field]: {} };
    }
  }
  for (const name of extended) if (out[name]) out[`${name}__open`] = structuredClone(out[name]);
  for (const [name, schema] of Object.entries(out)) close(schema, name.endsWith('__open'));
  const reopen = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(reopen);
    if (!isObject(node)) return;
    if (Array.isArray(node.allOf)) {
      for (const part of node.allOf as Json[]) {
        const target = refName(part.$ref);
        if (target && extended.has(target)) part.$ref = `#/components/schemas/${target}__open`;
      }
    }
    Object.values(node).forEach(reopen);
  };
  Object.values(out).forEach(reopen);
  return out;
}

/** Rewrites the document's local `$ref`s to the schema registered as `prefix` (`veeam`, `veeam-strict`). */
function toRegistered(node: unknown, prefix: string): unknown {
  if (Array.isArray(node)) return node.map((n) => toRegistered(n, prefix));
  if (!isObject(node)) return node;
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${prefix}${v}` : toRegistered(v, prefix)]));
}

function resolveResponse(raw: Json, components: (ref: string) => Json | undefined): Json {
  let current = raw;
  for (let i = 0; i < 5 && typeof current.$ref === 'string'; i++) current = components(current.$ref) ?? {};
  return current;
}

export interface ConformanceProblem {
  document: ReferenceDocument;
  operation: string;
  message: string;
}

/**
 * Checks one reply; returns undefined when it conforms or the document has no such
 * operation, else what is wrong.
 */
export function checkReply(method: string, url: string, revisionHeader: string | undefined, status: number, body: unknown, strict = false): ConformanceProblem | undefined {
  const revision = revisionHeader?.trim().replace(/^v/i, '').toLowerCase();
  const path = new URL(url, 'https://x').pathname;
  let document: ReferenceDocument;
  if (BACKUP_FOR_AWS_ROUTES.test(path)) document = BACKUP_FOR_AWS;
  else if (revision && (VBR_REVISIONS as readonly string[]).includes(revision)) document = documentOf(revision);
  else return undefined;
  const doc = load(document);
  const entry = doc.paths.find((p) => p.pattern.test(path));
  const operation = entry?.operations[method.toLowerCase()];
  if (!entry || !operation) return undefined;
  const name = `${method.toUpperCase()} ${path}`;
  // An error the operation does not list but the document defines for every operation
  // (a 400 for a bad id or filter, a 404) is checked against that definition.
  const response = operation.responses[String(status)] ?? operation.responses.default ?? doc.documentedErrors[String(status)];
  if (!response) {
    return { document, operation: name, message: `status ${status} is not listed (listed: ${Object.keys(operation.responses).join(', ')})` };
  }
  const key = `${method} ${entry.pattern.source} ${status} ${strict}`;
  let validate = doc.validators.get(key);
  if (!validate) {
    const resolved = resolveResponse(response, (ref) => {
      const [, , kind, n] = ref.split('/');
      return doc.components[kind!]?.[n!];
    });
    const content = (resolved.content ?? {}) as Record<string, { schema?: Json }>;
    const schema = content['application/json']?.schema ?? Object.values(content)[0]?.schema;
    const prefix = strict ? 'veeam-strict' : 'veeam';
    validate = doc.ajv.compile(schema ? (toRegistered(strict && !schema.$ref ? closeSchemas({ reply: schema }).reply : schema, prefix) as Json) : {});
    doc.validators.set(key, validate);
  }
  if (validate(body)) return undefined;
  const errors = (validate.errors ?? [])
    .filter((e) => e.keyword !== 'if')
    .slice(0, 8)
    .map(
      (e) =>
        `${e.instancePath || '(root)'} ${e.message}${e.params && 'allowedValues' in e.params ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}${e.params && 'unevaluatedProperty' in e.params ? `: ${String(e.params.unevaluatedProperty)}` : ''}`,
    );
  return { document, operation: name, message: errors.join('; ') };
}

/**
 * Fails the calling test when a reply breaks the document of the revision it asked for.
 * Only JSON replies are checked (204s and other bodies have nothing to validate). `strict`
 * also fails on a property the document's schema does not have.
 */
export function assertConforms(method: string, url: string, revisionHeader: string | undefined, status: number, body: unknown, text: string, strict = false): void {
  if (typeof body !== 'object' || body === null) return;
  const problem = checkReply(method, url, revisionHeader, status, body, strict);
  if (!problem) return;
  throw new Error(`Reply does not follow Veeam's ${problem.document} document: ${problem.operation} → ${status}: ${problem.message}\nbody: ${text.slice(0, 600)}`);
}
