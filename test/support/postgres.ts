import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * PostgreSQL for tests: RAMPART_TEST_DATABASE_URL names a server (.ci/run starts one).
 * Each caller gets a fresh database on it, so tests never see each other's rows.
 */
export const postgresUrl = process.env.RAMPART_TEST_DATABASE_URL;

/** In CI a missing PostgreSQL is a failure, not a skip: the store must be proven on both. */
export const requirePostgres = process.env.CI === 'true';

export async function createTestDatabase(): Promise<string> {
  if (!postgresUrl) throw new Error('RAMPART_TEST_DATABASE_URL is not set');
  const name = `rampart_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
