/**
 * bench/backup (npm run bench:backup): a backup job through the real server
 * against vcsim, beside a plain HTTP GET of the same disk file.
 *
 * Prints, per round (BENCH_ROUNDS, default 3, each on a fresh repository and
 * job; the medians of the rounds' ratios come last, as this shared machine's
 * speed drifts within a run): GET throughput (the baseline); a full backup of a 1 GiB disk (half
 * pseudo-random, half zeros; compression Optimal) and its throughput ratio
 * against the GET (goal ≥ 0.5); two incrementals after changing 1 % of the
 * 1 MiB blocks, with changed-block tracking and without it (time ÷ full,
 * goals ≤ 0.10 and ≤ 0.60; bytes stored ÷ disk, goal ≤ 2 %); peak resident
 * memory of the server over every run (goal ≤ 300 MB). One run, all
 * ratios measured side by side on the same machine.
 *
 * The server runs as `npm start` runs it (dist bundle, its own process), so
 * its memory is its own: /proc VmRSS sampled every 20 ms, and the kernel's own
 * peak (VmHWM). The bench process (vcsim's disk writer, the API client) is
 * measured apart. Each run's session log is printed with the time of every
 * step, so the fixed cost of an incremental shows where it goes.
 * BENCH_PROFILE=<dir> writes a CPU profile of the server.
 * BENCH_REPOSITORY=nfs puts the repository on an NFS-Ganesha export (Rampart's
 * own NFSv3 client over loopback) instead of a folder of the backup server.
 */
import { createCipheriv } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ApiClient } from '../test/support/client.js';
import { cpuSeconds, startRampart } from './support/processes.js';
import { execSync } from 'node:child_process';
import { startVcsim, vcsimSession } from '../test/support/vcsim.js';
import { readDatastoreFile, writeDatastoreFile, type DatastoreFile } from '../src/vsphere/datastore-files.js';
import { retrieveFromContainer } from '../src/vsphere/property-collector.js';
import { captureVmConfig } from '../src/vsphere/vm-config.js';
import { reconfigureVm } from '../src/vsphere/vm-lifecycle.js';
import { typed } from '../src/vsphere/xml.js';
import { startGanesha, type Ganesha } from '../test/support/ganesha.js';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_DISK_MIB ?? 1024) * MiB;
const BLOCKS = SIZE / MiB;
/** Rounds (fresh repository and job each); the ratios printed last are their medians: this shared machine's speed drifts within a run. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ON_NFS = process.env.BENCH_REPOSITORY === 'nfs';

/** Block `i` of the disk: pseudo-random (AES-CTR keystream) in the first half, zeros in the second; `version` changes the chosen blocks. */
function block(i: number, changed: Set<number>, version: number): Buffer {
  if (i >= BLOCKS / 2) return Buffer.alloc(MiB, changed.has(i) ? version : 0);
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(i, 0);
  iv.writeUInt32BE(changed.has(i) ? version : 0, 4);
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), iv);
  return cipher.update(Buffer.alloc(MiB));
}

function content(changed: Set<number>, version: number): Readable {
  let i = 0;
  return new Readable({
    read() {
      this.push(i < BLOCKS ? block(i++, changed, version) : null);
    },
  });
}

/** 1 % of the blocks, spread over both halves, different for each version. */
function onePercent(version: number): Set<number> {
  const n = Math.max(1, Math.round(BLOCKS / 100));
  return new Set(Array.from({ length: n }, (_, k) => (k * 97 + version * 13) % BLOCKS));
}

/** Bytes of the chunk files of a repository folder (what a run stored is the growth). */
async function chunkBytes(repo: string): Promise<number> {
  const entries = await readdir(path.join(repo, 'rampart/chunks'), { recursive: true, withFileTypes: true }).catch(() => []);
  let sum = 0;
  for (const e of entries) if (e.isFile()) sum += (await stat(path.join(e.parentPath, e.name))).size;
  return sum;
}

