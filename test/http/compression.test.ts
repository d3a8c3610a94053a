import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { COMPRESSION_THRESHOLD_BYTES } from '../../src/http/compression.js';

let t: TestServer;
let token: string;

beforeAll(async () => {
  t = await startTestServer();
  token = await t.adminToken();
  for (let i = 0; i < 30; i++) {
    const res = await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: `CORP\\user-${i}`, password: `Secret-${i}`, description: `account ${i}` } });
    expect(res.status).toBe(201);
  }
  // Sessions as the runner makes them, for the pre-serialized sessions page.
  for (let i = 0; i < 40; i++) {
    const session = await t.server.runner.start({ name: `Compression check ${i}`, type: 'BackgroundOperation' }, async (ctx) => {
      await ctx.log(`step ${i}`);
    });
    await t.server.runner.settled(session.id);
  }
});
afterAll(() => t.cleanup());

/** The raw bytes on the wire: undici's request() does not decode Content-Encoding. */
async function raw(path: string, headers: Record<string, string> = {}) {
  const res = await request(new URL(path, t.api.baseUrl), {
    headers: { 'x-api-version': '1.2-rev1', authorization: `Bearer ${token}`, ...headers },
    dispatcher: t.api.agent,
  });
  return { status: res.statusCode, headers: res.headers, bytes: Buffer.from(await res.body.arrayBuffer()) };
}

describe('compression of large JSON replies', () => {
  it('sends plain JSON to a client that does not ask', async () => {
    const res = await raw('/api/v1/credentials');
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(res.bytes.toString('utf8')).pagination.total).toBe(30);
  });

  it('gzip and brotli when asked, the same JSON after decoding, and much smaller', async () => {
    const plain = await raw('/api/v1/credentials');
    expect(plain.bytes.length).toBeGreaterThan(COMPRESSION_THRESHOLD_BYTES);
    const cases: [string, string, (b: Buffer) => Buffer][] = [
      ['gzip', 'gzip', gunzipSync],
      ['gzip, deflate', 'gzip', gunzipSync],
      ['br', 'br', brotliDecompressSync],
      ['gzip, deflate, br, zstd', 'br', brotliDecompressSync],
    ];
    for (const [accept, encoding, decode] of cases) {
      const res = await raw('/api/v1/credentials', { 'accept-encoding': accept });
      expect(res.status, accept).toBe(200);
      expect(res.headers['content-encoding'], accept).toBe(encoding);
      expect(String(res.headers.vary).toLowerCase()).toContain('accept-encoding');
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(decode(res.bytes).toString('utf8'))).toEqual(JSON.parse(plain.bytes.toString('utf8')));
      expect(res.bytes.length, accept).toBeLessThan(plain.bytes.length / 3);
    }
  });

  it('compresses the pre-serialized sessions page too', async () => {
    const plain = await raw('/api/v1/sessions?limit=100');
    const gz = await raw('/api/v1/sessions?limit=100', { 'accept-encoding': 'gzip' });
    expect(JSON.parse(plain.bytes.toString('utf8')).pagination.total).toBe(40);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(gz.bytes).toString('utf8'))).toEqual(JSON.parse(plain.bytes.toString('utf8')));
    expect(gz.bytes.length).toBeLessThan(plain.bytes.length / 3);
    // The client's preferences decide, then the server's (brotli first).
    const cases: [string, string | undefined][] = [
      ['gzip;q=1.0, br;q=0.5', 'gzip'],
      ['br;q=0, gzip', 'gzip'],
      ['deflate, gzip', 'gzip'],
      ['*', 'br'],
      ['identity', undefined],
      ['zstd', undefined],
    ];
    for (const [accept, encoding] of cases) {
      const res = await raw('/api/v1/sessions?limit=100', { 'accept-encoding': accept });
      expect(res.headers['content-encoding'], accept).toBe(encoding);
      expect(Number(res.headers['content-length']), accept).toBe(res.bytes.length);
    }
    // A page polled again is the same bytes (compressed once, then reused).
    const again = await raw('/api/v1/sessions?limit=100', { 'accept-encoding': 'gzip' });
    expect(again.bytes.equals(gz.bytes)).toBe(true);
  });

  it('leaves small replies and errors alone', async () => {
    for (const path of ['/api/v1/serverTime', '/api/v1/credentials?limit=1', '/api/v1/credentials?limit=-1', '/api/v1/nowhere']) {
      const res = await raw(path, { 'accept-encoding': 'gzip, br' });
      expect(res.bytes.length, path).toBeLessThan(COMPRESSION_THRESHOLD_BYTES);
      expect(res.headers['content-encoding'], path).toBeUndefined();
      expect(() => JSON.parse(res.bytes.toString('utf8')), path).not.toThrow();
    }
  });

  it('answers 204 without a body whatever the client accepts', async () => {
    const list = await t.api.get('/api/v1/credentials?limit=1', { token });
    const res = await request(new URL(`/api/v1/credentials/${list.body.data[0].id}`, t.api.baseUrl), {
      method: 'DELETE',
      headers: { 'x-api-version': '1.2-rev1', authorization: `Bearer ${token}`, 'accept-encoding': 'gzip' },
      dispatcher: t.api.agent,
    });
    expect(res.statusCode).toBe(204);
    expect((await res.body.arrayBuffer()).byteLength).toBe(0);
    expect(res.headers['content-encoding']).toBeUndefined();
  });
});
