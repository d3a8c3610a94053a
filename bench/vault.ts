// bench/vault: adds 10,000 credentials records through the HTTPS API (16 connections),
// lists them in pages of 200, and measures sealing+opening one secret against a bare
// AES-256-GCM encrypt+decrypt of the same bytes, all in one run.
//   npm run bench:vault     (BENCH_RECORDS=10000 BENCH_CONNECTIONS=16 BENCH_LOG_LEVEL=info)
import 'reflect-metadata';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { ApiClient } from '../test/support/client.js';
import { startRampart } from './support/processes.js';
import { MasterKeyring } from '../src/vault/master-keyring.js';
import { openSecret, sealSecret } from '../src/vault/envelope.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 10_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const PAGE = 200;
const PASSWORD = 'Bench-Passw0rd!';

/** The server as `npm start` runs it (log level from BENCH_LOG_LEVEL, default 'info'). */
function startServer(dataDir: string) {
  return startRampart(dataDir, PASSWORD, { RAMPART_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info' });
}

/**
 * Runs a fixed number of requests and times them from the start to the last response.
 * (autocannon's own duration, and the moment it reports, fall on its one-second tick:
 * a run of 4.1 s would count as 5.)
 */
function run(options: autocannon.Options): Promise<autocannon.Result & { seconds: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let last = started;
    const instance = autocannon({ ...options, tlsOptions: { rejectUnauthorized: false } } as autocannon.Options, (err, result) =>
      err ? reject(err) : resolve({ ...result, seconds: Number(last - started) / 1e9 }),
    );
    instance.on('response', () => (last = process.hrtime.bigint()));
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
  });
}

/** µs per operation, best of three rounds (the machine is shared with nothing else here, but warm-up matters). */
function microseconds(rounds: number, work: () => void): number {
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) work();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1000 / rounds);
  }
  return best;
}

async function main() {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'rampart-bench-vault-'));
  const server = await startServer(dataDir);
  try {
    const url = `https://127.0.0.1:${server.port}`;
    const client = new ApiClient(url);
    const token = (await client.login('administrator', PASSWORD)).access_token;
    await client.close();
    const headers = { authorization: `Bearer ${token}`, 'x-api-version': '1.1-rev0', 'content-type': 'application/json' };

    let n = 0;
    const clientCpu = process.cpuUsage();
    const adds = await run({
      url,
      connections: CONNECTIONS,
      amount: RECORDS,
      requests: [
        {
          method: 'POST',
          path: '/api/v1/credentials',
          headers,
          setupRequest: (req: any) => {
            const i = n++;
            return {
              ...req,
              body: JSON.stringify({
                type: 'Standard',
                username: `bench-user-${i}`,
                password: `bench-secret-${i}-${randomBytes(6).toString('hex')}`,
                description: `bench record ${i}`,
              }),
            };
          },
        },
      ],
    } as autocannon.Options);
    const addSeconds = adds.seconds;
    const addErrors = adds.non2xx + adds.errors;
    const cpu = process.cpuUsage(clientCpu);
    const clientShare = (cpu.user + cpu.system) / 1000 / (addSeconds * 1000);
    const addsPerSecond = (adds.requests.total - addErrors) / addSeconds;

    const pages = Math.ceil(RECORDS / PAGE);
    let p = 0;
    const reads = await run({
      url,
      connections: CONNECTIONS,
      amount: pages * 20,
      requests: [
        {
          method: 'GET',
          headers,
          setupRequest: (req: any) => ({ ...req, path: `/api/v1/credentials?limit=${PAGE}&skip=${(p++ % pages) * PAGE}&orderColumn=Username` }),
        },
      ],
    } as autocannon.Options);
    const readSeconds = reads.seconds;
    const pagesPerSecond = (reads.requests.total - reads.non2xx - reads.errors) / readSeconds;

    const ring = MasterKeyring.open(dataDir);
    const secret = 'bench-secret-0123456789-abcdef';
    const ctx = { kind: 'credentials', type: 'Standard', recordId: '3fa85f64-5717-4562-b3fc-2c963f66afa6', field: 'password' };
    const key = randomBytes(32);
    const bytes = Buffer.from(secret);
    const sealOpen = microseconds(20_000, () => openSecret(ring, sealSecret(ring, secret, ctx), ctx));
    const bare = microseconds(20_000, () => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([c.update(bytes), c.final()]);
      const d = createDecipheriv('aes-256-gcm', key, iv);
      d.setAuthTag(c.getAuthTag());
      Buffer.concat([d.update(sealed), d.final()]);
    });

    console.log(`bench/vault (${RECORDS} records, ${CONNECTIONS} connections, server log level ${process.env.BENCH_LOG_LEVEL ?? 'info'})`);
    console.log(
      `  add credentials:   ${addsPerSecond.toFixed(0)} records/s  (${adds.requests.total} requests in ${addSeconds.toFixed(2)} s, ${addErrors} errors, p99 ${adds.latency.p99} ms, load generator used ${(clientShare * 100).toFixed(0)}% of a core)  target >= 1000`,
    );
    console.log(
      `  list, pages of ${PAGE}: ${pagesPerSecond.toFixed(0)} pages/s = ${(pagesPerSecond * PAGE).toFixed(0)} records/s  (${reads.requests.total} pages in ${readSeconds.toFixed(2)} s, ${reads.non2xx + reads.errors} errors, p99 ${reads.latency.p99} ms)  target >= 200 pages/s`,
    );
    console.log(`  seal+open one secret: ${sealOpen.toFixed(2)} µs; bare AES-256-GCM encrypt+decrypt: ${bare.toFixed(2)} µs; ratio ${(sealOpen / bare).toFixed(2)}x`);
    if (addErrors > 0 || reads.non2xx + reads.errors > 0) process.exitCode = 1;
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