async function memoryOf(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

const PASSWORD = 'Bench-Backup-Passw0rd!';

async function main() {
  const vcsim = await startVcsim({ cbt: true });
  const root = await mkdtemp(path.join(tmpdir(), 'rampart-bench-backup-'));
  const rampart = await startRampart(path.join(root, 'data'), PASSWORD);
  const api = new ApiClient(rampart.url);
  const pid = rampart.child.process.pid!;
  let ganesha: Ganesha | undefined;
  try {
    if (ON_NFS) ganesha = await startGanesha();
    // One VM's first disk made 1 GiB and filled.
    const session = await vcsimSession(vcsim);
    let vm: { name: string; moref: string };
    let file: DatastoreFile;
    try {
      const [first] = await retrieveFromContainer(session, [{ type: 'VirtualMachine', pathSet: ['name'] }]);
      const config = await captureVmConfig(session, first!.obj);
      const disk = config.disks[0]!;
      await reconfigureVm(session, first!.obj, {
        deviceChange: typed('VirtualDeviceConfigSpec', {
          operation: 'edit',
          device: typed('VirtualDisk', {
            key: disk.key,
            deviceInfo: typed('Description', { label: disk.label, summary: '' }),
            backing: typed('VirtualDiskFlatVer2BackingInfo', { fileName: disk.fileName, diskMode: disk.diskMode ?? 'persistent', thinProvisioned: true }),
            controllerKey: disk.controllerKey,
            unitNumber: disk.unitNumber,
            capacityInKB: SIZE / 1024,
            capacityInBytes: SIZE,
          }),
        }),
      });
      file = { datacenter: config.datacenter, datastore: disk.datastore.name, path: disk.flatPath };
      await writeDatastoreFile(session, file, content(new Set(), 0), SIZE);
      vm = { name: config.name, moref: first!.obj.value };
    } finally {
      await session.logout();
    }

    // Baseline: the same file by plain HTTP GET, discarded.
    const plainGet = async () => {
      const getSession = await vcsimSession(vcsim);
      try {
        const started = performance.now();
        const { stream } = await readDatastoreFile(getSession, file);
        let bytes = 0;
        for await (const part of stream) bytes += (part as Buffer).length;
        if (bytes !== SIZE) throw new Error(`GET returned ${bytes} bytes`);
        return (performance.now() - started) / 1000;
      } finally {
        await getSession.logout();
      }
    };

    const token = (await api.login('administrator', PASSWORD)).access_token;
    const post = async (url: string, json: unknown) => {
      const res = await api.post(url, { token, json });
      if (res.status !== 201) throw new Error(`${url}: ${res.status} ${res.text}`);
      return res.body;
    };
    const wait = async (id: string) => {
      for (;;) {
        const s = (await api.get(`/api/v1/sessions/${id}`, { token })).body;
        if (s.state === 'Stopped') {
          if (s.result.result !== 'Success') throw new Error(`session ${s.name}: ${s.result.result} ${s.result.message}`);
          return s;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    const creds = await post('/api/v1/credentials', { type: 'Standard', username: vcsim.username, password: vcsim.password });
    await wait(
      (
        await post('/api/v1/backupInfrastructure/managedServers', {
          name: '127.0.0.1',
          description: '',
          type: 'ViHost',
          credentialsId: creds.id,
          port: vcsim.port,
          certificateThumbprint: vcsim.thumbprint,
        })
      ).id,
    );
    const servers = (await api.get('/api/v1/backupInfrastructure/managedServers', { token })).body.data as { id: string; type: string }[];
    const backupServerId = servers.find((m) => m.type === 'LinuxHost')!.id;
    const vcsimPid = Number(
      execSync(`pgrep -P ${process.pid}`)
        .toString()
        .trim()
        .split('\n')
        .find((p) => execSync(`cat /proc/${p}/comm`).toString().trim() === 'vcsim'),
    );
    const cpu = async () => ({ server: await cpuSeconds(pid), vcsim: vcsimPid ? await cpuSeconds(vcsimPid) : 0 });

    const change = async (version: number) => {
      const s = await vcsimSession(vcsim);
      try {
        await writeDatastoreFile(s, file, content(onePercent(version), version), SIZE);
      } finally {
        await s.logout();
      }
    };

    /** One round: a fresh repository and job; the plain GET, the full, 1 % changed + CBT incremental, 1 % changed + incremental without CBT. */
    const round = async (k: number) => {
      const getSeconds = await plainGet();
      const repoFolder = path.join(ganesha ? ganesha.exportDir : root, `repo-${k}`);
      const mountServer = { mountServerId: backupServerId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false };
      const repo = await post(
        '/api/v1/backupInfrastructure/repositories',
        ganesha
          ? {
              type: 'Nfs',
              name: `bench-${k}`,
              description: '',
              share: { sharePath: `${ganesha.sharePath}/repo-${k}`, gatewayServer: { autoSelect: true } },
              repository: {},
              mountServer,
            }
          : { type: 'LinuxLocal', name: `bench-${k}`, description: '', hostId: backupServerId, repository: { path: repoFolder }, mountServer },
      );
      await wait(repo.id);
      const spec = (cbt: boolean) => ({
        name: `bench-${k}`,
        description: '',
        type: 'Backup',
        isHighPriority: false,
        virtualMachines: { includes: [{ hostName: '127.0.0.1', name: vm.name, type: 'VirtualMachine', objectId: vm.moref }] },
        storage: {
          backupRepositoryId: repo.resourceId,
          backupProxies: { autoSelection: true },
          retentionPolicy: { type: 'RestorePoints', quantity: 7 },
          advancedSettings: {
            backupModeType: 'Incremental',
            storageData: { compressionLevel: 'Optimal', storageOptimization: 'LocalTarget' },
            vSphere: { changedBlockTracking: { isEnabled: cbt } },
          },
        },
        guestProcessing: { appAwareProcessing: { isEnabled: false }, guestFSIndexing: { isEnabled: false } },
        schedule: { runAutomatically: false },
      });
      const job = (await api.post('/api/v1/jobs', { token, json: spec(true) })).body;
      const run = async () => {
        const before = await chunkBytes(repoFolder);
        const cpu0 = await cpu();
        const started = performance.now();
        const s = await post(`/api/v1/jobs/${job.id}/start`, { performActiveFull: false });
        await wait(s.id);
        const seconds = (performance.now() - started) / 1000;
        const cpu1 = await cpu();
        const logs = (await api.get(`/api/v1/sessions/${s.id}/logs`, { token })).body;
        const steps = (logs.records as { startTime: string; updateTime: string; title: string }[])
          .map((r) => `${String(Date.parse(r.updateTime) - Date.parse(r.startTime)).padStart(6)} ms  ${r.title}`)
          .join('\n');
        return { seconds, stored: (await chunkBytes(repoFolder)) - before, steps, serverCpu: cpu1.server - cpu0.server, vcsimCpu: cpu1.vcsim - cpu0.vcsim };
      };
      const full = await run();
      await change(2 * k + 1);
      const withCbt = await run();
      await api.request('PUT', `/api/v1/jobs/${job.id}`, { token, json: { ...spec(false), id: job.id } });
      await change(2 * k + 2);
      const withoutCbt = await run();
      return { getSeconds, full, withCbt, withoutCbt };
    };

    const idle = await memoryOf(pid);
    let peakRss = idle.rss;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakRss = Math.max(peakRss, (await memoryOf(pid)).rss);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const rounds = [];
    try {
      for (let k = 0; k < ROUNDS; k++) rounds.push(await round(k));
    } finally {
      sampling = false;
      await sampler;
    }
    const end = await memoryOf(pid);

    const mib = (b: number) => (b / MiB).toFixed(1);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    type Run = Awaited<ReturnType<typeof round>>['full'];
    const show = (r: Run) => `${r.seconds.toFixed(2)} s (CPU: server ${r.serverCpu.toFixed(1)} s, vcsim ${r.vcsimCpu.toFixed(1)} s)`;
    console.log(
      `disk ${SIZE / MiB} MiB (half pseudo-random, half zeros), chunks 1 MiB, zstd Optimal; vcsim on this machine; ${ROUNDS} round(s), each on a fresh repository and job; repository ${ganesha ? `on NFS (${ganesha.sharePath})` : 'a local folder'}`,
    );
    for (const [k, r] of rounds.entries()) {
      console.log(`round ${k + 1}:`);
      console.log(`  plain HTTP GET of the flat file      ${r.getSeconds.toFixed(2)} s  ${(SIZE / MiB / r.getSeconds).toFixed(0)} MiB/s`);
      console.log(`  full backup (API → session Success)  ${show(r.full)}  ${(SIZE / MiB / r.full.seconds).toFixed(0)} MiB/s  stored ${mib(r.full.stored)} MiB`);
      console.log(`  incremental, 1 % changed, with CBT   ${show(r.withCbt)}  stored ${mib(r.withCbt.stored)} MiB = ${((r.withCbt.stored / SIZE) * 100).toFixed(2)} % of the disk`);
      console.log(
        `  incremental, 1 % changed, no CBT     ${show(r.withoutCbt)}  stored ${mib(r.withoutCbt.stored)} MiB = ${((r.withoutCbt.stored / SIZE) * 100).toFixed(2)} % of the disk`,
      );
      console.log(
        `  ratios: full throughput ÷ GET ${(r.getSeconds / r.full.seconds).toFixed(2)}, CBT ÷ full ${(r.withCbt.seconds / r.full.seconds).toFixed(2)}, no CBT ÷ full ${(r.withoutCbt.seconds / r.full.seconds).toFixed(2)} (CPU of server + vcsim: ${((r.withoutCbt.serverCpu + r.withoutCbt.vcsimCpu) / (r.full.serverCpu + r.full.vcsimCpu)).toFixed(2)})`,
      );
    }
    console.log(`median of the rounds:`);
    console.log(`  full backup throughput ÷ GET        ${median(rounds.map((r) => r.getSeconds / r.full.seconds)).toFixed(2)}   (goal ≥ 0.5)`);
    console.log(`  incremental with CBT, time ÷ full   ${median(rounds.map((r) => r.withCbt.seconds / r.full.seconds)).toFixed(2)}   (goal ≤ 0.10)`);
    console.log(`  incremental no CBT, time ÷ full     ${median(rounds.map((r) => r.withoutCbt.seconds / r.full.seconds)).toFixed(2)}   (goal ≤ 0.60)`);
    console.log(
      `server resident memory: ${(idle.rss / 1e6).toFixed(0)} MB idle before the first full, peak over every run ${(peakRss / 1e6).toFixed(0)} MB sampled, ${(end.hwm / 1e6).toFixed(0)} MB kernel peak (VmHWM)   (goal ≤ 300 MB)`,
    );
    console.log(`bench process (vcsim disk writer, API client), for reference: ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
    const last = rounds.at(-1)!;
    console.log(`\nsession steps of the last round, full:\n${last.full.steps}\nincremental with CBT:\n${last.withCbt.steps}\nincremental without CBT:\n${last.withoutCbt.steps}`);
  } finally {
    await api.close().catch(() => undefined);
    await rampart.stop();
    await vcsim.stop();
    await ganesha?.stop();
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
