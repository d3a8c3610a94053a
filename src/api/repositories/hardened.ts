/**
 * Hardened Linux repositories through the API (docs/immutability.md): adding
 * one logs in once with the host's single-use credentials, checks the folder,
 * installs and starts Rampart's transport service on that same login, and
 * keeps only what reaches the service: its address, both pinned certificates
 * and Rampart's client key, sealed in the vault. From then on the repository
 * is measured, written and read through the service, never over SSH.
 */
import { hardenedBackend, type HardenedServiceAccess } from '../../chunkstore/hardened-backend.js';
import { installOverSession, uninstallOverSession } from '../../hardened/install.js';
import { checkLinuxFolder } from '../../storage/linux-folder.js';
import { StorageCheckError, type StorageFigures } from '../../storage/figures.js';
import type { StepRunner } from '../../storage/steps.js';
import type { Executor } from '../../store/transaction.js';
import type { SecretOwner, SecretStore } from '../../vault/secret-store.js';
import type { HostDirectory, RepositoryHost } from './hosts.js';
import { valueAt, type Obj } from './settings.js';

/** Vault owner kind of a hardened repository's service access. */
export const HARDENED_ACCESS_KIND = 'hardenedRepositoryAccess';
/** Veeam's transport port: the managed server's managementPort when it gives none. */
export const DEFAULT_SERVICE_PORT = 6162;
/** Where the service lives on the host: one folder per repository, so removing one never touches another's. */
export const INSTALL_ROOT = '/opt/rampart-transport';
const DAY_SECONDS = 86_400;

const ownerOf = (repositoryId: string): SecretOwner => ({ kind: HARDENED_ACCESS_KIND, type: 'LinuxHardened', id: repositoryId });

/** A hardened repository on a managed Linux host (not on the backup server itself) runs through the transport service. */
export function isServiceHosted(type: string, host: RepositoryHost | undefined): boolean {
  return type === 'LinuxHardened' && host !== undefined && !host.isBackupServer;
}

/**
 * The repository's immutability period in days: `makeRecentBackupsImmutableDays`
 * (hardened) or `bucket.immutability.daysCount` (S3 with object lock on);
 * undefined when it keeps nothing immutable. `secondsOverride` is the
 * test-only RAMPART_TEST_IMMUTABILITY_SECONDS (config.ts refuses it outside tests).
 */
export function immutableDaysOf(type: string, settings: Obj, secondsOverride?: number): number | undefined {
  let days: number | undefined;
  if (type === 'LinuxHardened') days = Number(valueAt(settings, 'repository.makeRecentBackupsImmutableDays'));
  else {
    const lock = valueAt(settings, 'bucket.immutability') as Obj | undefined;
    if (lock?.isEnabled === true) days = Number(lock.daysCount);
  }
  if (days === undefined || !(days > 0)) return undefined;
  return secondsOverride !== undefined ? secondsOverride / DAY_SECONDS : days;
}

export class HardenedAccessBook {
  constructor(private readonly secrets: SecretStore) {}

  /** Sealed, every field: the client key is the secret, the rest is kept with it so one record says how to reach the service. */
  async save(db: Executor, repositoryId: string, access: HardenedServiceAccess): Promise<void> {
    await this.secrets.write(db, ownerOf(repositoryId), {
      host: access.host,
      port: String(access.port),
      serverCertificatePem: access.serverCertificatePem,
      clientCertificatePem: access.clientCertificatePem,
      clientPrivateKeyPem: access.clientPrivateKeyPem,
    });
  }

  async load(db: Executor, repositoryId: string): Promise<HardenedServiceAccess | undefined> {
    const f = await this.secrets.readAll(db, ownerOf(repositoryId));
    if (!f.host || !f.port || !f.serverCertificatePem || !f.clientCertificatePem || !f.clientPrivateKeyPem) return undefined;
    return {
      host: f.host,
      port: Number(f.port),
      serverCertificatePem: f.serverCertificatePem,
      clientCertificatePem: f.clientCertificatePem,
      clientPrivateKeyPem: f.clientPrivateKeyPem,
    };
  }

