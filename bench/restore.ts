// bench/restore: three ratios measured in one run against vcsim (the simulator built by .ci/run or test/support/vcsim.ts):
//   1. instant recovery: time to Mounted for a 4 GiB disk ÷ for a 256 MiB disk (goal ≤ 1.5: nothing is copied);
//   2. nbdcopy of a published export to /dev/null ÷ reading + decoding the same chunks in-process (goal ≥ 0.5);
//   3. entire VM restore throughput ÷ a plain HTTP PUT of the same bytes to the same datastore (goal ≥ 0.5).
//   npm run bench:restore     (BENCH_RESTORE_MIB=256, the disk of figures 2 and 3)
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beginRestorePoint, localFolderBackend, openChunkStore, openDisk, readRestorePoint, type ChunkStore } from '../src/chunkstore/index.js';
import { mountRestorePoint, newLiveMount, unmountRestorePoint } from '../src/mover/instant-recovery.js';
import { restoreEntireVm } from '../src/mover/vsphere-restore.js';
import { ExportPublisher, NbdServer } from '../src/nbd/index.js';
import type { SessionContext } from '../src/sessions/runner.js';
import { writeDatastoreFile } from '../src/vsphere/datastore-files.js';
import { morefValue, retrieveFromContainer } from '../src/vsphere/property-collector.js';
import { captureVmConfig } from '../src/vsphere/vm-config.js';
import { destroyEntity } from '../src/vsphere/vm-lifecycle.js';
import { startVcsim, vcsimSession } from '../test/support/vcsim.js';

const exec = promisify(execFile);
const MIB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_RESTORE_MIB ?? 256) * MIB;

const ctx: SessionContext = {
  sessionId: 'bench',
  signal: new AbortController().signal,
  log: async () => 0,
  logMany: async () => undefined,
  updateLog: async () => undefined,
  progress: async () => undefined,
};

/** Pseudo-random bytes (incompressible, like real data) for the first `dataBytes`, zeros after. */
function content(offset: number, length: number, dataBytes: number): Buffer {
  const out = Buffer.alloc(length);
  for (let o = 0; o < length && offset + o < dataBytes; o += 32)
    createHash('sha256')
      .update(`${offset + o}`)
      .digest()
      .copy(out, o);
  return out;
}

async function writePoint(store: ChunkStore, vmConfig: unknown, size: number, dataBytes: number) {
  const ref = { backupId: randomUUID(), objectId: 'vm-bench', restorePointId: randomUUID() };
  const writer = await beginRestorePoint(store, { ...ref, compressionLevel: 1, object: { name: 'bench', moref: 'vm-bench', config: vmConfig } });
  await writer.writeDisk({ key: '2000', name: 'Hard disk 1', chunkSize: 4 * MIB }, { size, read: async (offset, length) => content(offset, length, dataBytes) });
  await writer.commit();
  return readRestorePoint(store, ref);
}

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'rampart-bench-restore-'));
  const vcsim = await startVcsim();
  const session = await vcsimSession(vcsim);
  const nbd = new NbdServer();
  try {
    await nbd.listen({ socketPath: path.join(dir, 'nbd.sock') });
    const store = await openChunkStore(localFolderBackend(path.join(dir, 'repo')), { create: true });
    const vms = await retrieveFromContainer(session, [{ type: 'VirtualMachine', pathSet: ['name', 'resourcePool', 'parent', 'runtime.host'] }]);
    const source = vms[0]!;
    const config = await captureVmConfig(session, source.obj);
    const place = { pool: source.props.get('resourcePool'), folder: source.props.get('parent'), host: source.props.get('runtime.host') };
    const pool = morefValue(place.pool)!;
    const folder = morefValue(place.folder)!;
    const host = morefValue(place.host)!;

    // 1. Instant recovery: mount time for 256 MiB and 4 GiB disks (1 MiB of data each; the rest reads as zeros).
    const mountTime = async (size: number) => {
      const point = await writePoint(store, { ...config, disks: [{ ...config.disks[0]!, capacityInBytes: size }] }, size, MIB);
      const mountId = randomUUID();
      const live = newLiveMount(path.join(dir, 'ir'), mountId);
      const started = process.hrtime.bigint();
      await mountRestorePoint(
        ctx,
        { session, nbd, store, point, mountId, place: { host, pool, folder, vmName: `ir-${size}`, redoFolder: path.join(dir, 'redo'), powerUp: true } },
        live,
        async () => undefined,
      );
      const took = seconds(started);
      await unmountRestorePoint(live.record, { session, nbd, live });
      return took;
    };
    const small = [];
    const large = [];
    for (let i = 0; i < 3; i++) {
      small.push(await mountTime(256 * MIB));
      large.push(await mountTime(4096 * MIB));
    }
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
    const irRatio = median(large) / median(small);
    console.log(`instant recovery: mount 4 GiB ${median(large).toFixed(3)} s, 256 MiB ${median(small).toFixed(3)} s → ratio ${irRatio.toFixed(2)} (goal ≤ 1.5)`);

    // 2. nbdcopy of a published export ÷ in-process read + decode of the same chunks.
    const point = await writePoint(store, config, SIZE, SIZE);
    const reader = await openDisk(store, point, '2000');
    let started = process.hrtime.bigint();
    for await (const chunk of reader.stream({ readAhead: 4 })) void chunk[0];
    const inProcess = SIZE / seconds(started);
    const published = new ExportPublisher(nbd).publish(await openDisk(store, point, '2000'), { ttlMs: 600_000, logLabel: 'bench' });
    started = process.hrtime.bigint();
    await exec('nbdcopy', [published.uri, 'null:']);
    const viaNbd = SIZE / seconds(started);
    console.log(`export: nbdcopy ${(viaNbd / MIB).toFixed(0)} MiB/s, in-process ${(inProcess / MIB).toFixed(0)} MiB/s → ratio ${(viaNbd / inProcess).toFixed(2)} (goal ≥ 0.5)`);

    // 3. Entire VM restore ÷ plain PUT of the same bytes to the same datastore.
    const datastore = config.disks[0]!.datastore.name;
    started = process.hrtime.bigint();
    const restored = await restoreEntireVm({
      ctx,
      session,
      store,
      point,
      powerUp: false,
      target: { kind: 'Customized', vmName: 'bench-restored', folder, pool, host, datastore, diskType: 'Thin' },
    });
    const restoreRate = SIZE / seconds(started);
    const bytes = Buffer.concat([await reader.read(0, SIZE)]);
    started = process.hrtime.bigint();
    await writeDatastoreFile(session, { datacenter: config.datacenter, datastore, path: 'bench-plain.bin' }, bytes, bytes.length);
    const putRate = SIZE / seconds(started);
    console.log(
      `entire VM restore: ${(restoreRate / MIB).toFixed(0)} MiB/s, plain PUT ${(putRate / MIB).toFixed(0)} MiB/s → ratio ${(restoreRate / putRate).toFixed(2)} (goal ≥ 0.5)`,
    );
    await destroyEntity(session, restored.vm);
  } finally {
    await nbd.close();
    await session.logout().catch(() => undefined);
    await vcsim.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
