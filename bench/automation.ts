// bench/automation: imports 10,000 credentials records, then 1,000 repositories (local
// folders on the backup server itself, each checked as adding by hand checks it)
// through the HTTPS API into a fresh server on SQLite, each as one automation import,
// and reports objects/s and how often the session's progress changed (polled every 100 ms).
//   npm run bench:automation     (BENCH_RECORDS=10000 BENCH_REPOSITORIES=1000 BENCH_LOG_LEVEL=warn)
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiClient } from '../test/support/client.js';
import { startRampart } from './support/processes.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 10_000);
const REPOSITORIES = Number(process.env.BENCH_REPOSITORIES ?? 1_000);
const PASSWORD = 'Bench-Passw0rd!';

/** The server as `npm start` runs it (log level from BENCH_LOG_LEVEL, default 'warn'). */
function startServer(dataDir: string) {
  return startRampart(dataDir, PASSWORD, { RAMPART_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' });
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
        : {
            type: 'Linux',
            username: `linux-${i}`,
            password: `Pw-${i}-secret`,
            description: `bench ${i}`,
            tag: `bench-${i}`,
            linuxAdditionalSettings: { SSHPort: 22, autoElevated: true },
          },
    );
    const body = JSON.stringify({ credentials });
    const run = await timedImport(api, token, 'credentials', body);
    const count = (await api.get('/api/v1/credentials?limit=0', { token })).body.pagination.total;
    report(`${RECORDS} credentials records (${(body.length / 1e6).toFixed(1)} MB body)`, RECORDS, run, 2000, count);

    // Repositories on the backup server itself: each import runs the folder checks (create, probe, write, measure).
    const host = (await api.get('/api/v1/backupInfrastructure/managedServers', { token })).body.data[0].name as string;
    const folders = path.join(dataDir, 'bench-repositories');
    const LinuxLocalRepositories = Array.from({ length: REPOSITORIES }, (_, i) => ({
      name: `bench-repo-${i}`,
      description: `bench ${i}`,
      tag: '',
      type: 'LinuxLocal',
      hostName: host,
      repository: { path: path.join(folders, `repo-${i}`) },
      mountServer: { mountServerName: host, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
    }));
    const repoRun = await timedImport(api, token, 'repositories', JSON.stringify({ LinuxLocalRepositories }));
    const repoCount = (await api.get('/api/v1/backupInfrastructure/repositories?limit=0', { token })).body.pagination.total;
    report(`${REPOSITORIES} LinuxLocal repositories (temp folders on the backup server)`, REPOSITORIES, repoRun, undefined, repoCount);
  } finally {
    await api.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** One import through the API, timed from the request to the session's end, with the progress changes seen. */
async function timedImport(api: ApiClient, token: string, kind: string, body: string) {
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  const res = await api.post(`/api/v1/automation/${kind}/import`, { token, rawBody: body, headers: { 'content-type': 'application/json' } });
  if (res.status !== 201) throw new Error(`import ${kind}: ${res.status} ${res.text}`);
  const accepted = elapsed();
  const changes: number[] = [];
  let last = -1;
  let session = res.body;
  while (session.state !== 'Stopped') {
    await new Promise((r) => setTimeout(r, 100));
    session = (await api.get(`/api/v1/automation/sessions/${res.body.id}`, { token })).body;
    if (session.progressPercent !== last) {
      last = session.progressPercent;
      changes.push(elapsed());
    }
  }
  return { accepted, totalMs: elapsed(), changes, result: session.result.result as string };
}

function report(what: string, objects: number, run: Awaited<ReturnType<typeof timedImport>>, target: number | undefined, stored: number) {
  const gaps = run.changes.slice(1).map((t, i) => t - run.changes[i]!);
  console.log(`automation import: ${what} on SQLite`);
  console.log(`  201 answered after ${run.accepted.toFixed(0)} ms (parse + schema check + session start)`);
  console.log(
    `  session ended ${run.result} after ${run.totalMs.toFixed(0)} ms: ${((objects * 1000) / run.totalMs).toFixed(0)} objects/s${target ? ` (target ≥ ${target}/s)` : ''}; ${stored} in the database`,
  );
  console.log(`  progress changed ${run.changes.length} times; longest gap between changes ${gaps.length ? Math.max(...gaps).toFixed(0) : '-'} ms (target ≤ 1000 ms)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
