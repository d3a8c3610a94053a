// bench/probe: how much the API adds to a probe. In one run, against the same local peers:
//   TLS: POST /api/v1/connectionCertificate (ViHost) through Rampart's HTTPS API, vs a bare
//        in-process tls.connect that reads the peer certificate, vs `openssl s_client` as a process;
//   SSH: POST /api/v1/connectionCertificate (LinuxHost) against a real sshd, vs `ssh-keyscan -t ed25519`;
//   200 concurrent probes of 200 local TLS listeners through POST /api/v1/connectionCertificate/batch.
// Rampart runs as its own process from the `npm start` bundle.
//   npm run bench:probe            (BENCH_ROUNDS=40 by default)
import 'reflect-metadata';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { ApiClient } from '../test/support/client.js';
import { makeTlsMaterial, startTlsPeer, type Peer } from '../test/support/peers.js';
import { startSshd, TEST_USER } from '../test/support/sshd.js';
import { buildServer, startChild } from './support/processes.js';
import { median } from './support/stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const LISTENERS = 200;
const PASSWORD = 'Bench-Passw0rd!';

async function timed(rounds: number, work: () => Promise<void>): Promise<number[]> {
  await work(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return times;
}

function bareTlsProbe(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      if (!socket.getPeerCertificate(true).raw) reject(new Error('no certificate'));
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

function processRun(command: string, args: string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (input === undefined) {
      execFile(command, args, (err) => (err ? reject(err) : resolve()));
      return;
    }
    const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))));
    child.stdin.end(input);
  });
}

const dataDir = await mkdtemp(path.join(tmpdir(), 'rampart-bench-probe-'));
buildServer();
const { child: rampart, match } = await startChild(
  ['dist/main.js', 'serve'],
  { RAMPART_DATA_DIR: dataDir, RAMPART_PORT: '0', RAMPART_HOST: '127.0.0.1', RAMPART_ADMIN_PASSWORD: PASSWORD, RAMPART_LOG_LEVEL: 'warn' },
  /Rampart is ready on (\S+)/,
);
const material = await makeTlsMaterial('rsa');
const peer = await startTlsPeer(material);
const sshd = await startSshd();
const listeners: Peer[] = [];
try {
  const api = new ApiClient(match[1]!);
  const { access_token: token } = await api.login('administrator', PASSWORD);
  const standardId = (await api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: 'bench', password: 'Bench-Std-1' } })).body.id;
  const linuxId = (await api.post('/api/v1/credentials', { token, json: { type: 'Linux', username: TEST_USER, privateKey: sshd.userKey, SSHPort: sshd.port } })).body.id;

  const apiTls = await timed(ROUNDS, async () => {
    const res = await api.post('/api/v1/connectionCertificate', { token, json: { serverName: '127.0.0.1', credentialsId: standardId, type: 'ViHost', port: peer.port } });
    if (res.status !== 201) throw new Error(`connectionCertificate: ${res.status} ${res.text}`);
  });
  const bareTls = await timed(ROUNDS, () => bareTlsProbe(peer.port));
  const opensslTls = await timed(ROUNDS, () => processRun('openssl', ['s_client', '-connect', `127.0.0.1:${peer.port}`], ''));

  const apiSsh = await timed(ROUNDS, async () => {
    const res = await api.post('/api/v1/connectionCertificate', { token, json: { serverName: '127.0.0.1', credentialsId: linuxId, type: 'LinuxHost' } });
    if (res.status !== 201) throw new Error(`connectionCertificate: ${res.status} ${res.text}`);
  });
  const keyscan = await timed(ROUNDS, () => processRun('ssh-keyscan', ['-t', 'ed25519', '-p', String(sshd.port), '127.0.0.1']));

  const ecMaterial = await makeTlsMaterial('ec');
  for (let i = 0; i < LISTENERS; i++) listeners.push(await startTlsPeer(ecMaterial));
  const targets = listeners.map((l) => ({ serverName: '127.0.0.1', type: 'ViHost', port: l.port }));
  const batchRun = async () => {
    const started = performance.now();
    const res = await api.post('/api/v1/connectionCertificate/batch', { token, json: { targets, concurrency: LISTENERS, deadlineMs: 10_000 } });
    if (res.status !== 200 || res.body.failed !== 0) throw new Error(`batch: ${res.status} failed=${res.body.failed} ${res.text.slice(0, 300)}`);
    return performance.now() - started;
  };
  await batchRun();
  const batchTimes = [await batchRun(), await batchRun(), await batchRun()];
  await api.close();

  const m = { apiTls: median(apiTls), bareTls: median(bareTls), opensslTls: median(opensslTls), apiSsh: median(apiSsh), keyscan: median(keyscan), batch: median(batchTimes) };
  const ok = (pass: boolean) => (pass ? 'met' : 'NOT met');
  console.log(`bench/probe: ${ROUNDS} rounds each, medians in ms (one run, same peers)`);
  console.log(`  TLS  API connectionCertificate (HTTPS, RSA-2048 peer)  ${m.apiTls.toFixed(2)}`);
  console.log(`  TLS  bare in-process tls.connect                       ${m.bareTls.toFixed(2)}`);
  console.log(`  TLS  openssl s_client (process)                         ${m.opensslTls.toFixed(2)}`);
  console.log(
    `       API / bare = ${(m.apiTls / m.bareTls).toFixed(2)}x (target <= 3x: ${ok(m.apiTls <= 3 * m.bareTls)});  API / openssl = ${(m.apiTls / m.opensslTls).toFixed(2)} (target < 1: ${ok(m.apiTls < m.opensslTls)})`,
  );
  console.log(`  SSH  API connectionCertificate (sshd, ed25519)        ${m.apiSsh.toFixed(2)}`);
  console.log(`  SSH  ssh-keyscan -t ed25519 (process)                   ${m.keyscan.toFixed(2)}`);
  console.log(`       API / ssh-keyscan = ${(m.apiSsh / m.keyscan).toFixed(2)} (target < 1: ${ok(m.apiSsh < m.keyscan)})`);
  console.log(
    `  batch ${LISTENERS} concurrent TLS probes of ${LISTENERS} listeners: total ${m.batch.toFixed(0)} ms (runs: ${batchTimes.map((x) => x.toFixed(0)).join(', ')}; target <= 2000: ${ok(m.batch <= 2000)})`,
  );
} finally {
  await Promise.all(listeners.map((l) => l.close()));
  await peer.close();
  await sshd.stop();
  await rampart.stop();
  await rm(dataDir, { recursive: true, force: true });
}
