import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { FILES, REFERENCE_DIR } from '../support/conformance.js';

/**
 * Rampart serves every operation of Veeam's 1.1-rev0 document: each path × method of the
 * document is requested over HTTPS without credentials (so nothing runs) and must reach a
 * route — a 401, 400 or any answer but the "No resource at …" 404 and the 405 that the
 * server gives for paths and methods it has no route for.
 */

const METHODS = ['get', 'post', 'put', 'delete', 'patch'] as const;

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
}, 60_000);

afterAll(async () => {
  await t?.cleanup();
});

describe('coverage of the 1.1-rev0 document', () => {
  it('has a route for every path and method the document lists', async () => {
    const document = JSON.parse(readFileSync(`${REFERENCE_DIR}/${FILES['1.1-rev0']}`, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(document.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m] !== undefined).map((m) => ({ method: m.toUpperCase(), path })));
    expect(operations.length).toBe(133);
    const missing: string[] = [];
    // The probe itself can fail: a path nobody serves and a method a served path lacks both count as missing.
    for (const { method, path } of [...operations, { method: 'GET', path: '/api/v1/noSuchSection' }, { method: 'PATCH', path: '/api/v1/jobs' }]) {
      // Path parameters get a uuid: every id of the document is one, and names (inventory hosts, codes) take any text.
      const url = path.replace(/\{[^}]+\}/g, '6f0d1c2e-4b3a-4c5d-8e9f-0a1b2c3d4e5f');
      const res = await t.api.request(method, url, { version: '1.1-rev0', undocumented: 'coverage probe without credentials' });
      const noRoute = res.status === 405 || (res.status === 404 && /^No resource at /.test(String(res.body?.message)));
      if (noRoute) missing.push(`${method} ${path}`);
    }
    expect(missing.splice(-2)).toEqual(['GET /api/v1/noSuchSection', 'PATCH /api/v1/jobs']);
    expect(missing).toEqual([]);
  }, 120_000);
});
