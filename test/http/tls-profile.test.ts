import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

/** Runs `openssl s_client` against the server; `input` goes to its stdin, which closes after `holdMs`. */
function sClient(port: number, args: string[], input = '', holdMs = 300): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args]);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.stdin.write(input);
    setTimeout(() => child.stdin.end(), holdMs);
    child.on('close', () => resolve(out));
  });
}

/** The suite the server agreed to, or undefined when the handshake failed. */
async function negotiated(port: number, args: string[]): Promise<string | undefined> {
  const out = await sClient(port, args);
  const cipher = /New, TLSv1\.[23], Cipher is (\S+)/.exec(out)?.[1];
  return cipher && cipher !== '(NONE)' ? cipher : undefined;
}

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.cleanup());

describe('Mozilla intermediate profile', () => {
  it.each([
    ['CBC with SHA-1', 'ECDHE-ECDSA-AES128-SHA'],
    ['CBC with SHA-256', 'ECDHE-ECDSA-AES128-SHA256'],
    ['CCM8', 'ECDHE-ECDSA-AES128-CCM8'],
    ['CCM', 'ECDHE-ECDSA-AES256-CCM'],
    ['ARIA', 'ECDHE-ECDSA-ARIA128-GCM-SHA256'],
    ['CAMELLIA', 'ECDHE-ECDSA-CAMELLIA128-SHA256'],
  ])('refuses %s on TLS 1.2 (%s)', async (_what, cipher) => {
    expect(await negotiated(t.server.port, ['-tls1_2', '-cipher', cipher])).toBeUndefined();
  });

  it('refuses TLS 1.1', async () => {
    expect(await negotiated(t.server.port, ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'])).toBeUndefined();
  });

  it('accepts ECDHE with AEAD on TLS 1.2 and TLS 1.3 as is', async () => {
    expect(await negotiated(t.server.port, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256'])).toBe('ECDHE-ECDSA-AES128-GCM-SHA256');
    expect(await negotiated(t.server.port, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-CHACHA20-POLY1305'])).toBe('ECDHE-ECDSA-CHACHA20-POLY1305');
    expect(await negotiated(t.server.port, ['-tls1_3'])).toMatch(/^TLS_/);
  });

  it('refuses client-initiated renegotiation', async () => {
    const out = await sClient(t.server.port, ['-tls1_2'], 'R\n', 2000);
    expect(out).toMatch(/RENEGOTIATING/);
    expect(out).toMatch(/no renegotiation/);
  });

  it('with an RSA certificate (swapped in, no restart): no RSA key exchange, no CBC; ECDHE-RSA with AEAD works', async () => {
    const token = await t.adminToken();
    const res = await t.api.post('/api/v1/settings/certificates/regenerate', { version: '1.0-rev0', token, json: { validBy: '2099-01-01T00:00:00', keyAlgorithm: 'RSA-2048' } });
    expect(res.status).toBe(202);
    let served: string | undefined;
    for (let i = 0; i < 200 && !served; i++) {
      served = await negotiated(t.server.port, ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256']);
      if (!served) await new Promise((r) => setTimeout(r, 100));
    }
    expect(served).toBe('ECDHE-RSA-AES128-GCM-SHA256');
    for (const cipher of [
      'AES128-GCM-SHA256',
      'AES256-GCM-SHA384',
      'AES128-SHA',
      'ECDHE-RSA-AES128-SHA',
      'ECDHE-RSA-AES256-SHA384',
      'DHE-RSA-AES128-GCM-SHA256',
      'ECDHE-ARIA128-GCM-SHA256',
    ]) {
      expect(await negotiated(t.server.port, ['-tls1_2', '-cipher', cipher]), cipher).toBeUndefined();
    }
    // After the swap renegotiation stays refused.
    expect(await sClient(t.server.port, ['-tls1_2'], 'R\n', 2000)).toMatch(/no renegotiation/);
  });
});
