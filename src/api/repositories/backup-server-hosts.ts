import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store } from '../../store/database.js';
import { settingOrInit } from '../../store/settings.js';
import { StorageCheckError } from '../../storage/figures.js';
import type { HostDirectory, HostShell, RepositoryHost } from './hosts.js';

/**
 * The host directory until the managed-servers section is wired in: it knows
 * the backup server itself only (under the id the managed-servers section gives
 * it, the `backup_server_id` setting), so local repositories work on their own.
 */
export class BackupServerOnlyHosts implements HostDirectory {
  private constructor(private readonly backupServerId: string) {}

  static async open(store: Store): Promise<BackupServerOnlyHosts> {
    return new BackupServerOnlyHosts(await settingOrInit(store.db, 'backup_server_id', randomUUID()));
  }

  get id(): string {
    return this.backupServerId;
  }

  async find(id: string): Promise<RepositoryHost | undefined> {
    if (id.toLowerCase() !== this.backupServerId) return undefined;
    return { id: this.backupServerId, name: hostname() || 'localhost', type: 'LinuxHost', isBackupServer: true, credentialsStorageType: 'Permanent' };
  }

  async openShell(): Promise<HostShell> {
    throw new StorageCheckError('Logging in to managed Linux hosts is not available in this build.');
  }
}
