import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { OPENAPI_PATH } from '../../src/app.js';
import { normalizeBooleanStrings } from '../../src/http/boolean-strings.js';

let t: TestServer;
let token: string;

beforeAll(async () => {
  t = await startTestServer();
  token = await t.adminToken();
});
afterAll(() => t.cleanup());

interface BooleanParameter {
  method: string;
  path: string;
  name: string;
}

/** Every boolean query parameter of every route, read from the server's own OpenAPI document. */
async function booleanQueryParameters(): Promise<BooleanParameter[]> {
  const doc = await t.api.get(OPENAPI_PATH, { version: null });
  expect(doc.status).toBe(200);
  const found: BooleanParameter[] = [];
  for (const [path, operations] of Object.entries(doc.body.paths as Record<string, Record<string, { parameters?: { in: string; name: string; schema?: { type?: unknown } }[] }>>)) {
    for (const [method, operation] of Object.entries(operations)) {
      for (const p of operation.parameters ?? []) {
        if (p.in === 'query' && p.schema?.type === 'boolean') found.push({ method: method.toUpperCase(), path, name: p.name });
      }
    }
  }
  return found;
}

const concrete = (path: string) => path.replace(/\{[^}]+\}/g, randomUUID());
/** Text replies (known_hosts) start with a dated comment: compare what follows. */
const comparable = (body: unknown) => (typeof body === 'string' ? body.replace(/^#.*$/gm, '') : body);
const vbaPath = (path: string) => /^\/api\/v1\/(token|settings)/i.test(path);

describe('boolean query values in any case', () => {
  it('are accepted on every boolean query parameter and mean the same as lower case', async () => {
    const parameters = await booleanQueryParameters();
    const names = parameters.map((p) => `${p.method} ${p.path} ${p.name}`);
    // The list is the server's own: make sure it is not empty and has the list ones in it.
    expect(names).toContain('GET /api/v1/sessions orderAsc');
    expect(names).toContain('GET /api/v1/backupInfrastructure/repositories/states isOnlineFilter');
    expect(names.some((n) => n.startsWith('DELETE '))).toBe(true);

    for (const p of parameters) {
      const version = vbaPath(p.path) ? '1.0-rev0' : '1.2-rev1';
      const path = concrete(p.path);
      for (const [mixed, lower] of [
        ['True', 'true'],
        ['TRUE', 'true'],
        ['tRuE', 'true'],
        ['False', 'false'],
        ['FALSE', 'false'],
      ]) {
        const send = (value: string) => t.api.request(p.method, `${path}?${p.name}=${value}`, { token, version, ...(p.method === 'POST' ? { json: {} } : {}) });
        const [a, b] = [await send(mixed), await send(lower)];
        const label = `${p.method} ${p.path}?${p.name}=${mixed}`;
        expect(a.status, `${label}: ${a.text}`).toBe(b.status);
        if (a.status === 400) expect(a.text, label).not.toContain(`"${p.name}"`);
        if (p.method === 'GET' && a.status === 200) expect(comparable(a.body), label).toEqual(comparable(b.body));
      }
    }
  });

  it('still refuses what is not a boolean, naming the parameter', async () => {
    for (const value of ['yes', '1x', 'Truee']) {
      const res = await t.api.get(`/api/v1/sessions?orderColumn=Name&orderAsc=${value}`, { token });
      expect(res.status, value).toBe(400);
      expect(res.body.message).toContain('"orderAsc"');
    }
  });

  it('order as asked: orderAsc=False sorts descending', async () => {
    const asc = await t.api.get('/api/v1/backupInfrastructure/managedServers?orderColumn=Name&orderAsc=True', { token });
    const desc = await t.api.get('/api/v1/backupInfrastructure/managedServers?orderColumn=Name&orderAsc=False', { token });
    expect(asc.status).toBe(200);
    expect(desc.status).toBe(200);
    expect(desc.body.data.map((s: { name: string }) => s.name)).toEqual(asc.body.data.map((s: { name: string }) => s.name).reverse());
  });
});

describe('string booleans in bodies, in any case', () => {
  it('become booleans where the document has a boolean', async () => {
    const add = await t.api.post('/api/v1/credentials', {
      token,
      version: '1.2-rev1',
      json: { type: 'Linux', username: 'boolean-case', password: 'secret-1', description: 'True', elevateToRoot: 'True', addToSudoers: 'FALSE', useSu: 'false' },
    });
    expect(add.status, add.text).toBe(201);
    const got = await t.api.get(`/api/v1/credentials/${add.body.id}`, { token, version: '1.2-rev1' });
    expect(got.body.elevateToRoot).toBe(true);
    expect(got.body.addToSudoers).toBe(false);
    expect(got.body.useSu).toBe(false);
    // A string field keeps the string it was sent.
    expect(got.body.description).toBe('True');
  });

  it('are refused, naming the field, when they are not booleans', async () => {
    const res = await t.api.post('/api/v1/credentials', {
      token,
      version: '1.2-rev1',
      json: { type: 'Linux', username: 'boolean-junk', password: 'secret-1', elevateToRoot: 'Yes' },
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('elevateToRoot');
  });
});

describe('normalizeBooleanStrings, the rule itself', () => {
  const schema = {
    type: 'object',
    properties: {
      flag: { type: ['boolean', 'null'] },
      label: { type: 'string' },
      either: { anyOf: [{ type: 'boolean' }, { type: 'string' }] },
      anything: {},
      list: { type: 'array', items: { type: 'object', properties: { on: { type: 'boolean' } } } },
      nested: { oneOf: [{ type: 'object', properties: { deep: { type: 'boolean' } } }] },
    },
    additionalProperties: { type: 'boolean' },
  };

  it('turns any-case booleans into booleans only where a boolean and no string is expected', () => {
    const value = {
      flag: 'TRUE',
      label: 'True',
      either: 'FALSE',
      anything: 'True',
      list: [{ on: 'False' }, { on: 'yes' }],
      nested: { deep: 'tRUE' },
      extra: 'False',
    };
    expect(normalizeBooleanStrings(value, [schema])).toEqual({
      flag: true,
      label: 'True',
      either: 'FALSE',
      anything: 'True',
      list: [{ on: false }, { on: 'yes' }],
      nested: { deep: true },
      extra: false,
    });
  });

  it('leaves numbers, nulls and non-boolean words alone', () => {
    const value = { flag: null, list: [{ on: 1 }], extra: 'Truthy' };
    expect(normalizeBooleanStrings(value, [schema])).toEqual({ flag: null, list: [{ on: 1 }], extra: 'Truthy' });
  });
});
