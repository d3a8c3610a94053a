import type { Logger } from 'pino';
import type { RampartConfig } from '../../config.js';
import type { Store } from '../../store/database.js';
import type { SessionRunner } from '../../sessions/runner.js';
import type { StatesRefresher } from '../../storage/refresher.js';
import type { VaultSections } from '../vault/sections.js';
import { ScaleOutRepositoriesService } from '../scale-out-repositories/service.js';
import type { HostDirectory } from './hosts.js';
import { RepositoryRescan } from './rescan.js';
import { RepositoriesService } from './service.js';
import { createStatesRefresher } from './states-refresh.js';

/** The repositories and scale-out sections with their background refresher, built once by server.ts. */
export interface RepositorySections {
  repositories: RepositoriesService;
  scaleOut: ScaleOutRepositoriesService;
  rescan: RepositoryRescan;
  refresher: StatesRefresher;
}

export function createRepositorySections(
  config: RampartConfig,
  store: Store,
  runner: SessionRunner,
  vault: VaultSections,
  hosts: HostDirectory,
  logger: Logger,
): RepositorySections {
  const repositories = new RepositoriesService({
    store,
    runner,
    hosts,
    credentials: vault.credentials,
    cloudCredentials: vault.cloudCredentials,
    encryptionPasswords: vault.encryptionPasswords,
    references: vault.references,
    timeoutMs: config.repositoryTimeoutMs,
    endpoints: { wasabi: config.wasabiEndpoint, google: config.googleStorageEndpoint },
    secrets: vault.secrets,
    nfsIdentity: config.nfsIdentity,
    ...(config.testImmutabilitySeconds !== undefined ? { testImmutabilitySeconds: config.testImmutabilitySeconds } : {}),
  });
  const rescan = new RepositoryRescan(store, runner, repositories, config.repositoryTimeoutMs);
  const scaleOut = new ScaleOutRepositoriesService({ store, runner, repositories, rescan, encryptionPasswords: vault.encryptionPasswords, references: vault.references });
  const refresher = createStatesRefresher(
    repositories,
    {
      intervalMs: config.repositoryRefreshSeconds * 1000,
      concurrency: config.repositoryRefreshConcurrency,
      perHostConcurrency: Math.max(1, Math.floor(config.repositoryRefreshConcurrency / 4)),
      timeoutMs: config.repositoryTimeoutMs,
    },
    (err) => logger.warn({ err: (err as Error).message }, 'repository states refresh failed'),
  );
  return { repositories, scaleOut, rescan, refresher };
}
