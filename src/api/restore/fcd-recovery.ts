import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { badRequest } from '../../http/errors.js';
import { descriptorText, newLiveMount, unmountRestorePoint, type MountRecord } from '../../mover/instant-recovery.js';
import { mountFcds } from '../../mover/fcd-recovery.js';
import { shapeModel } from '../../revisions/shapes.js';
import { FCD_INSTANT_RECOVERY_MOUNT } from '../../revisions/replies/restore.js';
import { logStep } from '../../sessions/steps.js';
import type { SessionRecord } from '../../sessions/model.js';
import type { SessionContext } from '../../sessions/runner.js';
import type { InstantRecoveryMountsTable } from '../../store/schema.js';
import { datastoreFileUrl, registerDisk } from '../../vsphere/datastores.js';
import { writeDatastoreFile } from '../../vsphere/datastore-files.js';
import { morefList, retrieveObject } from '../../vsphere/property-collector.js';
import type { VsphereSession } from '../../vsphere/session.js';
import { datacenterOf } from '../../vsphere/vm-config.js';
import type { ManagedObjectReference } from '../../vsphere/xml.js';
import type { InventoryRef } from './entire-vm-spec.js';
import type { FcdRecoveryRequest } from './fcd-spec.js';
import type { InstantRecoveryService } from './instant-recovery.js';
import type { RestoreSource } from './service.js';
import { findObject } from './targets.js';

/**
 * Instant recovery of first-class disks: the same mount as an instant VM recovery
 * (rows of kind `fcd` in `instant_recovery_mounts`, the same NBD server and live
 * parts, the same teardown and restart clean-up), then RegisterDisk per disk
 * instead of a VM.
 */
export class FcdRecoveryService {
  constructor(private readonly ir: InstantRecoveryService) {}

  list(page: { skip: number; limit: number; orderAsc: boolean; orderColumn?: string; nameFilter?: string; state?: string }) {
    return this.ir.list(page, 'fcd');
  }

  get(id: string): Promise<InstantRecoveryMountsTable> {
    return this.ir.get(id, 'fcd');
  }

  async mount(request: FcdRecoveryRequest, spec: unknown, field: string, createdBy: string): Promise<SessionRecord> {
    const source = await this.ir.deps.restore.source(request.pointId, field);
    const names = new Set(source.point.manifest.disks.map((d) => d.name));
    for (const [i, d] of request.disks.entries())
      if (!names.has(d.nameInBackup))
        throw badRequest(`Invalid "disksMapping[${i}].nameInBackup": the restore point has no disk "${d.nameInBackup}" (it has ${[...names].join(', ')}).`);
    const mountId = randomUUID();
    const label = request.disks.map((d) => d.registeredFcdName).join(', ');
    let insert: Promise<unknown> = Promise.resolve();
    const session = await this.ir.deps.runner.start(
      { name: `Instant FCD recovery of ${label}`, type: 'FirstClassDiskInstantRestore', resourceId: mountId, createdBy },
      async (ctx) => {
        await insert;
        return this.runMount(ctx, mountId, request, source);
      },
    );
    const stored = { ...(spec as Record<string, unknown>) };
    // Kept in the 1.2+ spelling; the reply renames it back for 1.1 readers.
    if (stored.objectRestorePointId !== undefined) {
      stored.restorePointId = stored.objectRestorePointId;
      delete stored.objectRestorePointId;
    }
    // 1.2+ readers need `platform` on every inventory object (InventoryObjectModel); a 1.1 spec has none, and 1.1 replies leave it out.
    stored.destinationCluster = withPlatform(stored.destinationCluster);
    if (typeof stored.writeCache === 'object' && stored.writeCache !== null) {
      const cache = { ...(stored.writeCache as Record<string, unknown>) };
      for (const key of ['cacheDatastore', 'storagePolicy']) if (cache[key] !== undefined) cache[key] = withPlatform(cache[key]);
      stored.writeCache = cache;
    }
    insert = this.ir.db
      .insertInto('instant_recovery_mounts')
      .values({
        id: mountId,
        kind: 'fcd',
        session_id: session.id,
        state: 'Mounting',
        vm_name: label,
        name_key: label.toLowerCase(),
        spec: JSON.stringify(stored),
        error_message: null,
        record: null,
        host_name: request.cluster.hostName,
        creation_time: new Date().toISOString(),
      })
      .execute();
    await insert;
    return session;
  }

  private async runMount(ctx: SessionContext, mountId: string, request: FcdRecoveryRequest, source: RestoreSource) {
    const session = await this.ir.deps.vsphere.login(request.cluster.hostName);
    const live = newLiveMount(this.ir.deps.workFolder, mountId);
    try {
      const host = await hostOf(session, request.cluster);
      const redoFolder =
        request.redirect && request.cacheDatastore
          ? await this.ir.cacheFolder(session, request.cacheDatastore, 'writeCache.cacheDatastore')
          : path.join(this.ir.deps.workFolder, 'redo');
      const nbd = await this.ir.server();
      await mountFcds(
        ctx,
        { session, nbd, store: source.store, point: source.point, mountId, host, redoFolder, disks: request.disks, nfs: this.ir.deps.nfs },
        live,
        this.ir.saveRecord(mountId),
      );
      this.ir.live.set(mountId, live);
      await this.ir.setState(mountId, 'Mounted');
      const ids = (live.record.fcds ?? []).map((f) => `"${f.name}" (${f.id})`).join(', ');
      return { result: 'Success' as const, message: `First-class disk(s) ${ids} run from the backup (mount ${mountId}).` };
    } catch (err) {
      await unmountRestorePoint(live.record, { session, nbd: await this.ir.server(), live }, (t, s) => ctx.log(t, s));
      this.ir.live.delete(mountId);
      await this.ir.setState(mountId, 'Failed', (err as Error).message);
      throw err;
    } finally {
      await session.logout().catch(() => undefined);
    }
  }

