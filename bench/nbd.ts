// bench/nbd: nbdcopy of a 1 GiB export to /dev/null, against reading the same BlockSource
// in-process, in one run (BENCH_ROUNDS rounds, alternating; the median of the per-round ratios is reported).
// A third figure reads the same disk through a copy-on-write overlay with 64 MiB written.
//   npm run bench:nbd      (BENCH_NBD_MIB=1024 BENCH_ROUNDS=5)
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bufferBlockSource, type BlockSource } from '../src/nbd/block-source.js';
import { CopyOnWriteOverlay } from '../src/nbd/overlay.js';
import { NbdServer } from '../src/nbd/server.js';
import { median } from './support/stats.js';

const exec = promisify(execFile);
const MIB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_NBD_MIB ?? 1024) * MIB;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/**
 * In-process reads, in two shapes: 4 MiB pieces × 4 in flight (what a restore writer does) and
 * nbdcopy's own shape, 256 KiB × 16; the faster of the two is the baseline, so the ratio is not
 * flattered by a slow baseline.
 */
const SHAPES = [
  { piece: 4 * MIB, inFlight: 4 },
  { piece: 256 * 1024, inFlight: 16 },
];

async function readInProcess(source: BlockSource, { piece: PIECE, inFlight: IN_FLIGHT }: { piece: number; inFlight: number }): Promise<number> {
  const started = process.hrtime.bigint();
  let next = 0;
  let checksum = 0;
  const worker = async () => {
    while (next < source.size) {
      const offset = next;
      next += PIECE;
      const data = await source.read(offset, Math.min(PIECE, source.size - offset));
      checksum ^= data[0]!; // touch the bytes, as a consumer would
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  void checksum;
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function sequentially<T>(tasks: Array<() => Promise<T>>): Promise<T[]> {
  const out: T[] = [];
  for (const task of tasks) out.push(await task());
  return out;
}

async function nbdcopyToNull(uri: string): Promise<number> {
  const started = process.hrtime.bigint();
  await exec('nbdcopy', [uri, '/dev/null']);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'rampart-bench-nbd-'));
  // Random bytes (nothing compresses or shortcuts zeroes); a fresh Buffer per read, as the chunk store's reader returns.
  const disk = Buffer.allocUnsafe(SIZE);
  for (let o = 0; o < SIZE; o += 64 * MIB) randomBytes(Math.min(64 * MIB, SIZE - o)).copy(disk, o);
  const source = bufferBlockSource(disk);
  const overlay = await CopyOnWriteOverlay.open({ source, redoPath: path.join(dir, 'bench.redo') });
  for (let o = 0; o < 64 * MIB; o += 4 * MIB) await overlay.write(o * 8 + 12345, randomBytes(4 * MIB - 12345 * 2));
  const server = new NbdServer();
  await server.listen({ socketPath: path.join(dir, 'nbd.sock') });
  server.addExport({ name: 'disk', device: source });
  server.addExport({ name: 'overlay', device: overlay });
  try {
    const inProcess: number[] = [];
    const nbd: number[] = [];
    const throughOverlay: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      inProcess.push(Math.min(...(await sequentially(SHAPES.map((shape) => () => readInProcess(source, shape))))));
      nbd.push(await nbdcopyToNull(server.uri('disk')));
      throughOverlay.push(await nbdcopyToNull(server.uri('overlay')));
    }
    const mibs = (seconds: number) => SIZE / MIB / seconds;
    // The ratio of each round (its three runs are back to back), then the median: this shared
    // machine's speed drifts within a run, and a ratio of medians would mix rounds.
    const ratios = nbd.map((seconds, i) => inProcess[i]! / seconds);
    const overlayRatios = throughOverlay.map((seconds, i) => inProcess[i]! / seconds);
    console.log(`disk: ${SIZE / MIB} MiB, ${ROUNDS} rounds (medians)`);
    console.log(`in-process BlockSource reads (best shape):           ${mibs(median(inProcess)).toFixed(0)} MiB/s`);
    console.log(`nbdcopy export → /dev/null:                          ${mibs(median(nbd)).toFixed(0)} MiB/s`);
    console.log(`nbdcopy overlay (64 MiB in redo) → /dev/null:        ${mibs(median(throughOverlay)).toFixed(0)} MiB/s`);
    console.log(`per-round NBD ÷ in-process: ${ratios.map((r) => r.toFixed(2)).join(' ')}`);
    console.log(`ratio NBD ÷ in-process: ${median(ratios).toFixed(2)} (target ≥ 0.5); overlay ÷ in-process: ${median(overlayRatios).toFixed(2)}`);
  } finally {
    await server.close();
    await overlay.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
