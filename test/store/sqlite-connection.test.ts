import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/database.js';
import { withStatementCache } from '../../src/store/sqlite-statement-cache.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function tempFile(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rampart-sqlite-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, 'test.sqlite');
}

describe('prepared statement cache', () => {
  it('gives the same statement for the same SQL, a fresh one while it is busy, and forgets the least recently used', () => {
    const native = new SQLite(':memory:');
    native.exec('create table t (n integer)');
    native.exec('insert into t values (1), (2), (3)');
    const db = withStatementCache(native, 3) as unknown as { prepare(sql: string): SQLite.Statement };
    const first = db.prepare('select n from t order by n');
    expect(db.prepare('select n from t order by n')).toBe(first);
    // A statement being iterated cannot run again until it finishes: a second one is made.
    const rows = first.iterate();
    expect(rows.next().value).toEqual({ n: 1 });
    const second = db.prepare('select n from t order by n');
    expect(second).not.toBe(first);
    expect(second.all()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    rows.return?.();
    expect(db.prepare('select n from t order by n')).toBe(first);
    // Bounded: three texts fit; a fourth pushes out the one used longest ago.
    db.prepare('select 1');
    db.prepare('select 2');
    db.prepare('select n from t order by n');
    db.prepare('select 3');
    expect(db.prepare('select n from t order by n')).toBe(first);
    const one = db.prepare('select 1');
    expect(db.prepare('select 1')).toBe(one);
    native.close();
  });
});

describe('background checkpoints', () => {
  it("copy the server's committed writes into the database file without waiting for the log to fill", async () => {
    const file = await tempFile();
    const store = await openStore(`sqlite:${file}`, { backgroundCheckpoints: true });
    try {
      // Let the worker checkpoint the migrations, then measure the database file.
      await new Promise((r) => setTimeout(r, 1500));
      const before = (await stat(file)).size;
      const rows = Array.from({ length: 2000 }, (_, i) => ({ key: `k-${i}-${'x'.repeat(200)}`, value: 'v'.repeat(200) }));
      for (let i = 0; i < rows.length; i += 200)
        await store.db
          .insertInto('settings')
          .values(rows.slice(i, i + 200))
          .execute();
      // ~1 MB of rows is far below the connection's own checkpoint threshold, so only the worker moves it.
      expect((await stat(file)).size).toBe(before);
      const deadline = Date.now() + 5000;
      while ((await stat(file)).size === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect((await stat(file)).size).toBeGreaterThan(before + 500_000);
    } finally {
      await store.close();
    }
    // Closed cleanly: the log is gone and another connection reads every row.
    const again = new SQLite(file, { readonly: true });
    expect((again.prepare("select count(*) as n from settings where key like 'k-%'").get() as { n: number }).n).toBe(2000);
    again.close();
  });
});
