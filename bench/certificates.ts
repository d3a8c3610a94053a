// bench/certificates: how fast a regenerated certificate is served, and what 20
// rotations in a row cost clients that open a new TLS connection per request.
//   npm run bench:certificates   (BENCH_SECONDS=10 by default for each load phase)
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import https from 'node:https';
import { ApiClient } from '../test/support/client.js';
import { buildServer, startChild } from './support/processes.js';
import { median } from './support/stats.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const PASSWORD = 'Bench-Passw0rd!';

function handshakeFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fp);
    });
    socket.on('error', reject);
  });
}

const validBy = () => new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10) + 'T00:00:00';

interface LoadResult {
  perSecond: number;
  failed: number;
}

/**
 * 16 loops, each sending one request per new TCP connection and TLS handshake
 * (no agent, no keep-alive) for `SECONDS`: every request sees whatever certificate
 * the listener serves at that moment.
 */
async function load(port: number): Promise<LoadResult> {
  const until = performance.now() + SECONDS * 1000;
  let done = 0;
  let failed = 0;
  const once = () =>
    new Promise<void>((resolve) => {
      const req = https.get({ host: '127.0.0.1', port, path: '/api/v1/serverTime', headers: { 'x-api-version': '1.1-rev0' }, agent: false, rejectUnauthorized: false }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) done++;
          else failed++;
          resolve();
        });
      });
      req.on('error', () => {
        failed++;
        resolve();
      });
    });
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < until) await once();
    }),
  );
  return { perSecond: done / SECONDS, failed };
}

const dataDir = await mkdtemp(path.join(tmpdir(), 'rampart-bench-cert-'));
buildServer();
const { child, match } = await startChild(
  ['dist/main.js', 'serve'],
  { RAMPART_DATA_DIR: dataDir, RAMPART_PORT: '0', RAMPART_HOST: '127.0.0.1', RAMPART_ADMIN_PASSWORD: PASSWORD, RAMPART_LOG_LEVEL: 'warn' },
  /Rampart is ready on (\S+)/,
);
try {
  const url = match[1]!;
  const port = Number(new URL(url).port);
  const api = new ApiClient(url);
  const { access_token } = await api.login('administrator', PASSWORD);
  const regenerate = (keyAlgorithm: string) =>
    api.post('/api/v1/settings/certificates/regenerate', { version: '1.0-rev0', token: access_token, json: { validBy: validBy(), keyAlgorithm } });

  console.log(`bench/certificates: ${ROUNDS} rotations per key type, then ${SECONDS} s load phases`);
  for (const [keyAlgorithm, target] of [
    ['ECDSA-P256', 150],
    ['RSA-2048', 600],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const before = await handshakeFingerprint(port);
      const started = performance.now();
      const res = await regenerate(keyAlgorithm);
      if (res.status !== 202) throw new Error(`regenerate answered ${res.status}: ${res.text}`);
      let seen = await handshakeFingerprint(port);
      while (seen === before) seen = await handshakeFingerprint(port);
      times.push(performance.now() - started);
    }
    console.log(
      `  ${keyAlgorithm.padEnd(10)} request -> first handshake with the new certificate: median ${median(times).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms  (target median <= ${target} ms)`,
    );
  }

  await load(port); // warm-up
  const quiet = await load(port);
  let rotations = 0;
  let rotationFailures = 0;
  const rotating = (async () => {
    const gap = (SECONDS * 1000 * 0.8) / 20;
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, gap));
      const res = await regenerate('ECDSA-P256');
      if (res.status === 202) rotations++;
      else rotationFailures++;
    }
  })();
  const busy = await load(port);
  await rotating;
  console.log(`  load without rotations : ${quiet.perSecond.toFixed(0)} req/s, failed ${quiet.failed}  (a new TCP connection and TLS handshake per request, 16 at once)`);
  console.log(
    `  load with ${rotations} rotations  : ${busy.perSecond.toFixed(0)} req/s, failed ${busy.failed}${rotationFailures ? `, rotation failures ${rotationFailures}` : ''}`,
  );
  console.log(`  throughput ratio       : ${(busy.perSecond / quiet.perSecond).toFixed(3)}  (target >= 0.80, 0 failed requests)`);
  await api.close();
} finally {
  await child.stop();
  await rm(dataDir, { recursive: true, force: true });
}
