import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VBR_REVISIONS } from '../../src/http/api-version.js';
import { REPOS, startListFixture, type ListFixture } from './list-fixture.js';
import { createTestDatabase, postgresUrl } from '../support/postgres.js';

/** What Veeam's documents list as query parameters of each served GET operation, per revision (scripts/documented-list-parameters.mjs). */
interface DocumentedParameter {
  name: string;
  type: string;
  format?: string;
  enum?: string[];
  array?: boolean;
}
const root = path.resolve(import.meta.dirname, '../..');
const documented = JSON.parse(readFileSync(path.join(root, 'test/fixtures/documented-list-parameters.json'), 'utf8')) as Record<string, Record<string, DocumentedParameter[]>>;

/**
 * Flags that can only ever include or leave out things Rampart does not have: read and
 * validated (junk is a 400 naming them), with no effect on what Rampart lists. Each says why.
 */
const VACUOUS: Record<string, string> = {
  includeNestedHosts: 'every managed server was added on its own; none is nested in a vCenter Server',
  includeDefaultApplianceCreds: 'Rampart deploys no appliances, so it has no default appliance credentials',
  skipDedupAppliances: 'Rampart manages no deduplicating storage appliances',
};

interface Reply {
  status: number;
  body: any;
  text: string;
}

const totalOf = (body: any): number => body.pagination?.total ?? body.totalRecords;
const itemsOf = (body: any): any[] => body.data ?? body.records;
const idsOf = (body: any): string[] => itemsOf(body).map((item) => JSON.stringify(item.id ?? item.name ?? item));

