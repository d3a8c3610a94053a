import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/database.js';
import { fetchPage } from '../../src/store/paged-query.js';
import { migrationNames } from '../../src/store/migrations.js';
import { createTestDatabase, postgresUrl, requirePostgres } from '../support/postgres.js';
import { startTestServer } from '../support/server.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function sqliteUrl(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rampart-store-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return `sqlite:${path.join(dir, 'test.sqlite')}`;
}

const dialects: [string, () => Promise<string>][] = [['sqlite', sqliteUrl]];
if (postgresUrl) dialects.push(['postgres', createTestDatabase]);

it('has PostgreSQL available when running in CI', () => {
  if (requirePostgres) expect(postgresUrl, 'RAMPART_TEST_DATABASE_URL must be set in CI').toBeTruthy();
});

describe.each(dialects)('store on %s', (kind, makeUrl) => {
  let store: Store;

  it('applies every migration once, also when opened again', async () => {
    const url = await makeUrl();
    store = await openStore(url);
    cleanups.push(() => store.close());
    expect(store.kind).toBe(kind);
    const again = await openStore(url);
    const applied = await again.db
      .selectFrom('kysely_migration' as any)
      .select('name' as any)
      .execute();
    expect(applied.map((r: any) => r.name)).toEqual(migrationNames);
    await again.close();
  });

  it('pages, filters (LIKE with escapes, case-insensitive) and orders identically', async () => {
    const rows = ['Alpha', 'alpine', 'Beta', '100% sure', '100 percent', 'under_score', 'underXscore'].map((name, i) => ({ key: `k${i}`, value: name }));
    await store.db.insertInto('settings').values(rows).execute();
    const base = store.db.selectFrom('settings').where('key', 'like', 'k%');
    const page = (nameFilter?: string, skip = 0, limit = 200) =>
      fetchPage<{ key: string; value: string }>(base, { skip, limit, orderBy: 'value', orderAsc: true, nameFilter }, { nameColumn: 'value', idColumn: 'key' });
    expect((await page('al*')).rows.map((r) => r.value).sort()).toEqual(['Alpha', 'alpine']);
    expect((await page('100%*')).rows.map((r) => r.value)).toEqual(['100% sure']);
    expect((await page('under_score')).rows.map((r) => r.value)).toEqual(['under_score']);
    expect((await page('*TA')).rows.map((r) => r.value)).toEqual(['Beta']);
    const all = await page(undefined, 2, 3);
    expect(all.total).toBe(7);
    expect(all.rows).toHaveLength(3);
  });

  it('runs the whole server: login, sessions, restart', async () => {
    const url = await makeUrl();
    const t = await startTestServer({ DATABASE_URL: url });
    try {
      const token = await t.adminToken();
      const session = await t.server.runner.start({ name: 'Dialect Work', type: 'Infrastructure' }, async (ctx) => {
        await ctx.log('step one');
      });
      await t.server.runner.settled(session.id);
      const res = await t.api.get('/api/v1/sessions?nameFilter=dialect*', { token });
      expect(res.body.pagination.total).toBe(1);
      expect(res.body.data[0].result.result).toBe('Success');
      const info = await t.api.get('/api/v1/serverInfo', { token, version: '1.2-rev1' });
      expect(info.body.databaseVendor).toBe(kind === 'sqlite' ? 'SQLite' : 'PostgreSql');
    } finally {
      await t.cleanup();
    }
  });
});
