import type { Database as NativeDatabase, Statement } from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/**
 * Kysely's SQLite driver prepares every statement again on every call; compiling
 * the SQL was a tenth of a credentials add. The queries a server runs are few and
 * repeat, so prepared statements are kept by their SQL text (bounded: lists with
 * `in (?, ?, …)` make many texts; the least recently used ones go first).
 *
 * Reuse is safe because the driver runs one statement at a time on the single
 * connection and only through run()/all(); a statement being iterated (a streamed
 * query, which Rampart does not use) would be busy, so those get a fresh one.
 */
export function withStatementCache(native: NativeDatabase, maxStatements = 256): SqliteDatabase {
  const statements = new Map<string, Statement>();
  return {
    close: () => native.close(),
    prepare(sql: string) {
      const cached = statements.get(sql);
      if (cached && !cached.busy) {
        // Move to the end: the Map's order is the recency order.
        statements.delete(sql);
        statements.set(sql, cached);
        return cached;
      }
      const statement = native.prepare(sql);
      if (!cached) {
        if (statements.size >= maxStatements) statements.delete(statements.keys().next().value as string);
        statements.set(sql, statement);
      }
      return statement;
    },
  } as unknown as SqliteDatabase;
}
