import { checkLocalFolder, measureLocalFolder } from '../../storage/local-folder.js';
import { checkLinuxFolder, measureLinuxFolder } from '../../storage/linux-folder.js';

/**
 * The AWS SDK is large (tens of MB resident); it is loaded the first time an
 * object-storage repository is checked, not by every server at start.
 */
const objectStorage = () => import('../../storage/object-storage.js');
import {
  amazonEndpoint,
  googleEndpoint,
  normalizeFolder,
  servicePointUrl,
  wasabiEndpoint,
  type ObjectStorageTarget,
  type PublicCloudEndpoints,
} from '../../storage/object-endpoint.js';
import { shareHost } from '../../storage/reachability.js';
import { checkNfsShare, measureNfsShare } from '../../storage/nfs-share.js';
import { StorageCheckError, UNKNOWN_FIGURES, type StorageFigures } from '../../storage/figures.js';
import type { StepRunner } from '../../storage/steps.js';
import type { CloudCredentialsService } from '../cloud-credentials/service.js';
import type { CredentialsService } from '../credentials/service.js';
import { checkSmbShare, measureSmbShare } from '../../storage/smb-share.js';
import { smbTarget } from './smb.js';
import type { HostDirectory, RepositoryHost } from './hosts.js';
import { valueAt, type Obj } from './settings.js';
import { S3_TYPES } from './type-catalogue.js';
import type { RepositoryType } from './schemas.js';
import type { HardenedServiceAccess } from '../../chunkstore/hardened-backend.js';
import { isServiceHosted, measureThroughService, missingAccess } from './hardened.js';

export interface CheckDeps {
  hosts: HostDirectory;
  cloudCredentials: CloudCredentialsService;
  /** Standard credentials (SMB shares log in with them). */
  credentials: CredentialsService;
  /** Bound on each request to a host or service point. */
  timeoutMs: number;
  /** Where WasabiCloud and GoogleCloud repositories are reached when not at the public endpoints. */
  endpoints: PublicCloudEndpoints;
  /** The AUTH_SYS uid/gid presented to NFS exports (root when absent). */
  nfsIdentity?: { uid: number; gid: number };
  /** Immutable repositories: the hardened ones' service access (sealed in the vault) and the test-only period override. */
  immutability: {
    accessOf(repositoryId: string): Promise<HardenedServiceAccess | undefined>;
    secondsOverride?: number;
  };
}

export interface CheckOptions {
  signal?: AbortSignal;
  /** False for a sealed extent: no probe writes. */
  write?: boolean;
}

const LOCAL_TYPES = ['WinLocal', 'LinuxLocal', 'LinuxHardened'];

/** Where the list shows a repository: host and path. */
export function locate(type: string, settings: Obj, host: RepositoryHost | undefined): { hostId: string | null; hostName: string | null; path: string | null } {
  if (LOCAL_TYPES.includes(type)) return { hostId: host?.id ?? null, hostName: host?.name ?? null, path: String(valueAt(settings, 'repository.path') ?? '') };
  if (type === 'Smb' || type === 'Nfs') return { hostId: null, hostName: null, path: String(valueAt(settings, 'share.sharePath') ?? '') };
  const holder = (settings.bucket ?? settings.container) as Obj | undefined;
  const name = (holder?.bucketName ?? holder?.containerName) as string | undefined;
  return { hostId: null, hostName: null, path: name ? `${name}/${normalizeFolder(String(holder?.folderName ?? ''))}` : null };
}

export async function objectTarget(type: string, settings: Obj, cloud: CloudCredentialsService, endpoints: PublicCloudEndpoints): Promise<ObjectStorageTarget> {
  const account = (settings.account ?? {}) as Obj;
  const bucket = (settings.bucket ?? {}) as Obj;
  const credentials = await cloud.get(String(account.credentialsId));
  const secrets = await cloud.secretsFor(credentials.id);
  const base = {
    bucket: String(bucket.bucketName),
    folder: normalizeFolder(String(bucket.folderName ?? '')),
    accessKey: credentials.access_key ?? '',
    secretKey: secrets.secretKey ?? '',
  };
  switch (type) {
    case 'AmazonS3':
      return { ...base, region: String(bucket.regionId), endpoint: amazonEndpoint(String(bucket.regionId), String(account.regionType)), forcePathStyle: false };
    case 'WasabiCloud': {
      let endpoint: ReturnType<typeof wasabiEndpoint>;
      try {
        endpoint = wasabiEndpoint(String(account.regionId), endpoints.wasabi);
      } catch (err) {
        throw new StorageCheckError(`The field "account.regionId": ${(err as Error).message}.`);
      }
      return { ...base, region: String(account.regionId), ...endpoint };
    }
    case 'GoogleCloud':
      return { ...base, region: String(account.regionId), ...googleEndpoint(endpoints.google) };
    default: {
      let endpoint: string;
      try {
        endpoint = servicePointUrl(String(account.servicePoint));
      } catch (err) {
        throw new StorageCheckError(`The field "account.servicePoint": ${(err as Error).message}.`);
      }
      return { ...base, region: String(account.regionId), endpoint, forcePathStyle: true };
    }
  }
}

function consumptionLimit(settings: Obj) {
  const limit = valueAt(settings, 'bucket.storageConsumptionLimit') as Obj | undefined;
  return limit?.isEnabled === true ? { count: Number(limit.consumptionLimitCount), kind: limit.consumptionLimitKind as 'TB' | 'PB' } : undefined;
}

/**
 * The real work of an add/edit session, by type: see docs/repositories.md for
 * what each type verifies and what it only stores.
 */
