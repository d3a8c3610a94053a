import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/database.js';
import { inGroupedTransaction } from '../../src/store/group-commit.js';
import { createTestDatabase, postgresUrl } from '../support/postgres.js';
import { startTestServer } from '../support/server.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function sqliteUrl(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rampart-group-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return `sqlite:${path.join(dir, 'test.sqlite')}`;
}

const dialects: [string, () => Promise<string>][] = [['sqlite', sqliteUrl]];
if (postgresUrl) dialects.push(['postgres', createTestDatabase]);

describe.each(dialects)('group commit on %s', (_kind, makeUrl) => {
  let store: Store;

  async function settingsNamed(prefix: string): Promise<string[]> {
    const rows = await store.db.selectFrom('settings').select('key').where('key', 'like', `${prefix}%`).orderBy('key').execute();
    return rows.map((r) => r.key);
  }

  it('works arriving together land together, and one that fails is undone alone with its own error', async () => {
    store = await openStore(await makeUrl());
    cleanups.push(() => store.close());
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        inGroupedTransaction(store.db, async (trx) => {
          // Two writes per work: the failing one has made its first before it fails.
          await trx
            .insertInto('settings')
            .values({ key: `together-${String(i).padStart(2, '0')}-a`, value: 'x' })
            .execute();
          if (i === 5) throw new Error('work 5 refuses');
          await trx
            .insertInto('settings')
            .values({ key: `together-${String(i).padStart(2, '0')}-b`, value: 'y' })
            .execute();
          return i;
        }),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(Array.from({ length: 12 }, (_, i) => (i === 5 ? 'rejected' : 'fulfilled')));
    expect((outcomes[5] as PromiseRejectedResult).reason.message).toBe('work 5 refuses');
    expect((outcomes[3] as PromiseFulfilledResult<number>).value).toBe(3);
    const keys = await settingsNamed('together-');
    expect(keys).toHaveLength(22);
    expect(keys.some((k) => k.startsWith('together-05'))).toBe(false);
  });

  it('a database error in one work (a duplicate key) leaves the others of the batch stored', async () => {
    await store.db.insertInto('settings').values({ key: 'taken', value: 'first' }).execute();
    const outcomes = await Promise.allSettled(
      ['free-1', 'taken', 'free-2'].map((key) => inGroupedTransaction(store.db, (trx) => trx.insertInto('settings').values({ key, value: 'second' }).execute())),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await settingsNamed('free-')).toEqual(['free-1', 'free-2']);
    const taken = await store.db.selectFrom('settings').select('value').where('key', '=', 'taken').executeTakeFirstOrThrow();
    expect(taken.value).toBe('first');
  });

  it('a lone work is an ordinary transaction: all of it or none of it', async () => {
    await expect(
      inGroupedTransaction(store.db, async (trx) => {
        await trx.insertInto('settings').values({ key: 'alone-a', value: 'x' }).execute();
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(await settingsNamed('alone-')).toEqual([]);
  });
});

describe('concurrent adds through the API', () => {
  it('sixteen clients adding at once, one of them a duplicate uniqueId: every other record lands with its secret, the duplicate is a 400', async () => {
    const t = await startTestServer();
    cleanups.push(() => t.cleanup());
    const token = await t.adminToken();
    // Several records may share a user name (as in Veeam); a uniqueId (tag) may not.
    const specs = Array.from({ length: 16 }, (_, i) => ({
      type: 'Standard',
      username: `user-${i}`,
      uniqueId: `tag-${i === 15 ? 3 : i}`,
      password: `secret-${i}`,
      description: `record ${i}`,
    }));
    const answers = await Promise.all(specs.map((json) => t.api.post('/api/v1/credentials', { token, json })));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(15);
    const refused = answers.filter((a) => a.status === 400);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.body.errorCode).toBe('UnexpectedContent');
    expect(refused[0]!.body.message).toMatch(/uniqueId \(tag\) "tag-3" already exists/);
    const list = await t.api.get('/api/v1/credentials?limit=100', { token });
    expect(list.body.pagination.total).toBe(15);
    // The refusal names the record that holds the name, which was stored whole.
    const holder = list.body.data.find((c: { tag?: string; uniqueId?: string }) => (c.tag ?? c.uniqueId) === 'tag-3');
    expect(refused[0]!.body.resourceId).toBe(holder.id);
    const secrets = await t.server.store.db.selectFrom('vault_secrets').select(['owner_id']).where('owner_kind', '=', 'credentials').execute();
    expect(new Set(secrets.map((s) => s.owner_id))).toEqual(new Set(list.body.data.map((c: { id: string }) => c.id)));
  });
});
