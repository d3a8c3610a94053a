import { ChunkStoreError, readRestorePoint, type ChunkStore, type OpenedRestorePoint, type RestorePointRef } from '../../chunkstore/index.js';
import { badRequest, ApiError } from '../../http/errors.js';
import { formatBytes } from '../../mover/bytes.js';
import { capturedConfig, restoreEntireVm, type CustomizedTarget, type OriginalTarget } from '../../mover/vsphere-restore.js';
import type { SessionRecord } from '../../sessions/model.js';
import type { SessionRunner, SessionContext, SessionOutcome } from '../../sessions/runner.js';
import { logStep } from '../../sessions/steps.js';
import type { VsphereSession } from '../../vsphere/session.js';
import type { BackupsService } from '../backups/service.js';
import type { VsphereAccess } from '../jobs/vsphere-access.js';
import type { RepositoriesService } from '../repositories/service.js';
import type { EntireVmRestoreRequest } from './entire-vm-spec.js';
import { findObject, placementOf, poolOfHost, vmFolderOf } from './targets.js';

export interface RestoreDeps {
  runner: SessionRunner;
  backups: BackupsService;
  repositories: RepositoriesService;
  vsphere: VsphereAccess;
  /** Opens a repository's chunk store, whatever its kind (local folder, Linux over SFTP, S3). */
  openRepository: (repositoryId: string) => Promise<ChunkStore>;
  /** The encryption passwords the vault holds: an encrypted point opens with the one it was made with. */
  encryptionPasswords: () => Promise<string[]>;
}

/** A restore point as a restore needs it: its catalogue rows, its repository opened, its manifest read. */
export interface RestoreSource {
  pointId: string;
  vmName: string;
  vmMoref: string;
  /** The ViHost managed server the VM was backed up from. */
  hostName: string;
  store: ChunkStore;
  point: OpenedRestorePoint;
}

/**
 * Restores from restore points, each one a session: entire VM restore
 * (RestoreVm). Bad input is refused before a session starts; what goes wrong
 * later fails the session with a message naming the disk, offset or object.
 */
export class RestoreService {
  constructor(private readonly deps: RestoreDeps) {}

  /** Everything a restore reads, checked before the 201: the point exists, its repository opens, its manifest reads. */
  async source(pointId: string, field: string): Promise<RestoreSource> {
    const row = await this.deps.backups.getRestorePoint(pointId).catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 404) throw badRequest(`Invalid "${field}": there is no restore point ${pointId}.`, pointId);
      throw err;
    });
    const backup = await this.deps.backups.getBackup(row.backup_id);
    const object = await this.deps.backups.getObject(row.backup_object_id);
    const repo = await this.deps.repositories.get(backup.repository_id);
    const store = await this.deps.openRepository(repo.id).catch((err: unknown) => {
      throw badRequest(`Invalid "${field}": the repository "${repo.name}" of restore point ${pointId} cannot be opened: ${(err as Error).message}`, pointId);
    });
    const [backupId, objectId, restorePointId] = row.location.split('/');
    const ref: RestorePointRef = { backupId: backupId!, objectId: objectId!, restorePointId: restorePointId! };
    const point = await this.openPoint(store, ref).catch((err: unknown) => {
      throw badRequest(`Invalid "${field}": restore point ${pointId} cannot be read: ${(err as Error).message}`, pointId);
    });
    return { pointId: row.id, vmName: object.name, vmMoref: object.object_id, hostName: object.path.split('/')[0] ?? '', store, point };
  }

  /**
   * Reads a restore point's manifest; an encrypted one is opened with the vault's
   * encryption password it was made with (Veeam's restore specs carry no password).
   */
  private async openPoint(store: ChunkStore, ref: RestorePointRef): Promise<OpenedRestorePoint> {
    try {
      return await readRestorePoint(store, ref);
    } catch (err) {
      if (!(err instanceof ChunkStoreError) || err.kind !== 'PasswordRequired') throw err;
    }
    for (const password of await this.deps.encryptionPasswords()) {
      try {
        return await readRestorePoint(store, ref, { password });
      } catch (err) {
        if (!(err instanceof ChunkStoreError) || err.kind !== 'WrongPassword') throw err;
      }
    }
    throw new Error('it is encrypted and none of the encryption passwords Rampart holds opens it; add the password it was made with (POST /api/v1/encryptionPasswords)');
  }

  async startEntireVmRestore(request: EntireVmRestoreRequest, field: string, createdBy: string): Promise<SessionRecord> {
    const source = await this.source(request.pointId, field);
    const hostName = request.mode === 'Customized' && request.host ? request.host.hostName : source.hostName;
    const vmName = request.mode === 'Customized' ? (request.vmName ?? source.vmName) : source.vmName;
    return this.deps.runner.start({ name: `Restore ${vmName}`, type: 'RestoreVm', resourceId: source.pointId, createdBy }, (ctx) =>
      this.runEntireVmRestore(ctx, request, source, hostName, vmName),
    );
  }

  private async runEntireVmRestore(ctx: SessionContext, request: EntireVmRestoreRequest, source: RestoreSource, hostName: string, vmName: string): Promise<SessionOutcome> {
    await ctx.log(
      `Restoring ${source.vmName} from the restore point of ${source.point.manifest.createdAt} (${source.point.manifest.kind})`,
      'Succeeded',
      request.reason ? `Reason: ${request.reason}` : undefined,
    );
    // Not bound to the session's signal: after a stop, the same connection removes what the restore made.
    const session = await logStep(ctx, `Connecting to ${hostName}`, () => this.deps.vsphere.login(hostName));
    try {
      const target = request.mode === 'Customized' ? await this.customizedTarget(session, request, source, vmName) : originalTarget(request, source);
      const result = await restoreEntireVm({ ctx, session, store: source.store, point: source.point, target, powerUp: request.powerUp });
      return { result: 'Success', message: `VM "${vmName}" (${result.vm.value}) restored: ${formatBytes(result.bytesWritten)} written.` };
    } finally {
      await session.logout().catch(() => undefined);
    }
  }

  private async customizedTarget(session: VsphereSession, request: EntireVmRestoreRequest, source: RestoreSource, vmName: string): Promise<CustomizedTarget> {
    const beside = await placementOf(session, { type: 'VirtualMachine', value: source.vmMoref }).catch(() => undefined);
    const host = request.host ? (await findObject(session, request.host, 'destinationHost', 'HostSystem')).ref : beside?.host;
    const pool = request.pool ? (await findObject(session, request.pool, 'resourcePool', 'ResourcePool')).ref : host ? await poolOfHost(session, host) : beside?.pool;
    if (!pool) throw new Error('destinationHost: no host or resource pool was named and the original VM is gone; name a destination.');
    const folder = request.folder ? (await findObject(session, request.folder, 'folder.folder', 'Folder')).ref : (beside?.folder ?? (await vmFolderOf(session, pool)));
    const datastore = request.datastore
      ? (await findObject(session, request.datastore, 'datastore', 'Datastore')).name
      : (capturedConfig(source.point).disks[0]?.datastore.name ?? '');
    const network = request.network ? (await findObject(session, request.network, 'network', 'Network')).name : undefined;
    return { kind: 'Customized', vmName, folder, pool, host, datastore, diskType: request.diskType, network, disconnected: request.disconnected };
  }
}

function originalTarget(request: EntireVmRestoreRequest, source: RestoreSource): OriginalTarget {
  return { kind: 'OriginalLocation', vm: { type: 'VirtualMachine', value: source.vmMoref }, quickRollback: request.quickRollback };
}
