import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { loadConfig, type RampartConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { ApiClient } from './client.js';

export const ADMIN_PASSWORD = 'Admin-Passw0rd!';

export interface TestServer {
  server: RunningServer;
  config: RampartConfig;
  dataDir: string;
  api: ApiClient;
  /** Everything the server logged so far (JSON lines). */
  logText(): string;
  adminToken(): Promise<string>;
  /** Stops the server; the data folder stays until `cleanup`. */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * Starts the real server (HTTPS on a free loopback port, temporary data folder) in
 * this process, so tests can talk to it over the network and also reach its parts.
 */
export async function startTestServer(env: Record<string, string> = {}, reuseDataDir?: string): Promise<TestServer> {
  const dataDir = reuseDataDir ?? (await mkdtemp(path.join(tmpdir(), 'rampart-test-')));
  const config = loadConfig({
    RAMPART_DATA_DIR: dataDir,
    RAMPART_PORT: '0',
    RAMPART_HOST: '127.0.0.1',
    RAMPART_ADMIN_PASSWORD: ADMIN_PASSWORD,
    RAMPART_LOG_LEVEL: 'info',
    ...env,
  });
  const logs: string[] = [];
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
  const server = await startServer(config, createLogger(config, sink));
  const api = new ApiClient(`https://127.0.0.1:${server.port}`);
  let token: string | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await api.close();
    await server.close();
  };
  return {
    server,
    config,
    dataDir,
    api,
    logText: () => logs.join(''),
    adminToken: async () => (token ??= (await api.login('administrator', ADMIN_PASSWORD)).access_token),
    stop,
    cleanup: async () => {
      await stop();
      if (!reuseDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