export async function checkRepository(
  type: RepositoryType,
  settings: Obj,
  host: RepositoryHost | undefined,
  deps: CheckDeps,
  steps: StepRunner,
  options: CheckOptions = {},
): Promise<StorageFigures> {
  const write = options.write !== false;
  if (LOCAL_TYPES.includes(type)) {
    const folder = String(valueAt(settings, 'repository.path'));
    if (host?.isBackupServer) {
      await steps.note(`The repository host is the backup server itself: checking ${folder} on the local file system`);
      return checkLocalFolder(folder, steps, { write });
    }
    if (type === 'WinLocal') {
      await steps.note(`Windows host "${host?.name}": Rampart has no Windows agent, so the folder, its free space and write access are not verified`, true);
      return UNKNOWN_FIGURES;
    }
    const singleUse = host?.credentialsStorageType === 'SingleUse';
    const shell = await steps.step(
      `Logging in to "${host?.name}" over SSH with its stored ${singleUse ? 'single-use ' : ''}credentials (host key checked against the pin)`,
      () => deps.hosts.openShell(host!.id, options.signal),
      () => `Logged in to "${host?.name}"${singleUse ? ': the single-use credentials were used once and discarded' : ''}`,
    );
    try {
      return await checkLinuxFolder(shell, folder, steps, { hardened: type === 'LinuxHardened', write });
    } finally {
      shell.close();
    }
  }
  if (S3_TYPES.includes(type)) {
    const target = await objectTarget(type, settings, deps.cloudCredentials, deps.endpoints);
    const immutability = valueAt(settings, 'bucket.immutability') as Obj | undefined;
    return (await objectStorage()).checkObjectStorage(target, steps, {
      timeoutMs: deps.timeoutMs,
      signal: options.signal,
      consumptionLimit: consumptionLimit(settings),
      immutabilityDays: immutability?.isEnabled === true ? Number(immutability.daysCount) : undefined,
      write,
    });
  }
  if (type === 'Smb') return checkSmbShare(await smbTarget(settings, deps.credentials), steps, { timeoutMs: deps.timeoutMs, write });
  if (type === 'Nfs')
    return checkNfsShare(String(valueAt(settings, 'share.sharePath')), steps, { timeoutMs: deps.timeoutMs, signal: options.signal, write, credentials: deps.nfsIdentity });
  await steps.note(`${type}: settings validated and stored; Rampart does not connect to this storage, so access and capacity are not verified`, true);
  return UNKNOWN_FIGURES;
}

/**
 * Whether the refresher can measure the type at all (others keep their stored
 * figures). Not a Linux host on single-use credentials: they are kept for the
 * next operation (an add, edit or rescan), never used up in the background.
 */
export function isMeasurable(type: string, host: RepositoryHost | undefined): boolean {
  // A hardened repository on a managed host is measured through its transport service: no login needed.
  if (isServiceHosted(type, host)) return true;
  if (LOCAL_TYPES.includes(type)) return Boolean(host?.isBackupServer) || (type !== 'WinLocal' && host?.type === 'LinuxHost' && host.credentialsStorageType !== 'SingleUse');
  return S3_TYPES.includes(type as RepositoryType) || type === 'Smb' || type === 'Nfs';
}

/** Measurement (refresher, rescan): no writes, capacity only (SMB shares: logged in and asked; NFS: reachability). `background`: nobody asked for it (the refresher). */
export async function measureRepository(
  type: string,
  settings: Obj,
  host: RepositoryHost | undefined,
  deps: CheckDeps,
  signal: AbortSignal,
  options: { background?: boolean; repository?: { id: string; name: string } } = {},
): Promise<StorageFigures> {
  if (isServiceHosted(type, host) && options.repository) {
    const access = await deps.immutability.accessOf(options.repository.id);
    if (!access) throw missingAccess(options.repository.name);
    return measureThroughService(access, deps.timeoutMs);
  }
  if (LOCAL_TYPES.includes(type)) {
    const folder = String(valueAt(settings, 'repository.path'));
    if (host?.isBackupServer) return measureLocalFolder(folder);
    const shell = await deps.hosts.openShell(host!.id, signal, { background: options.background });
    try {
      return await measureLinuxFolder(shell, folder);
    } finally {
      shell.close();
    }
  }
  if (S3_TYPES.includes(type as RepositoryType)) {
    return (await objectStorage()).measureObjectStorage(await objectTarget(type, settings, deps.cloudCredentials, deps.endpoints), {
      timeoutMs: deps.timeoutMs,
      signal,
      consumptionLimit: consumptionLimit(settings),
    });
  }
  if (type === 'Smb') return measureSmbShare(await smbTarget(settings, deps.credentials), { timeoutMs: deps.timeoutMs });
  if (type === 'Nfs') return measureNfsShare(String(valueAt(settings, 'share.sharePath')), { timeoutMs: deps.timeoutMs, signal, write: false, credentials: deps.nfsIdentity });
  return UNKNOWN_FIGURES;
}

/** Repositories on one host (or service point) share its slots in a refresh pass. */
export function hostKeyOf(type: string, settings: Obj, hostId: string | null): string {
  if (LOCAL_TYPES.includes(type)) return `host:${hostId}`;
  const account = (settings.account ?? {}) as Obj;
  if (type === 'Smb' || type === 'Nfs') return `share:${shareHost(String(valueAt(settings, 'share.sharePath')), type === 'Smb' ? 'smb' : 'nfs')}`;
  return `s3:${String(account.servicePoint ?? account.regionId ?? valueAt(settings, 'bucket.regionId') ?? '')}`;
}
