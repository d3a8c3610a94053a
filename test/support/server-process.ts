import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ApiClient } from './client.js';
import { ADMIN_PASSWORD } from './server.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface ServerProcess {
  pid: number;
  port: number;
  api: ApiClient;
  adminToken(): Promise<string>;
  output(): string;
  /** kill -9: no shutdown hook runs, nothing is flushed or cleaned up. */
  kill(): Promise<void>;
}

/**
 * Rampart as a separate process (`rampart serve` through tsx, as `npm run
 * rampart` starts it), configured like startTestServer: a loopback port, the
 * given data folder, the administrator's password. Only a process of its own can
 * be killed without taking the test with it.
 */
export async function startServerProcess(dataDir: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'main.ts'), 'serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      RAMPART_DATA_DIR: dataDir,
      RAMPART_PORT: '0',
      RAMPART_HOST: '127.0.0.1',
      RAMPART_ADMIN_PASSWORD: ADMIN_PASSWORD,
      RAMPART_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  try {
    let port: number | undefined;
    // tsx compiles the whole server on start: on two busy cores that takes a while.
    for (let i = 0; i < 1200 && port === undefined; i++) {
      if (child.exitCode !== null) throw new Error(`rampart exited with ${child.exitCode}:\n${out}`);
      const ready = /Rampart is ready on https:\/\/[^:\s]+:(\d+)/.exec(out);
      if (ready) port = Number(ready[1]);
      else await new Promise((r) => setTimeout(r, 50));
    }
    if (port === undefined) throw new Error(`rampart did not get ready:\n${out}`);
    const api = new ApiClient(`https://127.0.0.1:${port}`);
    let token: string | undefined;
    return {
      pid: child.pid!,
      port,
      api,
      adminToken: async () => (token ??= (await api.login('administrator', ADMIN_PASSWORD)).access_token),
      output: () => out,
      kill: async () => {
        await api.close().catch(() => undefined);
        await kill();
      },
    };
  } catch (err) {
    await kill();
    throw err;
  }
}
