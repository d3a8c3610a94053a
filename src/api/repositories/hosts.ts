import type ssh2 from 'ssh2';
import type { RemoteShell } from '../../storage/linux-folder.js';

/** A managed server as the repositories section needs it. */
export interface RepositoryHost {
  id: string;
  name: string;
  /** WindowsHost, LinuxHost or ViHost. */
  type: string;
  /** The backup server itself (this machine): its folders are checked on the local file system. */
  isBackupServer: boolean;
  /** Permanent or SingleUse: LinuxHardened repositories need single-use credentials. */
  credentialsStorageType: string;
  /** LinuxHost: sshSettings.managementPort, the port a hardened repository's transport service listens on. */
  managementPort?: number;
}

export interface HostShell extends RemoteShell {
  /** An SFTP channel on the same login (a job's chunk store on a Linux repository). */
  sftp(): Promise<ssh2.SFTPWrapper>;
  close(): void;
}

/**
 * The managed servers the repositories section may point at, and a way to log
 * in to a Linux one with its stored credentials. server.ts provides it from the
 * managed-servers section (ManagedServerHosts); the repositories service
 * registers itself as a user of managed servers in the ReferenceRegistry.
 */
export interface HostDirectory {
  find(id: string): Promise<RepositoryHost | undefined>;
  /**
   * Logs in to a managed Linux host. `background`: a measurement nobody asked
   * for (the states refresher), which must never take single-use credentials
   * kept for the next operation; it is refused on such hosts instead.
   */
  openShell(id: string, signal?: AbortSignal, options?: { background?: boolean }): Promise<HostShell>;
}
