import { sql } from 'kysely';
import type { Store } from './database.js';

/** One fixed key for every Rampart node: "Rampart first start" as a 64-bit advisory lock id. */
const STARTUP_LOCK_ID = 0x52414d5041525431n;

/**
 * Runs `work` while holding a PostgreSQL session advisory lock, so nodes starting
 * at once on one database take turns: the first creates the schema and the first
 * administrator, the others wait and then find them there. SQLite has one process
 * per data folder, so there is nothing to take turns with.
 */
export async function underStartupLock<T>(store: Store, work: () => Promise<T>): Promise<T> {
  if (store.kind !== 'postgres') return work();
  return store.db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${STARTUP_LOCK_ID.toString()}::bigint)`.execute(connection);
    try {
      return await work();
    } finally {
      await sql`select pg_advisory_unlock(${STARTUP_LOCK_ID.toString()}::bigint)`.execute(connection);
    }
  });
}
