import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';

/**
 * The Node flags of `npm start`. (A smaller young generation, --max-semi-space-size=8, saves
 * ~15 MB idle but costs 20-30 % throughput on write- and list-heavy loads: not worth it.)
 */
export const SERVER_NODE_FLAGS = ['--enable-source-maps'];

/** Builds dist/main.js, what `npm start` runs, so benchmarks measure the same thing. */
export function buildServer(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}

export interface Child {
  process: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Starts an entry point as its own Node process (TypeScript through tsx, `.js` as is)
 * and waits for `pattern` on stdout.
 */
export async function startChild(args: string[], env: Record<string, string>, pattern: RegExp): Promise<{ child: Child; match: RegExpExecArray }> {
  // The bundle runs with the flags `npm start` gives it (see package.json), so benchmarks measure what users run.
  const loader = args.some((a) => a.endsWith('.ts')) ? ['--import', 'tsx'] : args.includes('dist/main.js') ? SERVER_NODE_FLAGS : [];
  const proc = spawn(process.execPath, [...loader, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (c) => (out += c));
  proc.stderr!.on('data', (c) => (out += c));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const check = () => {
      const m = pattern.exec(out);
      if (m) resolve(m);
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${out}`)));
  });
  const child: Child = {
    process: proc,
    output: () => out,
    stop: async () => {
      // A process killed by a signal has signalCode set and exitCode null: stopping it again must not wait forever.
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
  return { child, match };
}

/** CPU seconds a process has used so far (user + system), from /proc (clock ticks of 1/100 s). */
export async function cpuSeconds(pid: number): Promise<number> {
  // The command name in parentheses may hold spaces; the fields after it are fixed.
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident memory of a process, in MiB, from /proc. */
export async function residentMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

export interface RampartProcess {
  url: string;
  port: number;
  child: Child;
  stop(): Promise<void>;
}

/**
 * Builds and starts Rampart as `npm start` runs it (the dist bundle, same Node flags)
 * on a free loopback port with `dataDir`. BENCH_PROFILE=<dir> adds a CPU profile.
 */
export async function startRampart(dataDir: string, password: string, env: Record<string, string> = {}): Promise<RampartProcess> {
  buildServer();
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const { child, match } = await startChild(
    [...profile, 'dist/main.js', 'serve'],
    { RAMPART_DATA_DIR: dataDir, RAMPART_PORT: '0', RAMPART_HOST: '127.0.0.1', RAMPART_ADMIN_PASSWORD: password, RAMPART_LOG_LEVEL: 'warn', ...env },
    /Rampart is ready on (\S+)/,
  );
  const url = match[1]!;
  return { url, port: Number(new URL(url).port), child, stop: () => child.stop() };
}
