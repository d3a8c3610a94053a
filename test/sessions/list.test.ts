import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from '../support/server.js';

let t: TestServer;
let token: string;
const ids: string[] = [];

/** Thirty sessions with known names, types, states and times, written straight to the store. */
beforeAll(async () => {
  t = await startTestServer();
  // Also no reply property outside Veeam's document (test/support/conformance.ts).
  t.api.strict = true;
  token = await t.adminToken();
  const base = Date.parse('2026-01-01T00:00:00Z');
  const rows = Array.from({ length: 30 }, (_, i) => {
    const id = randomUUID();
    ids.push(id);
    return {
      id,
      name: i % 3 === 0 ? `Backup Job ${i}` : `Infrastructure Item Saving ${i}`,
      activity_id: id,
      session_type: i % 3 === 0 ? 'Job' : i % 10 === 1 ? 'Automation' : 'Infrastructure',
      state: i < 25 ? 'Stopped' : 'Working',
      creation_time: new Date(base + i * 3600_000).toISOString(),
      end_time: i < 25 ? new Date(base + i * 3600_000 + 60_000).toISOString() : null,
      progress_percent: 100,
      result: i < 25 ? (i % 2 === 0 ? 'Success' : 'Failed') : 'None',
      result_message: null,
      is_canceled: 0,
      resource_id: null,
      resource_reference: null,
      parent_session_id: null,
      usn: 1,
      node_id: 'some-other-node',
      created_by: null,
    };
  });
  await t.server.store.db.insertInto('sessions').values(rows).execute();
});
afterAll(() => t.cleanup());

const list = (query: string) => t.api.get(`/api/v1/sessions${query}`, { token });

describe('GET /api/v1/sessions paging, filters and order', () => {
  it('leaves out automation sessions and pages with the documented envelope (default limit 200)', async () => {
    const res = await list('');
    expect(res.status).toBe(200);
    expect(res.body.pagination).toEqual({ total: 28, count: 28, skip: 0, limit: 200 });
    expect(res.body.data.every((s: any) => s.sessionType !== 'Automation')).toBe(true);
    // Newest first by default.
    const times = res.body.data.map((s: any) => Date.parse(s.creationTime));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('applies filters and order before skip and limit', async () => {
    const all = await list('?orderColumn=CreationTime&orderAsc=true');
    const page = await list('?orderColumn=CreationTime&orderAsc=true&skip=5&limit=4');
    expect(page.body.pagination).toEqual({ total: 28, count: 4, skip: 5, limit: 4 });
    expect(page.body.data.map((s: any) => s.id)).toEqual(all.body.data.slice(5, 9).map((s: any) => s.id));
    // A client looping skip/limit until skip + len >= total sees every session exactly once.
    const seen: string[] = [];
    for (let skip = 0; ; skip += 7) {
      const p = await list(`?skip=${skip}&limit=7&orderColumn=Name`);
      seen.push(...p.body.data.map((s: any) => s.id));
      if (skip + p.body.data.length >= p.body.pagination.total) break;
    }
    expect(new Set(seen).size).toBe(28);
    const beyond = await list('?skip=1000');
    expect(beyond.body.pagination).toEqual({ total: 28, count: 0, skip: 1000, limit: 200 });
  });

  it('filters by name with * wildcards, case-insensitively', async () => {
    const res = await list('?nameFilter=backup*');
    expect(res.body.pagination.total).toBe(10);
    expect(res.body.data.every((s: any) => s.name.startsWith('Backup Job'))).toBe(true);
    const suffix = await list('?nameFilter=*ving 2');
    expect(suffix.body.data.map((s: any) => s.name)).toEqual(['Infrastructure Item Saving 2']);
    const literal = await list('?nameFilter=100%25');
    expect(literal.body.pagination.total).toBe(0);
  });

  it('filters by type, state, result and time', async () => {
    expect((await list('?typeFilter=Job')).body.pagination.total).toBe(10);
    // 1.2 clients say BackupJob for the same sessions and see that name.
    const renamed = await t.api.get('/api/v1/sessions?typeFilter=BackupJob', { token, version: '1.2-rev1' });
    expect(renamed.body.pagination.total).toBe(10);
    expect(renamed.body.data[0].sessionType).toBe('BackupJob');
    expect(renamed.body.data[0].platformName).toBe('CustomPlatform');
    expect((await list('?typeFilter=Job&limit=1')).body.data[0].platformName).toBeUndefined();
    expect((await list('?stateFilter=Working')).body.pagination.total).toBe(5);
    expect((await list('?resultFilter=Failed')).body.pagination.total).toBeGreaterThan(0);
    expect((await list('?typeFilter=Job&typeFilter=Infrastructure')).body.pagination.total).toBe(28);
    expect((await list('?createdAfterFilter=2026-01-01T10:00:00Z&createdBeforeFilter=2026-01-01T12:00:00Z')).body.pagination.total).toBe(2);
    expect((await list('?endedBeforeFilter=2026-01-01T00:30:00%2B00:00')).body.pagination.total).toBe(1);
    expect((await list(`?jobIdFilter=${ids[3]}`)).body.data.map((s: any) => s.id)).toEqual([ids[3]]);
  });

  it('sorts by every documented column', async () => {
    for (const column of ['Name', 'SessionType', 'CreationTime', 'EndTime', 'State', 'Result']) {
      const res = await list(`?orderColumn=${column}&orderAsc=false`);
      expect(res.status, column).toBe(200);
    }
    const names = (await list('?orderColumn=Name&orderAsc=true&limit=3')).body.data.map((s: any) => s.name);
    expect(names).toEqual(['Backup Job 0', 'Backup Job 12', 'Backup Job 15']);
  });

  it('answers invalid values with 400 saying which parameter', async () => {
    const cases: [string, RegExp][] = [
      ['?skip=-1', /skip/],
      ['?limit=abc', /limit/],
      ['?orderColumn=Color', /orderColumn.*Name, SessionType/],
      ['?orderAsc=maybe', /orderAsc/],
      ['?createdAfterFilter=yesterday', /createdAfterFilter.*not a date-time/],
      ['?typeFilter=Nope', /typeFilter.*"Nope" is not one of/],
      ['?stateFilter=Running', /stateFilter/],
      ['?jobIdFilter=123', /jobIdFilter/],
    ];
    for (const [query, message] of cases) {
      const res = await list(query);
      expect(res.status, query).toBe(400);
      expect(res.body.errorCode, query).toBe('UnexpectedContent');
      expect(res.body.message, query).toMatch(message);
    }
  });
});

describe('GET /api/v1/services', () => {
  it('lists the REST API service and its port, with the shared paging rules', async () => {
    const res = await t.api.get('/api/v1/services', { token });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([{ name: 'Rampart REST API', port: t.server.port }]);
    expect(res.body.pagination).toEqual({ total: 1, count: 1, skip: 0, limit: 200 });
    expect((await t.api.get('/api/v1/services?nameFilter=*rest*', { token })).body.pagination.total).toBe(1);
    expect((await t.api.get('/api/v1/services?nameFilter=nope*', { token })).body.pagination.total).toBe(0);
    expect((await t.api.get('/api/v1/services?orderColumn=Color', { token })).status).toBe(400);
  });
});
