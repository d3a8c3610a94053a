// bench/repositories: 1,000 repositories, 100 of them on an S3 service point that
// accepts connections and never answers. Prints the median latency of
// GET …/repositories/states (figures come from the stored background refresh),
// also while a refresh pass runs, and the time of a full refresh pass with bounded concurrency.
//   npm run bench:repositories   (BENCH_REPOSITORIES=1000 BENCH_DEAD=100 BENCH_REQUESTS=200)
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer } from '../src/server.js';
import { ApiClient } from '../test/support/client.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, startBlackHole, startLocalS3 } from '../test/support/s3.js';
import { median } from './support/stats.js';

const TOTAL = Number(process.env.BENCH_REPOSITORIES ?? 1000);
const DEAD = Number(process.env.BENCH_DEAD ?? 100);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const PASSWORD = 'Bench-Passw0rd!';

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;

async function main() {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'rampart-bench-repos-'));
  const s3 = await startLocalS3(['bench']);
  await s3.putCapacityXml('bench', { capacity: 100 * 1024 ** 4, available: 40 * 1024 ** 4, used: 60 * 1024 ** 4 });
  const hole = await startBlackHole();
  const config = loadConfig({
    RAMPART_DATA_DIR: dataDir,
    RAMPART_PORT: '0',
    RAMPART_HOST: '127.0.0.1',
    RAMPART_ADMIN_PASSWORD: PASSWORD,
    RAMPART_LOG_LEVEL: 'warn',
    RAMPART_REPOSITORY_REFRESH_SECONDS: '0',
    RAMPART_REPOSITORY_TIMEOUT_MS: '3000',
    ...process.env,
  });
  const server = await startServer(config, createLogger(config, new PassThrough().resume()));
  const api = new ApiClient(`https://127.0.0.1:${server.port}`);
  try {
    const cloud = await server.vault.cloudCredentials.add({ type: 'Amazon', accessKey: S3_ACCESS_KEY, secretKey: S3_SECRET_KEY, description: 'bench' });
    const backupServerId = (await server.store.db.selectFrom('settings').select('value').where('key', '=', 'backup_server_id').executeTakeFirstOrThrow()).value;
    const reachable = TOTAL - DEAD;
    const localCount = Math.floor(reachable / 2);
    const rows = [];
    const now = new Date().toISOString();
    for (let i = 0; i < TOTAL; i++) {
      const id = randomUUID();
      const local = i < localCount;
      const dead = i >= reachable;
      const folder = path.join(dataDir, 'repos', `r${i}`);
      if (local) await mkdir(folder, { recursive: true });
      const mountServer = { mountServerId: backupServerId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false };
      const settings = local
        ? { hostId: backupServerId, repository: { path: folder }, mountServer }
        : {
            account: {
              servicePoint: dead ? `http://127.0.0.1:${hole.port}` : s3.endpoint,
              regionId: 'us-east-1',
              credentialsId: cloud.id,
              connectionSettings: { connectionType: 'Direct' },
            },
            bucket: { bucketName: 'bench', folderName: `f${i}` },
            mountServer,
          };
      const name = `repo-${String(i).padStart(4, '0')}`;
      rows.push({
        id,
        type: local ? 'LinuxLocal' : 'S3Compatible',
        name,
        name_key: name,
        description: '',
        description_key: '',
        unique_id: '',
        host_id: local ? backupServerId : null,
        host_name: local ? 'backup server' : null,
        path: local ? folder : `bench/f${i}`,
        path_key: local ? folder : `bench/f${i}`,
        settings: JSON.stringify(settings),
        access: '{}',
        capacity_gb: 0,
        free_gb: 0,
        used_gb: 0,
        is_online: 0,
        capacity_source: 'unknown',
        measured_at: null,
        state_error: null,
        creation_time: now,
      });
    }
    for (let i = 0; i < rows.length; i += 100)
      await server.store.db
        .insertInto('repositories')
        .values(rows.slice(i, i + 100))
        .execute();
    const token = (await api.login('administrator', PASSWORD)).access_token;

    const states = async () => {
      const t0 = performance.now();
      const res = await api.get('/api/v1/backupInfrastructure/repositories/states', { token });
      if (res.status !== 200 || res.body.pagination.total !== TOTAL) throw new Error(`states answered ${res.status}`);
      return performance.now() - t0;
    };
    for (let i = 0; i < 10; i++) await states();

    // Full refresh while the states list keeps being asked for.
    const during: number[] = [];
    let refreshing = true;
    const pass = server.repositories.refresher.refreshAll().finally(() => (refreshing = false));
    while (refreshing) during.push(await states());
    const summary = await pass;
    const reachableDone = await server.store.db
      .selectFrom('repositories')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('is_online', '=', 1)
      .executeTakeFirst();

    const quiet: number[] = [];
    for (let i = 0; i < REQUESTS; i++) quiet.push(await states());

    console.log(`repositories: ${TOTAL} (${localCount} local folders, ${reachable - localCount} S3 on a local s3rver, ${DEAD} on a service point that never answers)`);
    console.log(
      `full refresh: ${(summary.elapsedMs / 1000).toFixed(2)} s (measured ${summary.measured}, failed ${summary.failed}, skipped after host timeout ${summary.skipped}; online now ${Number(reachableDone?.n)}), concurrency ${config.repositoryRefreshConcurrency}, per-host ${Math.max(1, Math.floor(config.repositoryRefreshConcurrency / 4))}, timeout ${config.repositoryTimeoutMs} ms  [target <= 30 s]`,
    );
    console.log(`GET states (page of 200 of ${TOTAL}): median ${median(quiet).toFixed(1)} ms, p95 ${p95(quiet).toFixed(1)} ms over ${REQUESTS} requests  [target median <= 50 ms]`);
    console.log(`GET states during the refresh pass: median ${median(during).toFixed(1)} ms, p95 ${p95(during).toFixed(1)} ms over ${during.length} requests`);
  } finally {
    await api.close();
    await server.close();
    await hole.stop();
    await s3.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
