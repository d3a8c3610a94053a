import { Type, type TProperties } from 'typebox';
import type { PageRequest } from '../store/paged-query.js';
import { badRequest } from './errors.js';

export const DEFAULT_LIMIT = 200;

/** A string enum as plain JSON Schema `enum`, so a bad value's 400 lists the allowed ones. */
export function stringEnum<const K extends string>(values: readonly K[], description?: string) {
  return Type.Unsafe<K>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });
}
export const MAX_LIMIT = 100_000;

/** The query parameters every list shares; `orderColumns` is the section's documented enum. */
export function listQuerySchema<const K extends string, const E extends TProperties = Record<never, never>>(orderColumns: readonly K[], extra: E = {} as E, withNameFilter = true) {
  const nameFilter = { nameFilter: Type.Optional(Type.String({ maxLength: 512, description: 'Name pattern; * is the wildcard.' })) };
  return Type.Object({
    skip: Type.Optional(Type.Integer({ minimum: 0, description: 'Number of items to skip.' })),
    limit: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_LIMIT, description: `Maximum number of items to return (default ${DEFAULT_LIMIT}).` })),
    orderColumn: Type.Optional(stringEnum(orderColumns, 'Sorts by this column.')),
    orderAsc: Type.Optional(Type.Boolean({ description: 'Ascending order (default true when orderColumn is given).' })),
    // Sections without a name (e.g. sessions by type only) leave the filter out of the schema; the static
    // type keeps it optional either way, which is what a handler may assume.
    ...((withNameFilter ? nameFilter : {}) as typeof nameFilter),
    ...extra,
  });
}

export interface ListQuery {
  skip?: number;
  limit?: number;
  orderColumn?: string;
  orderAsc?: boolean;
  nameFilter?: string;
}

/**
 * Maps the API's list parameters to a page request. When no order is asked for, the
 * section's default applies (e.g. newest sessions first).
 */
export function pageRequestFrom(query: ListQuery, columns: Record<string, string>, fallback: { column: string; asc: boolean }): PageRequest {
  const column = query.orderColumn ? columns[query.orderColumn] : fallback.column;
  if (!column) throw badRequest(`Invalid query parameter "orderColumn": must be one of: ${Object.keys(columns).join(', ')}.`);
  return {
    skip: query.skip ?? 0,
    limit: query.limit ?? DEFAULT_LIMIT,
    orderBy: column,
    orderAsc: query.orderColumn ? (query.orderAsc ?? true) : (query.orderAsc ?? fallback.asc),
    nameFilter: query.nameFilter,
  };
}

export const PaginationSchema = Type.Object({
  total: Type.Integer(),
  count: Type.Integer(),
  skip: Type.Integer(),
  limit: Type.Integer(),
});

export function pagination(total: number, count: number, request: { skip: number; limit: number }) {
  return { total, count, skip: request.skip, limit: request.limit };
}

/** `typeFilter=A`, `typeFilter=A&typeFilter=B` (1.3 clients) and `typeFilter=A,B` all mean the same. */
export function filterValues(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = (Array.isArray(value) ? value : [value])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  return list.length > 0 ? list : undefined;
}

/** Checks a multi-valued enum filter against its documented values; each is answered in the documented spelling. */
export function enumFilter<const K extends string>(name: string, value: string | string[] | undefined, allowed: readonly K[]): K[] | undefined {
  const values = filterValues(value);
  if (!values) return undefined;
  const byLower = new Map(allowed.map((a) => [a.toLowerCase(), a]));
  return values.map((v) => {
    const match = byLower.get(v.toLowerCase());
    if (!match) throw badRequest(`Invalid query parameter "${name}": "${v}" is not one of: ${allowed.join(', ')}.`);
    return match;
  });
}

/** Parses a date-time filter; a value that is not RFC 3339 is a 400 naming the parameter. */
export function dateFilter(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
    throw badRequest(`Invalid query parameter "${name}": "${value.slice(0, 60)}" is not a date-time such as 2026-01-31T12:00:00+01:00.`);
  }
  return new Date(ms).toISOString();
}

/** A filter that takes one value or many (as 1.3 clients send). */
export const StringOrList = Type.Union([Type.String({ maxLength: 1024 }), Type.Array(Type.String({ maxLength: 256 }), { maxItems: 64 })]);
