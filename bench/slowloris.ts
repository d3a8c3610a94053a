// bench/slowloris: latency of GET /api/v1/serverTime (p50/p99 of sequential requests on one
// kept-alive connection) with nothing else open, then while BENCH_ATTACK connections (default
// 1,000) stay open: half idle TCP connections that never start TLS, half slowloris connections
// that finished TLS and send one header byte every 5 s. Connections the server drops (handshake
// and header timeouts) are reopened at once, so the count stays up the whole time, as an
// attacker would keep it. Prints both percentiles, the p99 ratio and how many were reopened.
//   npm run bench:slowloris      (BENCH_SECONDS=25 BENCH_ATTACK=1000 by default: longer than the 10 s timeouts, so drops and reopens happen inside the window)
import 'reflect-metadata';
import net from 'node:net';
import tls from 'node:tls';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiClient } from '../test/support/client.js';
import { startRampart } from './support/processes.js';
import { median } from './support/stats.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 25);
const ATTACK = Number(process.env.BENCH_ATTACK ?? 1000);
const PASSWORD = 'Bench-Passw0rd!';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Sequential requests for `seconds`; each latency in ms. */
async function measure(api: ApiClient, seconds: number): Promise<number[]> {
  const latencies: number[] = [];
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    const started = process.hrtime.bigint();
    const res = await api.get('/api/v1/serverTime');
    if (res.status !== 200) throw new Error(`serverTime answered ${res.status}`);
    latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return latencies;
}

/** Keeps `count` attack connections open until stopped; returns how many it had to reopen. */
function attack(port: number, count: number): { open: () => number; stop: () => number } {
  let stopped = false;
  let reopened = 0;
  const sockets = new Set<net.Socket>();
  const keep = (socket: net.Socket, again: () => void) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      if (stopped) return;
      reopened++;
      again();
    });
  };
  const idle = () => keep(net.connect(port, '127.0.0.1'), idle);
  const slow = () => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' }, () => {
      socket.write('GET /api/v1/serverTime HTTP/1.1\r\nHost: localhost\r\n');
      const timer = setInterval(() => socket.write('X'), 5000);
      socket.once('close', () => clearInterval(timer));
    });
    keep(socket, slow);
  };
  for (let i = 0; i < count; i++) (i % 2 ? slow : idle)();
  return {
    open: () => sockets.size,
    stop: () => {
      stopped = true;
      for (const s of sockets) s.destroy();
      return reopened;
    },
  };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'rampart-bench-slowloris-'));
  // Caps above the attack size: this measures what open connections cost, not the caps refusing them.
  const server = await startRampart(dataDir, PASSWORD, { RAMPART_MAX_CONNECTIONS: String(ATTACK * 2 + 100), RAMPART_MAX_CONNECTIONS_PER_ADDRESS: String(ATTACK * 2 + 100) });
  const api = new ApiClient(server.url, { connections: 1 });
  try {
    await measure(api, 1); // warm-up
    const quiet = await measure(api, SECONDS);
    const load = attack(server.port, ATTACK);
    // Let the handshakes of the attack finish before measuring.
    for (let i = 0; i < 100 && load.open() < ATTACK; i++) await new Promise((r) => setTimeout(r, 100));
    const openCounts: number[] = [];
    const sampler = setInterval(() => openCounts.push(load.open()), 250);
    const attacked = await measure(api, SECONDS);
    clearInterval(sampler);
    const reopened = load.stop();
    const row = (name: string, l: number[]) =>
      `${name.padEnd(34)} requests ${String(l.length).padStart(6)}  p50 ${median(l).toFixed(2).padStart(7)} ms  p99 ${percentile(l, 99).toFixed(2).padStart(7)} ms`;
    console.log(row('quiet', quiet));
    console.log(row(`with ${ATTACK} idle/slowloris open`, attacked));
    console.log(
      `p99 ratio attacked/quiet ${(percentile(attacked, 99) / percentile(quiet, 99)).toFixed(2)}; attack connections open (median of samples) ${median(openCounts)}; reopened after the server dropped them ${reopened}`,
    );
    console.log(`target: p99 under attack < 100 ms → ${percentile(attacked, 99) < 100 ? 'met' : 'NOT met'}`);
  } finally {
    await api.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