function query(parameters: [string, string][]): string {
  return parameters.length === 0 ? '' : `?${parameters.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;
}

/** The value under `key` in an item, matched case-insensitively (orderColumn `Name` → `name`). */
function fieldOf(item: Record<string, unknown>, column: string): unknown {
  const key = Object.keys(item).find((k) => k.toLowerCase() === column.toLowerCase());
  return key === undefined ? undefined : item[key];
}

function isSortedBy(items: Record<string, unknown>[], column: string): boolean | undefined {
  const values = items.map((i) => fieldOf(i, column));
  if (values.some((v) => v === undefined || v === null || typeof v === 'object')) return undefined;
  const key = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : (v as number));
  return values.every((v, i) => i === 0 || key(values[i - 1]) <= key(v));
}

/**
 * Audits one documented parameter of one operation: it is honoured (some valid value changes
 * what is listed, or for skip/limit/order what they must do) or refused (a 400 naming it).
 * Returns a problem in words, or undefined.
 */
async function audit(get: (p: [string, string][]) => Promise<Reply>, unfiltered: Reply, p: DocumentedParameter, orderColumns: string[]): Promise<string | undefined> {
  const n = totalOf(unfiltered.body);
  const names = (r: Reply) => r.status === 400 && r.text.includes(p.name);
  const outcome = async (values: string[]) => {
    const replies = await Promise.all(values.map((v) => get([[p.name, v]])));
    const bad = replies.find((r) => r.status !== 200 && !names(r));
    if (bad) return { problem: `answered ${bad.status} without naming it: ${bad.text.slice(0, 200)}` };
    const accepted = replies.filter((r) => r.status === 200);
    return { accepted, refused: accepted.length === 0 };
  };

  if (p.name === 'skip') {
    const r = await get([['skip', '1']]);
    if (r.status !== 200) return `skip=1 answered ${r.status}`;
    if (totalOf(r.body) !== n) return 'skip changed the total';
    return JSON.stringify(idsOf(r.body)) === JSON.stringify(idsOf(unfiltered.body).slice(1)) ? undefined : 'skip=1 did not drop the first item';
  }
  if (p.name === 'limit') {
    const r = await get([['limit', '1']]);
    if (r.status !== 200) return `limit=1 answered ${r.status}`;
    return totalOf(r.body) === n && itemsOf(r.body).length === Math.min(1, n) && r.body.pagination.limit === 1 ? undefined : 'limit=1 not applied';
  }
  if (p.name === 'orderColumn' || p.name === 'orderAsc') {
    const columns = p.name === 'orderColumn' ? p.enum! : orderColumns.slice(0, 1);
    let accepted = 0;
    for (const column of columns) {
      const [asc, desc] = await Promise.all([
        get([
          ['orderColumn', column],
          ['orderAsc', 'true'],
        ]),
        get([
          ['orderColumn', column],
          ['orderAsc', 'false'],
        ]),
      ]);
      if (asc.status === 400 && names(asc) && p.name === 'orderColumn') continue;
      if (asc.status !== 200 || desc.status !== 200) return `orderColumn=${column} answered ${asc.status}/${desc.status}: ${asc.text.slice(0, 200)}`;
      accepted++;
      if (JSON.stringify(idsOf(desc.body)) !== JSON.stringify(idsOf(asc.body).reverse())) return `orderColumn=${column}: orderAsc=false is not the reverse of true`;
      if (isSortedBy(itemsOf(asc.body), column) === false) return `orderColumn=${column}: not sorted by ${column}`;
    }
    return accepted > 0 || p.name === 'orderColumn' ? undefined : 'orderAsc never accepted';
  }

  let values: string[];
  if (p.enum) values = p.enum;
  else if (p.type === 'boolean') values = ['true', 'false'];
  else if (p.format === 'uuid') values = [randomUUID()];
  else if (p.format === 'date-time') values = ['2099-01-01T00:00:00Z', '2000-01-01T00:00:00Z'];
  else if (p.type === 'number' || p.type === 'integer') values = ['1000000000', '0'];
  else values = ['zz-no-such-thing-zz'];

  const result = await outcome(values);
  if (result.problem) return result.problem;
  if (result.refused) return undefined;
  const totals = result.accepted!.map((r) => totalOf(r.body));
  if (totals.some((x) => x > n)) return `a value listed more than the unfiltered ${n}`;
  if (totals.some((x) => x !== n)) return undefined;
  if (p.type === 'boolean' && VACUOUS[p.name]) {
    const junk = await get([[p.name, 'maybe']]);
    return names(junk) ? undefined : `${p.name}=maybe was not refused (${junk.status}): the parameter is not read`;
  }
  if (p.enum && result.accepted!.length === 1) {
    // One value accepted and every item has it (proxies: ViProxy is the only type): the filter
    // is read if a value outside the enum is refused naming it.
    const junk = await get([[p.name, 'NoSuchValue']]);
    return names(junk) ? undefined : `${p.name}=NoSuchValue was not refused (${junk.status}): the parameter is not read`;
  }
  return `silently dropped: ${values.slice(0, 4).join(', ')} all list the same ${n} items`;
}

const dialects: [string, () => Promise<Record<string, string>>][] = [['sqlite', async () => ({})]];
if (postgresUrl) dialects.push(['postgres', async () => ({ DATABASE_URL: await createTestDatabase() })]);

describe.each(dialects)('lists on %s', (_kind, env) => {
  let f: ListFixture;

  beforeAll(async () => {
    f = await startListFixture(await env());
  });
  afterAll(() => f?.cleanup());

  describe('every query parameter Veeam documents for a served operation', () => {
    it('the fixture of documented parameters is current (when the documents are at hand)', () => {
      const reference = [process.env.RAMPART_VEEAM_REFERENCE_DIR, path.join(root, '../shared/reference'), '/work/shared/reference'].find(
        (dir) => dir && existsSync(path.join(dir, 'vbr_rest_1.2-rev1.json')),
      );
      if (!reference) return;
      execFileSync(process.execPath, [path.join(root, 'scripts/documented-list-parameters.mjs'), '--check', reference], { stdio: 'pipe' });
    });

    it('is honoured or refused with a 400 naming it, in every revision, never silently dropped', async () => {
      const problems: string[] = [];
      const served = new Set<string>();
      const honouredNew = new Set<string>();
      for (const [revision, operations] of Object.entries(documented)) {
        // Revisions Rampart does not accept yet are asked for with the newest one it does: filters do not depend on the revision.
        const version = (VBR_REVISIONS as readonly string[]).includes(revision) ? revision : VBR_REVISIONS[VBR_REVISIONS.length - 1];
        for (const [operation, parameters] of Object.entries(operations)) {
          if (parameters.length === 0) continue;
          const url = operation.replace('{id}', f.loggedSessionId);
          const get = async (p: [string, string][]): Promise<Reply> => {
            const r = await f.t.api.get(`${url}${query(p)}`, { token: f.token, version });
            return { status: r.status, body: r.body, text: r.text };
          };
          const unfiltered = await get([]);
          // An operation the documents list but Rampart does not serve (yet) is not audited here.
          if (unfiltered.status !== 200) continue;
          served.add(operation);
          expect(totalOf(unfiltered.body), `${operation} must list something in the fixture`).toBeGreaterThan(0);
          const orderColumns = parameters.find((p) => p.name === 'orderColumn')?.enum ?? [];
          for (const p of parameters) {
            const problem = await audit(get, unfiltered, p, orderColumns);
            if (problem) problems.push(`${revision} GET ${operation} ${p.name}: ${problem}`);
            else if (revision.startsWith('1.3')) honouredNew.add(`${operation} ${p.name}`);
          }
        }
      }
      expect(problems).toEqual([]);
      // The audit really ran over the lists, including the 1.3 filters this work added.
      for (const operation of [
        '/api/v1/sessions',
        '/api/v1/backupInfrastructure/repositories/states',
        '/api/v1/backupInfrastructure/managedServers',
        '/api/v1/encryptionPasswords',
      ]) {
        expect(served).toContain(operation);
      }
      for (const name of [
        '/api/v1/backupInfrastructure/repositories/states excludeExtents',
        '/api/v1/backupInfrastructure/repositories/states sobrExtentTypeFilter',
        '/api/v1/backupInfrastructure/repositories excludeExtents',
        '/api/v1/sessions/{id}/logs statusFilter',
        '/api/v1/encryptionPasswords hintFilter',
      ]) {
        expect(honouredNew).toContain(name);
      }
    });
  });

  describe('the 1.3 scale-out filters of repositories', () => {
    const V = '1.3-rev1';
    const ids = async (url: string) => {
      const res = await f.t.api.get(url, { token: f.token, version: V });
      expect(res.status, res.text).toBe(200);
      expect(res.body.pagination.total).toBe(res.body.data.length);
      return (res.body.data as { id: string }[]).map((r) => r.id).sort();
    };
    const extents = () => [...f.extentIds].sort();

    it('excludeExtents leaves out the extents, in the list and in the states', async () => {
      expect(await ids(`${REPOS}/states?excludeExtents=true`)).toEqual([f.soloId]);
      expect(await ids(`${REPOS}?excludeExtents=True`)).toEqual([f.soloId]);
      expect(await ids(`${REPOS}/states?excludeExtents=false`)).toEqual([...f.extentIds, f.soloId].sort());
    });

    it('sobrIdFilter, sobrExtentTypeFilter and sobrMembershipFilter pick the extents', async () => {
      expect(await ids(`${REPOS}/states?sobrIdFilter=${f.sobrId}`)).toEqual(extents());
      expect(await ids(`${REPOS}/states?sobrIdFilter=${randomUUID()}`)).toEqual([]);
      expect(await ids(`${REPOS}/states?sobrExtentTypeFilter=Performance`)).toEqual(extents());
      expect(await ids(`${REPOS}/states?sobrExtentTypeFilter=Capacity&sobrExtentTypeFilter=Archive`)).toEqual([]);
      expect(await ids(`${REPOS}/states?sobrMembershipFilter=sobr*`)).toEqual(extents());
      expect(await ids(`${REPOS}/states?sobrMembershipFilter=other*`)).toEqual([]);
      expect(await ids(`${REPOS}/states?sobrIdFilter=${f.sobrId}&excludeExtents=true`)).toEqual([]);
      const bad = await f.t.api.get(`${REPOS}/states?sobrExtentTypeFilter=Cold`, { token: f.token, version: V });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toContain('sobrExtentTypeFilter');
    });

    it('isOutOfDateFilter: Rampart deploys no components, so none is out of date', async () => {
      expect(await ids(`${REPOS}/states?isOutOfDateFilter=true`)).toEqual([]);
      expect((await ids(`${REPOS}/states?isOutOfDateFilter=false`)).length).toBe(3);
    });
  });

  describe('other 1.3 filters', () => {
    it('serverStateFilter and updatesStateFilter of managed servers', async () => {
      const total = async (q: string) => (await f.t.api.get(`/api/v1/backupInfrastructure/managedServers?${q}`, { token: f.token, version: '1.3-rev1' })).body.pagination.total;
      expect(await total('serverStateFilter=Available')).toBe(1);
      expect(await total('serverStateFilter=Unavailable')).toBe(0);
      expect(await total('serverStateFilter=Any')).toBe(1);
      expect(await total('updatesStateFilter=NotAvailable')).toBe(1);
      expect(await total('updatesStateFilter=OutOfDate')).toBe(0);
    });

    it('hintFilter of encryption passwords', async () => {
      const res = await f.t.api.get('/api/v1/encryptionPasswords?hintFilter=*ETA*', { token: f.token, version: '1.3-rev1' });
      expect(res.body.data.map((p: { hint: string }) => p.hint)).toEqual(['beta hint']);
      expect(res.body.pagination.total).toBe(1);
    });

    it('statusFilter of session logs', async () => {
      const all = await f.t.api.get(`/api/v1/sessions/${f.loggedSessionId}/logs`, { token: f.token, version: '1.3-rev1' });
      const succeeded = await f.t.api.get(`/api/v1/sessions/${f.loggedSessionId}/logs?statusFilter=Succeeded`, { token: f.token, version: '1.3-rev1' });
      const failed = await f.t.api.get(`/api/v1/sessions/${f.loggedSessionId}/logs?statusFilter=Failed`, { token: f.token, version: '1.3-rev1' });
      expect(all.body.totalRecords).toBeGreaterThan(1);
      expect(succeeded.body.records).toEqual(all.body.records.filter((r: { status: string }) => r.status === 'Succeeded'));
      expect(succeeded.body.totalRecords).toBe(succeeded.body.records.length);
      expect(failed.body).toEqual({ totalRecords: 0, records: [] });
    });
  });

  describe('pagination.total counts the whole filtered set', () => {
    /** Pages through a filtered list with `limit` as monitoring plugins do, until `total` items are in. */
    async function pageThrough(url: string, limit: number) {
      const seen: string[] = [];
      const totals = new Set<number>();
      for (let skip = 0; skip < 1000; skip += limit) {
        const sep = url.includes('?') ? '&' : '?';
        const res = await f.t.api.get(`${url}${sep}skip=${skip}&limit=${limit}`, { token: f.token, version: '1.3-rev1' });
        expect(res.status, res.text).toBe(200);
        totals.add(res.body.pagination.total);
        expect(res.body.pagination).toMatchObject({ count: res.body.data.length, skip, limit });
        seen.push(...res.body.data.map((item: { id: string }) => item.id));
        if (skip + res.body.data.length >= res.body.pagination.total) break;
      }
      expect([...totals]).toHaveLength(1);
      expect(new Set(seen).size).toBe(seen.length);
      return { total: [...totals][0], seen };
    }

    it('on credentials with typeFilter, over several pages', async () => {
      const { total, seen } = await pageThrough('/api/v1/credentials?typeFilter=Linux', 2);
      expect(total).toBe(5);
      expect(seen).toHaveLength(5);
    });

    it('on sessions with typeFilter and a date filter', async () => {
      const all = await f.t.api.get('/api/v1/sessions?typeFilter=Infrastructure&createdAfterFilter=2000-01-01T00:00:00Z', { token: f.token });
      const { total, seen } = await pageThrough('/api/v1/sessions?typeFilter=Infrastructure&createdAfterFilter=2000-01-01T00:00:00Z', 2);
      expect(total).toBe(all.body.pagination.total);
      expect(total).toBeGreaterThan(2);
      expect(seen.sort()).toEqual(all.body.data.map((s: { id: string }) => s.id).sort());
    });

    it('on repository states with excludeExtents and on encryption passwords with hintFilter', async () => {
      expect((await pageThrough(`${REPOS}/states?excludeExtents=false&typeFilter=LinuxLocal`, 1)).total).toBe(3);
      expect((await pageThrough('/api/v1/encryptionPasswords?hintFilter=*hint', 1)).total).toBe(3);
    });
  });
});
