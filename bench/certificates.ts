// bench/certificates: how fast a regenerated certificate is served, and what 20
// rotations in a row cost clients that open a new TLS connection per request.
//   npm run bench:certificates   (BENCH_SECONDS=10 by default for each load phase)
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import autocannon from 'autocannon';
import { ApiClient } from '../test/support/client.js';
import { buildServer, startChild } from './support/processes.js';

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

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const validBy = () => new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10) + 'T00:00:00';

function load(url: string): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    // "Connection: close": every request is a new TCP connection and a new TLS handshake.
    const instance = autocannon({ url, connections: 16, duration: SECONDS, headers: { 'x-api-version': '1.1-rev0', connection: 'close' }, tlsOptions: { rejectUnauthorized: false } } as autocannon.Options, (err, result) =>
      err ? reject(err) : resolve(result),
    );
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
  });
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
    console.log(`  ${keyAlgorithm.padEnd(10)} request -> first handshake with the new certificate: median ${median(times).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms  (target median <= ${target} ms)`);
  }

  const target = `${url}/api/v1/serverTime`;
  await load(target); // warm-up
  const quiet = await load(target);
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
  const busy = await load(target);
  await rotating;
  const failed = (r: autocannon.Result) => r.errors + r.non2xx + r.timeouts;
  console.log(`  load without rotations : ${quiet.requests.average.toFixed(0)} req/s, failed ${failed(quiet)}  (new TLS handshake per request, 16 connections)`);
  console.log(`  load with ${rotations} rotations  : ${busy.requests.average.toFixed(0)} req/s, failed ${failed(busy)}${rotationFailures ? `, rotation failures ${rotationFailures}` : ''}`);
  console.log(`  throughput ratio       : ${(busy.requests.average / quiet.requests.average).toFixed(3)}  (target >= 0.80, 0 failed requests)`);
  await api.close();
} finally {
  await child.stop();
  await rm(dataDir, { recursive: true, force: true });
}