  async remove(db: Executor, repositoryId: string): Promise<void> {
    await this.secrets.removeAll(db, ownerOf(repositoryId));
  }
}

/** The service's capacity op, as the repository's figures. */
export async function measureThroughService(access: HardenedServiceAccess, timeoutMs: number): Promise<StorageFigures> {
  const backend = hardenedBackend(access, { immutableDays: 1, timeoutMs });
  try {
    const { capacity, available } = await backend.capacity();
    return { capacityBytes: capacity, freeBytes: available, usedBytes: capacity - available, source: 'filesystem' };
  } finally {
    await backend.close();
  }
}

/**
 * Add (or re-install on edit): one SSH login with the single-use credentials
 * (taken out of the vault by openShell, so they cannot serve twice), the
 * folder checked on it, the service installed and started on it, measured
 * through the service, then `save` (the repository's row and the sealed
 * access). The login stays open until the save is done: if anything after the
 * install fails (the measurement, a stop, the save), the service is removed
 * over that same login (best effort, logged), so a failed add leaves nothing
 * running on the host; afterwards no login would be left to remove it with.
 */
export async function installForRepository(
  repositoryId: string,
  settings: Obj,
  host: RepositoryHost,
  hosts: HostDirectory,
  steps: StepRunner,
  options: { signal?: AbortSignal; timeoutMs: number },
  save: (installed: { access: HardenedServiceAccess; figures: StorageFigures }) => Promise<void>,
): Promise<void> {
  const folder = String(valueAt(settings, 'repository.path'));
  const port = host.managementPort ?? DEFAULT_SERVICE_PORT;
  const shell = await steps.step(
    `Logging in to "${host.name}" over SSH with its single-use credentials (host key checked against the pin)`,
    () => hosts.openShell(host.id, options.signal),
    // Taken out of the vault by this login: whatever follows, they cannot serve again.
    () => `Logged in to "${host.name}": the single-use credentials were used once and discarded`,
  );
  try {
    await checkLinuxFolder(shell, folder, steps, { hardened: true });
    const installDir = `${INSTALL_ROOT}/${repositoryId}`;
    const installed = await steps.step(
      `Installing and starting Rampart's transport service on "${host.name}" (port ${port}, files in ${installDir}) with the single-use credentials`,
      () => installOverSession(shell, { host: host.name, servicePort: port, folder, installDir }),
      (r) =>
        `Transport service installed and started on "${host.name}" port ${port} with the single-use credentials, running ${r.supervision.kind === 'systemd' ? `as systemd unit ${r.supervision.unit}` : `under a supervising loop (pid ${r.supervision.pid})`}; both certificates pinned (mutual TLS)`,
    );
    const { supervision, ...access } = installed;
    try {
      const figures = await steps.step(
        'Measuring the repository through the transport service',
        () => measureThroughService(access, options.timeoutMs),
        (f) => `${Math.round((f.freeBytes ?? 0) / 1024 ** 3)} GiB free of ${Math.round((f.capacityBytes ?? 0) / 1024 ** 3)} GiB`,
      );
      await save({ access, figures });
    } catch (err) {
      // Not a step: steps refuse to start once the session is stopped, and a stop is one way to get here.
      try {
        await uninstallOverSession(shell, { installDir, supervision });
        await steps.note(`Transport service stopped and ${installDir} removed from "${host.name}": the repository was not saved, so nothing of this add is left on the host`);
      } catch (cleanup) {
        await steps.note(`The transport service on "${host.name}" (${installDir}) could not be removed: ${(cleanup as Error).message}; remove it by hand`, true);
      }
      throw err;
    }
  } finally {
    shell.close();
    await steps.note('SSH session closed: the single-use credentials were used once and discarded; Rampart keeps no login for this host');
  }
}

/** The service is what a job, a restore or a measurement reaches; without a stored access it was never installed. */
export function missingAccess(name: string): StorageCheckError {
  return new StorageCheckError(
    `Hardened repository "${name}" has no transport service installed: give single-use credentials to its host (updateSingleUseCredentials) and edit the repository to install it.`,
  );
}
