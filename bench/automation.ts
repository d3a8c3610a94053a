// bench/automation: imports 10,000 credentials records through the HTTPS API into a
// fresh server on SQLite, as one automation import, and reports objects/s and how
// often the session's progress changed while it ran (polled every 100 ms).
//   npm run bench:automation     (BENCH_RECORDS=10000 BENCH_LOG_LEVEL=warn)
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiClient } from '../test/support/client.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 10_000);
const PASSWORD = 'Bench-Passw0rd!';
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

async function startServer(dataDir: string) {
  const proc = spawn(process.execPath, [...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []), '--import', 'tsx', path.join(root, 'src/main.ts'), 'serve'], {
    cwd: root,
    env: { ...process.env, RAMPART_DATA_DIR: dataDir, RAMPART_PORT: '0', RAMPART_HOST: '127.0.0.1', RAMPART_ADMIN_PASSWORD: PASSWORD, RAMPART_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stderr!.on('data', (c) => (out += c));
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.on('data', (c: Buffer) => {
      if (!out.includes('is ready')) out += c.toString();
      const m = /is ready on https:\/\/[^:]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  return { port, stop: () => new Promise<void>((r) => (proc.exitCode !== null ? r() : (proc.once('exit', () => r()), proc.kill('SIGTERM')))) };
}

async function main() {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'rampart-bench-automation-'));
  const server = await startServer(dataDir);
  const api = new ApiClient(`https://127.0.0.1:${server.port}`);
  try {
    const token = (await api.login('administrator', PASSWORD)).access_token;
    // Half Standard, half Linux (with SSH settings), every one with a password to seal.
    const credentials = Array.from({ length: RECORDS }, (_, i) =>
      i % 2 === 0
        ? { type: 'Standard', username: `CORP\\svc-${i}`, password: `Pw-${i}-secret`, description: `bench ${i}`, tag: `bench-${i}` }
        : { type: 'Linux', username: `linux-${i}`, password: `Pw-${i}-secret`, description: `bench ${i}`, tag: `bench-${i}`, linuxAdditionalSettings: { SSHPort: 22, autoElevated: true } },
    );
    const body = JSON.stringify({ credentials });
    const started = process.hrtime.bigint();
    const res = await api.post('/api/v1/automation/credentials/import', { token, rawBody: body, headers: { 'content-type': 'application/json' } });
    if (res.status !== 201) throw new Error(`import: ${res.status} ${res.text}`);
    const accepted = Number(process.hrtime.bigint() - started) / 1e6;
    const changes: number[] = [];
    let last = -1;
    let session = res.body;
    while (session.state !== 'Stopped') {
      await new Promise((r) => setTimeout(r, 100));
      session = (await api.get(`/api/v1/automation/sessions/${res.body.id}`, { token })).body;
      if (session.progressPercent !== last) {
        last = session.progressPercent;
        changes.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
    }
    const totalMs = Number(process.hrtime.bigint() - started) / 1e6;
    const gaps = changes.slice(1).map((t, i) => t - changes[i]!);
    const count = (await api.get('/api/v1/credentials?limit=0', { token })).body.pagination.total;
    console.log(`automation import: ${RECORDS} credentials records (${(body.length / 1e6).toFixed(1)} MB body) on SQLite`);
    console.log(`  201 answered after ${accepted.toFixed(0)} ms (parse + schema check + session start)`);
    console.log(`  session ended ${session.result.result} after ${totalMs.toFixed(0)} ms: ${((RECORDS * 1000) / totalMs).toFixed(0)} objects/s (target ≥ 2000/s); ${count} records in the database`);
    console.log(`  progress changed ${changes.length} times; longest gap between changes ${gaps.length ? Math.max(...gaps).toFixed(0) : '-'} ms (target ≤ 1000 ms)`);
  } finally {
    await api.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
