import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { parseAnswer } from '../support/raw-tls.js';

/** A connection the test drives byte by byte; `closed` resolves with the time it stayed open. */
function openTls(port: number): Promise<{ socket: tls.TLSSocket; received: () => string; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' });
    const closed = new Promise<number>((done) => socket.on('close', () => done(Date.now() - started)));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.once('secureConnect', () => resolve({ socket, received: () => Buffer.concat(chunks).toString('utf8'), closed }));
    socket.once('close', () => reject(new Error('closed before the handshake finished')));
  });
}

const within = <T>(promise: Promise<T>, ms: number) => Promise.race([promise, new Promise<'still open'>((r) => setTimeout(() => r('still open'), ms))]);

describe('timeouts', () => {
  let t: TestServer;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer({ RAMPART_TLS_HANDSHAKE_TIMEOUT_SECONDS: '1', RAMPART_HEADERS_TIMEOUT_SECONDS: '1', RAMPART_REQUEST_TIMEOUT_SECONDS: '8' });
    token = await t.adminToken();
  });
  afterAll(() => t.cleanup());

  it('drops a TCP connection that never starts TLS after the handshake timeout', async () => {
    const socket = net.connect(t.server.port, '127.0.0.1');
    socket.on('error', () => undefined);
    const started = Date.now();
    const closed = new Promise<number>((r) => socket.on('close', () => r(Date.now() - started)));
    expect(await within(closed, 8_000)).toBeLessThan(8_000);
  });

  it('answers 408 in the error model when the headers do not arrive in time', async () => {
    const c = await openTls(t.server.port);
    c.socket.write('GET /api/v1/serverTime HTTP/1.1\r\nHost: localhost\r\n');
    const timer = setInterval(() => c.socket.write('X-Slow: 1\r\n'), 300);
    try {
      expect(await within(c.closed, 8_000)).toBeLessThan(8_000);
    } finally {
      clearInterval(timer);
    }
    const answer = parseAnswer(c.received());
    expect(answer.status).toBe(408);
    expect(answer.body).toEqual({ errorCode: 'UnexpectedContent', message: expect.any(String) });
  });

  it('answers 408 when a body is trickled past the request timeout', async () => {
    const c = await openTls(t.server.port);
    c.socket.write(
      `POST /api/v1/credentials HTTP/1.1\r\nHost: localhost\r\nx-api-version: 1.1-rev0\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`,
    );
    const timer = setInterval(() => c.socket.write(' '), 300);
    try {
      expect(await within(c.closed, 20_000)).toBeLessThan(20_000);
    } finally {
      clearInterval(timer);
    }
    expect(parseAnswer(c.received()).status).toBe(408);
  });

  it('stops reading a body once the answer (401) is decided, and closes the connection', async () => {
    const c = await openTls(t.server.port);
    c.socket.write('POST /api/v1/credentials HTTP/1.1\r\nHost: localhost\r\nx-api-version: 1.1-rev0\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{');
    const timer = setInterval(() => c.socket.write(' '), 200);
    try {
      // Well before the 8 s request timeout.
      expect(await within(c.closed, 5_000)).toBeLessThan(5_000);
    } finally {
      clearInterval(timer);
    }
    const answer = parseAnswer(c.received());
    expect(answer.status).toBe(401);
    expect(answer.headers).toMatch(/connection: close/i);
  });

  it('keeps ordinary requests on a kept-alive connection', async () => {
    const first = await t.api.get('/api/v1/serverTime');
    const second = await t.api.get('/api/v1/serverTime');
    expect(first.status).toBe(200);
    expect(second.headers.connection).not.toBe('close');
  });
});

describe('connection caps', () => {
  it('refuses connections over the per-address cap at once, and takes new ones when some close', async () => {
    const t = await startTestServer({ RAMPART_MAX_CONNECTIONS_PER_ADDRESS: '4' });
    try {
      const open = await Promise.all(Array.from({ length: 4 }, () => openTls(t.server.port)));
      await expect(openTls(t.server.port)).rejects.toThrow(/closed before the handshake/);
      open[0]!.socket.destroy();
      await open[0]!.closed;
      await new Promise((r) => setTimeout(r, 100));
      const again = await openTls(t.server.port);
      again.socket.destroy();
      for (const c of open) c.socket.destroy();
      expect(t.logText()).toMatch(/RAMPART_MAX_CONNECTIONS_PER_ADDRESS/);
    } finally {
      await t.cleanup();
    }
  });

  it('refuses connections over the total cap', async () => {
    const t = await startTestServer({ RAMPART_MAX_CONNECTIONS: '3' });
    try {
      const open = await Promise.all(Array.from({ length: 3 }, () => openTls(t.server.port)));
      await expect(openTls(t.server.port)).rejects.toThrow(/closed before the handshake/);
      for (const c of open) c.socket.destroy();
      await Promise.all(open.map((c) => c.closed));
      await new Promise((r) => setTimeout(r, 100));
      expect((await t.api.get('/api/v1/serverTime')).status).toBe(200);
    } finally {
      await t.cleanup();
    }
  });
});
