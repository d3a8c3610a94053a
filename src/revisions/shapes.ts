import { VEEAM_DOCUMENTS, documentOf, type VeeamDocument } from './documents.js';

/**
 * How one model differs in one Veeam document from the model the section builds (the
 * section's own, newest spelling). Declared once at the document where a difference
 * starts: a document without an entry takes the nearest one declared before it.
 */
export interface ModelShape {
  /** Fields this document does not have: left out of the reply. */
  readonly omit?: readonly string[];
  /**
   * Fields this document does not have at any depth of the model (1.2 renamed the
   * repository settings' `enableTaskLimit` to `taskLimitEnabled` wherever it occurs).
   */
  readonly omitAtAnyDepth?: readonly string[];
  /**
   * Enum values this document spells differently wherever a field of that name occurs in
   * the model, at any depth (1.3-rev1 capitalised the job settings' enums: `monday` →
   * `Monday` in every schedule, `requireSuccess` → `RequireSuccess`, …).
   */
  readonly spellAtAnyDepth?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Fields this document spells differently: section name → document name. */
  readonly rename?: Readonly<Record<string, string>>;
  /** Enum values this document spells differently: field → (section value → document value). */
  readonly spell?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Fields this document types as uuid: left out when the value is not one (an empty or free-text tag). */
  readonly uuidOnly?: readonly string[];
  /** Arrays of objects this document sends as one field of each (1.3-rev2's access accounts `{name, type}`; before, the names). */
  readonly pluck?: Readonly<Record<string, string>>;
  /** Fields this document sends as an array of the one value (1.3's extent `status`). */
  readonly asArray?: readonly string[];
  /**
   * Objects this document puts one level deeper, under a discriminator: 1.3 sends the
   * repository's `mountServer` as `{mountServerSettingsType: "windows", windows: {...}}`
   * (1.3-rev1 spells the value `Windows`, the key stays `windows`).
   */
  readonly nest?: Readonly<Record<string, { readonly discriminator: string; readonly value: string | boolean; readonly key: string }>>;
  /**
   * Rampart's own fields, in no Veeam document: sent only to clients that ask for them
   * (`x-rampart-extras: true`, as the console does). Strict generated clients (Go with
   * DisallowUnknownFields, pydantic with extra=forbid) refuse a field their document lacks.
   */
  readonly extras?: readonly string[];
  /** Nested models (an object, or each item of an array) and their own shapes. */
  readonly fields?: Readonly<Record<string, ShapeByDocument>>;
  /**
   * What one branch of a discriminated model adds to this shape (its `omit` and `extras`):
   * a managed server's `port` is documented for `ViHost` only, `isBackupServer` (1.3) for
   * Linux and Windows hosts only.
   */
  readonly variants?: { readonly discriminator: string; readonly shapes: Readonly<Record<string, Pick<ModelShape, 'omit' | 'extras'>>> };
}

/** A model's shape per document; `{}` at a document means "exactly as built". */
export type ShapeByDocument = Readonly<Partial<Record<VeeamDocument, ModelShape>>>;

/** What a route answers per document: the body's shape and, where documents differ, the status code. */
export interface ReplyShape {
  readonly body?: ShapeByDocument;
  /** Success status per document (nearest declared before, as for shapes). */
  readonly status?: Readonly<Partial<Record<VeeamDocument, number>>>;
}

/** The entry declared for `document` or, failing that, for the nearest document before it. */
export function nearest<T>(byDocument: Readonly<Partial<Record<VeeamDocument, T>>> | undefined, document: VeeamDocument): T | undefined {
  if (!byDocument) return undefined;
  for (let i = VEEAM_DOCUMENTS.indexOf(document); i >= 0; i--) {
    const entry = byDocument[VEEAM_DOCUMENTS[i]!];
    if (entry !== undefined) return entry;
  }
  return undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

/**
 * A copy of `value` without the fields that are `null` (at any depth): Veeam's documents
 * mark no reply field nullable, so an absent optional field is left out, never `null`.
 */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (field === null || field === undefined) continue;
    out[key] = withoutNulls(field);
  }
  return out;
}

function withoutAtAnyDepth(value: unknown, names: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutAtAnyDepth(item, names));
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).flatMap(([key, field]) => (names.includes(key) ? [] : [[key, withoutAtAnyDepth(field, names)]])));
}

