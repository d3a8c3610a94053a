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
}

export interface HostShell extends RemoteShell {
  close(): void;
}

/**
 * The managed servers the repositories section may point at, and a way to log
 * in to a Linux one with its stored credentials. server.ts provides it from the
 * managed-servers section.
 */
export interface HostDirectory {
  find(id: string): Promise<RepositoryHost | undefined>;
  openShell(id: string, signal?: AbortSignal): Promise<HostShell>;
  /** Who uses managed server X: the repositories section registers its finder here when the directory supports it. */
}
