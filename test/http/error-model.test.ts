import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { parseAnswer, rawExchange } from '../support/raw-tls.js';

let t: TestServer;
let token: string;
beforeAll(async () => {
  t = await startTestServer();
  token = await t.adminToken();
});
afterAll(() => t.cleanup());

const errorModel = (body: any) => {
  expect(Object.keys(body).sort()).toEqual(['errorCode', 'message']);
  expect(typeof body.message).toBe('string');
  expect(JSON.stringify(body)).not.toMatch(/FST_|statusCode|Client Error/);
};

describe("Fastify's and Node's own refusals in the error model", () => {
  it('an {id} over 100 characters → 414 in the error model', async () => {
    const res = await t.api.get(`/api/v1/credentials/${'a'.repeat(150)}`, {
      token,
      undocumented: "414 is not in Veeam's list for this operation; an over-long URI is refused before routing",
    });
    expect(res.status).toBe(414);
    errorModel(res.body);
    expect(res.body.errorCode).toBe('InvalidURI');
  });

  it('a malformed percent-escape in the path → 400 in the error model, problem shape on Backup for AWS routes', async () => {
    const res = await t.api.get('/api/v1/credentials/%zz', { token });
    expect(res.status).toBe(400);
    errorModel(res.body);
    expect(res.body.errorCode).toBe('InvalidURI');
    const vba = await t.api.get('/api/v1/settings/certificates/%zz', { token, version: '1.0-rev0' });
    expect(vba.status).toBe(400);
    expect(vba.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(vba.body).toMatchObject({ status: 400, errorCode: 'InvalidURI', title: 'Bad Request' });
  });

  it('headers over 16 KiB → 431 in the error model', async () => {
    const answer = await rawExchange(t.server.port, `GET /api/v1/serverTime HTTP/1.1\r\nHost: localhost\r\nx-api-version: 1.1-rev0\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
    const parsed = parseAnswer(answer.text);
    expect(parsed.status).toBe(431);
    errorModel(parsed.body);
    expect(parsed.headers).toMatch(/content-type: application\/json/i);
  });

  it('a garbage request line → 400 in the error model', async () => {
    const parsed = parseAnswer((await rawExchange(t.server.port, 'HELLO THERE\r\n\r\n')).text);
    expect(parsed.status).toBe(400);
    errorModel(parsed.body);
  });

  it('multipart/form-data without a boundary on certificate upload → 400, problem shape', async () => {
    const res = await t.api.post('/api/v1/settings/certificates/upload', {
      version: '1.0-rev0',
      token,
      headers: { 'content-type': 'multipart/form-data' },
      rawBody: 'certificateFile=x',
    });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.details).toMatch(/boundary/);
  });
});