  async dismount(id: string, createdBy: string): Promise<SessionRecord> {
    const row = await this.get(id);
    if (row.state !== 'Mounted' && row.state !== 'Failed')
      throw badRequest(`Instant FCD recovery mount ${id} is ${row.state}; only a Mounted (or Failed) mount can be dismounted.`, id);
    await this.ir.setState(id, 'Dismounting');
    return this.ir.deps.runner.start({ name: `Stopping instant FCD recovery of ${row.vm_name}`, type: 'FirstClassDiskInstantRestore', resourceId: id, createdBy }, async (ctx) => {
      await this.ir.teardown(ctx, row);
      return { result: 'Success', message: `Instant FCD recovery of ${row.vm_name} stopped; its disks, datastore, export and redo files are gone.` };
    });
  }

  /** Quick migration: each live disk (backup + redo) is copied to the target datastore, the recovery is dismounted, and the copy registered under the same name. */
  async migrate(id: string, target: { datastore: InventoryRef; mountedDiskNames?: string[] }, createdBy: string): Promise<SessionRecord> {
    const row = await this.get(id);
    if (row.state !== 'Mounted') throw badRequest(`Instant FCD recovery mount ${id} is ${row.state}; only Mounted disks can be migrated.`, id);
    const live = this.ir.live.get(id);
    if (!live) throw badRequest(`Instant FCD recovery mount ${id} is not served by this node.`, id);
    const fcds = live.record.fcds ?? [];
    for (const name of target.mountedDiskNames ?? [])
      if (!fcds.some((f) => f.mountedDiskName === name)) throw badRequest(`Invalid "mountedDiskNames": mount ${id} has no disk "${name}".`, id);
    const moving = fcds.map((f, i) => ({ ...f, index: i })).filter((f) => !target.mountedDiskNames || target.mountedDiskNames.includes(f.mountedDiskName));
    return this.ir.deps.runner.start({ name: `Quick migration of ${row.vm_name}`, type: 'QuickMigration', resourceId: id, createdBy }, async (ctx) => {
      const session = await this.ir.deps.vsphere.login(target.datastore.hostName);
      try {
        const ds = await findObject(session, target.datastore, 'targetDatastore', 'Datastore');
        const datacenter = await datacenterOf(session, ds.ref);
        const copied: { name: string; descriptor: string }[] = [];
        for (const f of moving) {
          const overlay = live.overlays[f.index]!;
          const flat = f.mountedDiskName.replace(/\.vmdk$/i, '') + '-flat.vmdk';
          await logStep(ctx, `${f.name}: copying backup + redo to [${ds.name}] ${flat}`, () =>
            writeDatastoreFile(session, { datacenter, datastore: ds.name, path: flat }, overlay.mergedStream({ signal: ctx.signal }), overlay.size, ctx.signal),
          );
          const text = Buffer.from(descriptorText(flat, overlay.size));
          await writeDatastoreFile(session, { datacenter, datastore: ds.name, path: f.mountedDiskName }, text, text.length, ctx.signal);
          copied.push({ name: f.name, descriptor: f.mountedDiskName });
        }
        // The recovered disks go first, so the migrated ones are the only disks of these names.
        await this.ir.teardown(ctx, row);
        const ids: string[] = [];
        for (const c of copied) {
          const fcdId = await logStep(ctx, `Registering first-class disk "${c.name}" on ${ds.name}`, () =>
            registerDisk(session, datastoreFileUrl(session, { datacenter, datastore: ds.name, path: c.descriptor }), c.name),
          );
          ids.push(`"${c.name}" (${fcdId})`);
        }
        return { result: 'Success' as const, message: `First-class disk(s) ${ids.join(', ')} now live on ${ds.name}; the instant recovery is dismounted.` };
      } finally {
        await session.logout().catch(() => undefined);
      }
    });
  }
}

function withPlatform(ref: unknown): unknown {
  return typeof ref === 'object' && ref !== null ? { platform: 'VSphere', ...ref } : ref;
}

/** The host that mounts the datastore: the one named, or the first host of the cluster named. */
async function hostOf(session: VsphereSession, ref: InventoryRef): Promise<ManagedObjectReference> {
  if (ref.type === 'Host') return (await findObject(session, ref, 'destinationCluster', 'HostSystem')).ref;
  const cluster = await findObject(session, ref, 'destinationCluster', 'ClusterComputeResource');
  const host = morefList((await retrieveObject(session, cluster.ref, ['host']))?.props.get('host'))[0];
  if (!host) throw new Error(`destinationCluster: cluster "${cluster.name}" has no host.`);
  return host;
}

export function fcdRecoveryMountModel(row: InstantRecoveryMountsTable, revision: string | undefined) {
  const record = row.record ? (JSON.parse(row.record) as MountRecord) : undefined;
  const mountedDisks = (record?.fcds ?? []).map((f) => ({ nameInBackup: f.nameInBackup, mountedDiskName: f.mountedDiskName, registeredFcdName: f.name, objectId: f.id }));
  return shapeModel(FCD_INSTANT_RECOVERY_MOUNT, revision, {
    id: row.id,
    sessionId: row.session_id,
    state: row.state,
    spec: JSON.parse(row.spec) as unknown,
    errorMessage: row.error_message ?? undefined,
    ...(row.state === 'Mounted' ? { mountedDisks } : {}),
  });
}
