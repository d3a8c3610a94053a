import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';
import { migrationProvider } from './migrations.js';
import { AUTOCHECKPOINT_PAGES, startCheckpointer } from './sqlite-checkpointer.js';
import { withStatementCache } from './sqlite-statement-cache.js';
import { underStartupLock } from './startup-lock.js';

export type DatabaseKind = 'sqlite' | 'postgres';

/** The one handle every service gets: the query builder plus what it runs on. */
export interface Store {
  db: Kysely<Database>;
  kind: DatabaseKind;
  close(): Promise<void>;
}

export class StoreError extends Error {}

/** Opens the database named by `url` (`sqlite:<file>` or `postgres://…`) and brings its schema up to date. */
export async function openStore(url: string, options: { backgroundCheckpoints?: boolean } = {}): Promise<Store> {
  const store = url.startsWith('sqlite:') ? openSqlite(url.slice('sqlite:'.length), options.backgroundCheckpoints ?? false) : await openPostgres(url);
  try {
    // Nodes starting together on one PostgreSQL database migrate one after the other.
    await underStartupLock(store, () => migrate(store.db));
  } catch (err) {
    await store.close();
    throw new StoreError(`database ${describeUrl(url)}: ${(err as Error).message}`);
  }
  return store;
}

/**
 * `backgroundCheckpoints` (the server's store): WAL checkpoints run on a worker
 * thread instead of inside commits; see sqlite-checkpointer.ts.
 */
function openSqlite(file: string, backgroundCheckpoints: boolean): Store {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the database file's mode.
  closeSync(openSync(file, 'a', 0o600));
  const native = new SQLite(file);
  // WAL lets readers (the API) and the single writer (sessions, logins) proceed together;
  // busy_timeout covers the admin command line writing while the server runs.
  native.pragma('journal_mode = WAL');
  native.pragma('synchronous = NORMAL');
  native.pragma('busy_timeout = 5000');
  native.pragma('foreign_keys = ON');
  const checkpointer = backgroundCheckpoints ? startCheckpointer(file) : undefined;
  if (checkpointer) native.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(native) }) });
  return {
    db,
    kind: 'sqlite',
    close: async () => {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

async function openPostgres(url: string): Promise<Store> {
  // Loaded only when PostgreSQL is configured: an embedded-SQLite server does not carry the driver.
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgres', close: () => db.destroy() };
}

async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new StoreError(`migration ${failed?.migrationName ?? '?'} failed: ${(error as Error).message ?? String(error)}`);
  }
}

/** A database URL fit for messages: the password never appears. */
export function describeUrl(url: string): string {
  try {
    if (url.startsWith('sqlite:')) return url;
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable database URL)';
  }
}
