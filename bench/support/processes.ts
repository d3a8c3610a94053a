import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';

/** The Node flags of `npm start`: a smaller young generation keeps idle memory down (8 MB semi-spaces). */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=8', '--enable-source-maps'];

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
  const loader = args.some((a) => a.endsWith('.ts')) ? ['--import', 'tsx'] : args[0] === 'dist/main.js' ? SERVER_NODE_FLAGS : [];
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
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
  return { child, match };
}

/** Resident memory of a process, in MiB, from /proc. */
export async function residentMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}
