import { sql, type SelectQueryBuilder } from 'kysely';
import type { Database } from './schema.js';

/** The list parameters every Backup & Replication list endpoint shares. */
export interface PageRequest {
  skip: number;
  limit: number;
  /** A column the caller has already checked against the section's orderColumn enum. */
  orderBy: string;
  orderAsc: boolean;
  nameFilter?: string;
}

export interface Page<Row> {
  rows: Row[];
  total: number;
}

/**
 * Turns a Veeam name filter into a LIKE pattern: `*` is the wildcard (Veeam documents
 * it at the start and/or end; anywhere is accepted), everything else is literal.
 */
export function likePattern(filter: string): string {
  return filter
    .toLowerCase()
    .replace(/[\\%_]/g, (c) => `\\${c}`)
    .replace(/\*/g, '%');
}

/** A case-insensitive LIKE that means the same on SQLite and PostgreSQL. */
export function whereNameLike<QB extends SelectQueryBuilder<Database, any, any>>(query: QB, column: string, filter: string): QB {
  return query.where(sql<boolean>`lower(${sql.ref(column)}) like ${likePattern(filter)} escape '\\'`) as QB;
}

/**
 * Filters, then order, then skip, then limit, all in SQL (Veeam's documented order).
 * `base` carries the section's own filters; the id tiebreaker keeps pages stable.
 */
export async function fetchPage<Row>(
  base: SelectQueryBuilder<Database, any, any>,
  request: PageRequest,
  options: { nameColumn?: string; idColumn?: string } = {},
): Promise<Page<Row>> {
  let filtered = base;
  if (request.nameFilter !== undefined && request.nameFilter !== '' && options.nameColumn) {
    filtered = whereNameLike(filtered, options.nameColumn, request.nameFilter);
  }
  const direction = request.orderAsc ? 'asc' : 'desc';
  const [countRow, rows] = await Promise.all([
    filtered
      .clearSelect()
      .select((eb) => eb.fn.countAll().as('total'))
      .executeTakeFirst(),
    request.limit === 0
      ? Promise.resolve([])
      : filtered
          .selectAll()
          .orderBy(sql.ref(request.orderBy), direction)
          .orderBy(sql.ref(options.idColumn ?? 'id'), direction)
          .offset(request.skip)
          .limit(request.limit)
          .execute(),
  ]);
  return { rows: rows as Row[], total: Number((countRow as { total?: unknown } | undefined)?.total ?? 0) };
}
