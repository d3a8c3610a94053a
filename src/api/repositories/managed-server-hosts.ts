import { ApiError } from '../../http/errors.js';
import { openSshSession } from '../../probe/ssh-session.js';
import { StorageCheckError } from '../../storage/figures.js';
import { loginFrom } from '../connection/service.js';
import type { ManagedServersService } from '../managed-servers/service.js';
import type { HostDirectory, HostShell, RepositoryHost } from './hosts.js';

type ManagedServerRow = Awaited<ReturnType<ManagedServersService['get']>>;

function managementPortOf(row: ManagedServerRow): number | undefined {
  try {
    const port = (JSON.parse(row.ssh_settings ?? '{}') as { managementPort?: unknown }).managementPort;
    return typeof port === 'number' && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}

function hostOf(row: ManagedServerRow): RepositoryHost {
  const managementPort = row.type === 'LinuxHost' ? managementPortOf(row) : undefined;
  return {
    ...(managementPort ? { managementPort } : {}),
    id: row.id,
    name: row.name,
    type: row.type,
    isBackupServer: Number(row.is_backup_server) === 1,
    credentialsStorageType: row.credentials_storage_type ?? 'Permanent',
  };
}

/**
 * The repositories section's view of the managed servers section: hosts by id,
 * and SSH logins to managed Linux hosts with their stored credentials, the host
 * key checked against the pin during the key exchange (a host presenting another
 * key never sees the password). The backup server itself is never reached over
 * SSH: its repositories are checked on the local file system (checks.ts).
 */
export class ManagedServerHosts implements HostDirectory {
  constructor(
    private readonly servers: ManagedServersService,
    /** Bound on the login and on each command (the managed servers' probe timeout). */
    private readonly timeoutMs: number,
  ) {}

  async find(id: string): Promise<RepositoryHost | undefined> {
    const row = await this.row(id);
    return row ? hostOf(row) : undefined;
  }

  async openShell(id: string, signal?: AbortSignal, options: { background?: boolean } = {}): Promise<HostShell> {
    const row = await this.row(id);
    if (!row) throw new StorageCheckError(`Managed server ${id} no longer exists.`);
    if (Number(row.is_backup_server) === 1)
      throw new StorageCheckError(`Server "${row.name}" is the backup server itself: its folders are checked on the local file system, not over SSH.`);
    if (row.type !== 'LinuxHost') throw new StorageCheckError(`Server "${row.name}" is a ${row.type}: Rampart logs in over SSH to Linux hosts only.`);
    if (!row.ssh_fingerprint) throw new StorageCheckError(`Server "${row.name}" has no pinned SSH host key; rescan or edit it with its sshFingerprint first.`);
    // Single-use credentials are consumed by this login: Veeam documents them for
    // hardened repositories (the account is used once to set the repository up and
    // its password or key is not kept). A background measurement must not use them up.
    if (row.credentials_storage_type === 'SingleUse' && options.background) {
      throw new StorageCheckError(`Server "${row.name}" keeps single-use credentials, kept for the next operation: it is not logged in to in the background.`);
    }
    const login = await this.servers.takeLinuxLogin(row);
    if (!login) {
      throw new StorageCheckError(
        row.credentials_storage_type === 'SingleUse'
          ? `The single-use credentials of server "${row.name}" were already used; give new ones with POST /api/v1/backupInfrastructure/managedServers/${row.id}/updateSingleUseCredentials.`
          : `Server "${row.name}" has no credentials to log in with.`,
      );
    }
    return openSshSession(row.name, row.port ?? login.settings.sshPort, loginFrom(login.settings, login.secrets), row.ssh_fingerprint, {
      timeoutMs: this.timeoutMs,
      signal,
      hostKeyAlgorithm: row.ssh_host_key_algorithm ?? undefined,
    });
  }

  private async row(id: string): Promise<ManagedServerRow | undefined> {
    try {
      return await this.servers.get(id.toLowerCase());
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }
}