function spelledAtAnyDepth(value: unknown, spellings: Readonly<Record<string, Readonly<Record<string, string>>>>): unknown {
  if (Array.isArray(value)) return value.map((item) => spelledAtAnyDepth(item, spellings));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const spelling = spellings[key];
    if (spelling && typeof field === 'string') out[key] = spelling[field] ?? field;
    else if (spelling && Array.isArray(field) && field.every((v) => typeof v === 'string')) out[key] = field.map((v: string) => spelling[v] ?? v);
    else out[key] = spelledAtAnyDepth(field, spellings);
  }
  return out;
}

function applyModelShape(value: unknown, shape: ModelShape | undefined, document: VeeamDocument, extras: boolean): unknown {
  if (Array.isArray(value)) return value.map((item) => applyModelShape(item, shape, document, extras));
  if (!isPlainObject(value) || !shape) return value;
  if (shape.omitAtAnyDepth) value = withoutAtAnyDepth(value, shape.omitAtAnyDepth);
  if (shape.spellAtAnyDepth) value = spelledAtAnyDepth(value, shape.spellAtAnyDepth);
  if (!isPlainObject(value)) return value;
  const variant = shape.variants?.shapes[String(value[shape.variants.discriminator])];
  if (variant) shape = { ...shape, omit: [...(shape.omit ?? []), ...(variant.omit ?? [])], extras: [...(shape.extras ?? []), ...(variant.extras ?? [])] };
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (shape.omit?.includes(key)) continue;
    if (!extras && shape.extras?.includes(key)) continue;
    if (shape.uuidOnly?.includes(key) && !(typeof field === 'string' && UUID.test(field))) continue;
    const nested = shape.fields?.[key];
    let shaped = nested ? applyModelShape(field, nearest(nested, document), document, extras) : field;
    const spelling = shape.spell?.[key];
    if (spelling) {
      if (typeof shaped === 'string') shaped = spelling[shaped] ?? shaped;
      else if (Array.isArray(shaped)) shaped = shaped.map((v) => (typeof v === 'string' ? (spelling[v] ?? v) : v));
    }
    const plucked = shape.pluck?.[key];
    if (plucked && Array.isArray(shaped)) shaped = shaped.map((item) => (isPlainObject(item) ? item[plucked] : item));
    if (shape.asArray?.includes(key) && !Array.isArray(shaped)) shaped = [shaped];
    const nesting = shape.nest?.[key];
    if (nesting && isPlainObject(shaped) && !(nesting.discriminator in shaped)) shaped = { [nesting.discriminator]: nesting.value, [nesting.key]: shaped };
    out[shape.rename?.[key] ?? key] = shaped;
  }
  return out;
}

/**
 * `value` (a model, or an array of them) as the document of `revision` shows it, without
 * nulls; with Rampart's own `extras` when the client asked for them.
 */
export function shapeModel(shape: ShapeByDocument | undefined, revision: string | undefined, value: unknown, extras = false): unknown {
  const document = documentOf(revision);
  return applyModelShape(withoutNulls(value), nearest(shape, document), document, extras);
}

/** The request header with which a client (the console) asks for Rampart's own fields beside the documented ones. */
export const EXTRAS_HEADER = 'x-rampart-extras';

/** A shape entry for every document, each with the same `extras` (for models that differ only by them). */
export function withExtrasEverywhere(extras: readonly string[], model: ShapeByDocument = {}): ShapeByDocument {
  const out: Partial<Record<VeeamDocument, ModelShape>> = {};
  for (const document of VEEAM_DOCUMENTS) {
    const shape = nearest(model, document) ?? {};
    out[document] = { ...shape, extras: [...(shape.extras ?? []), ...extras] };
  }
  return out;
}

/** The success status the document of `revision` lists for a route, or `fallback`. */
export function statusFor(shape: ReplyShape | undefined, revision: string | undefined, fallback: number): number {
  return nearest(shape?.status, documentOf(revision)) ?? fallback;
}

/** Every success status a route answers in any document (to declare each in its response schema). */
export function allStatuses(shape: ReplyShape, fallback: number): number[] {
  return [...new Set([fallback, ...Object.values(shape.status ?? {})])];
}

/**
 * For routes that answer either one model or a list envelope of them (`{data: [...]}`):
 * the model's shape applies to the body itself and to each item of `data`.
 */
export function modelOrList(model: ShapeByDocument): ShapeByDocument {
  return Object.fromEntries(Object.entries(model).map(([document, shape]) => [document, { ...shape, fields: { ...shape.fields, data: model } }]));
}
