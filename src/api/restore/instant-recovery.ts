import { randomUUID } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { notFound, badRequest } from '../../http/errors.js';
import { copyLiveDisks, mountRestorePoint, newLiveMount, unmountRestorePoint, type LiveMount, type MountRecord, type NfsExport } from '../../mover/instant-recovery.js';
import { resumeMount } from '../../mover/mount-resume.js';
import { capturedConfig, newVmSpec } from '../../mover/vsphere-restore.js';
import { ExportPublisher, NbdServer, unmountStaleMounts } from '../../nbd/index.js';
import { openDisk } from '../../chunkstore/index.js';
import { shapeModel } from '../../revisions/shapes.js';
import { INSTANT_VM_RECOVERY_MOUNT } from '../../revisions/replies/restore.js';
import type { SessionRecord } from '../../sessions/model.js';
import type { SessionContext, SessionRunner } from '../../sessions/runner.js';
import type { Store } from '../../store/database.js';
import type { InstantRecoveryMountsTable } from '../../store/schema.js';
import { retrieveObject, stringValue } from '../../vsphere/property-collector.js';
import type { VsphereSession } from '../../vsphere/session.js';
import { createVm, powerOnVm } from '../../vsphere/vm-lifecycle.js';
import type { VsphereAccess } from '../jobs/vsphere-access.js';
import type { InventoryRef } from './entire-vm-spec.js';
import type { InstantVmRecoveryRequest } from './instant-recovery-spec.js';
import type { RestoreService, RestoreSource } from './service.js';
import { findObject, placementOf, poolOfHost } from './targets.js';

export const MOUNT_STATES = ['Failed', 'Mounting', 'Mounted', 'Dismounting'] as const;
export type MountState = (typeof MOUNT_STATES)[number];
const mountStates: ReadonlySet<string> = new Set(MOUNT_STATES);
/** A `stateFilter` value is one of the documented mount states (checked here so the 400 names them). */
export const isMountState = (value: string): value is MountState => mountStates.has(value);

/**
 * Instant VM recovery mounts: rows in `instant_recovery_mounts` (state, spec,
 * what each mount made) plus the live parts this process holds (NBD exports,
 * overlays, FUSE mounts). One NBD server on a Unix socket in the data folder
 * serves every mount. After a restart the live parts are gone: mounts left
 * Mounted are brought back over their kept redo files, or (when something they
 * need is gone) cleaned and marked Failed: never a leak.
 */
export class InstantRecoveryService {
  private nbd: NbdServer | undefined;
  private publisher: ExportPublisher | undefined;
  /** Live parts of each mount (VM or first-class disks) this process holds. */
  readonly live = new Map<string, LiveMount>();

  constructor(readonly deps: { store: Store; runner: SessionRunner; vsphere: VsphereAccess; restore: RestoreService; workFolder: string; nfs?: NfsExport }) {}

  get db() {
    return this.deps.store.db;
  }

  async server(): Promise<NbdServer> {
    if (!this.nbd) {
      const nbd = new NbdServer();
      await mkdir(this.deps.workFolder, { recursive: true, mode: 0o700 });
      await nbd.listen({ socketPath: path.join(this.deps.workFolder, 'nbd.sock') });
      this.nbd = nbd;
    }
    return this.nbd;
  }

  /** Mounts of one kind (VMs here; FcdRecoveryService lists its disks through this too), filtered, ordered and paged. */
  async list(page: { skip: number; limit: number; orderAsc: boolean; orderColumn?: string; nameFilter?: string; state?: string }, kind: 'vm' | 'fcd' = 'vm') {
    let q = this.db.selectFrom('instant_recovery_mounts').where('kind', '=', kind);
    if (page.state) q = q.where('state', '=', page.state);
    if (page.nameFilter) q = q.where(sql<boolean>`name_key like ${page.nameFilter.toLowerCase().replace(/\*/g, '%')}`);
    const total = Number((await q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst())?.n ?? 0);
    const column = page.orderColumn?.toLowerCase() === 'state' ? 'state' : 'name_key';
    const rows = await q
      .selectAll()
      .orderBy(column, page.orderAsc ? 'asc' : 'desc')
      .orderBy('id')
      .offset(page.skip)
      .limit(page.limit)
      .execute();
    return { rows, total };
  }

  async get(id: string, kind: 'vm' | 'fcd' = 'vm'): Promise<InstantRecoveryMountsTable> {
    const row = await this.db.selectFrom('instant_recovery_mounts').selectAll().where('id', '=', id.toLowerCase()).where('kind', '=', kind).executeTakeFirst();
    if (!row) throw notFound(`Instant recovery mount ${id} was not found.`, id);
    return row;
  }

  async mount(request: InstantVmRecoveryRequest, spec: unknown, field: string, createdBy: string): Promise<{ session: SessionRecord; mountId: string }> {
    const source = await this.deps.restore.source(request.pointId, field);
    const mountId = randomUUID();
    const vmName = request.mode === 'Customized' && request.vmName ? request.vmName : source.vmName;
    const hostName = request.host?.hostName ?? source.hostName;
    let insert: Promise<unknown> = Promise.resolve();
    const session = await this.deps.runner.start({ name: `Instant recovery of ${vmName}`, type: 'InstantRecovery', resourceId: mountId, createdBy }, async (ctx) => {
      await insert;
      return this.runMount(ctx, mountId, request, source, vmName, hostName);
    });
    insert = this.db
      .insertInto('instant_recovery_mounts')
      .values({
        id: mountId,
        kind: 'vm',
        session_id: session.id,
        state: 'Mounting',
        vm_name: vmName,
        name_key: vmName.toLowerCase(),
        spec: JSON.stringify(newestSpelling(spec)),
        error_message: null,
        record: null,
        host_name: hostName,
        creation_time: new Date().toISOString(),
      })
      .execute();
    await insert;
    return { session, mountId };
  }

  async setState(id: string, state: string, errorMessage?: string) {
    await this.db
      .updateTable('instant_recovery_mounts')
      .set({ state, ...(errorMessage !== undefined ? { error_message: errorMessage } : {}) })
      .where('id', '=', id)
      .execute();
  }

  saveRecord = (id: string) => async (record: MountRecord) => {
    await this.db
      .updateTable('instant_recovery_mounts')
      .set({ record: JSON.stringify(record) })
      .where('id', '=', id)
      .execute();
  };

  private async runMount(ctx: SessionContext, mountId: string, request: InstantVmRecoveryRequest, source: RestoreSource, vmName: string, hostName: string) {
    const session = await this.deps.vsphere.login(hostName);
    const live = newLiveMount(this.deps.workFolder, mountId);
    try {
      const place = await this.place(session, request, source, vmName);
      const nbd = await this.server();
      await mountRestorePoint(ctx, { session, nbd, store: source.store, point: source.point, mountId, place }, live, this.saveRecord(mountId));
      this.live.set(mountId, live);
      await this.setState(mountId, 'Mounted');
      return { result: 'Success' as const, message: `VM "${vmName}" runs from the backup (mount ${mountId}).` };
    } catch (err) {
      const message = (err as Error).message;
      await unmountRestorePoint(live.record, { session, nbd: this.nbd, live }, (t, s) => ctx.log(t, s));
      this.live.delete(mountId);
      await this.setState(mountId, 'Failed', message);
      throw err;
    } finally {
      await session.logout().catch(() => undefined);
    }
  }

  private async place(session: VsphereSession, request: InstantVmRecoveryRequest, source: RestoreSource, vmName: string) {
    const beside = await placementOf(session, { type: 'VirtualMachine', value: source.vmMoref }).catch(() => undefined);
    const host = request.host ? (await findObject(session, request.host, 'destination.destinationHost', 'HostSystem')).ref : beside?.host;
    if (!host) throw new Error('destination.destinationHost: the original VM is gone; name a destination host.');
    const pool = request.pool ? (await findObject(session, request.pool, 'destination.resourcePool', 'ResourcePool')).ref : await poolOfHost(session, host);
    const folder = request.folder ? (await findObject(session, request.folder, 'destination.folder', 'Folder')).ref : beside?.folder;
    if (!folder) throw new Error('destination.folder: the original VM is gone; name a destination folder.');
    const redoFolder = request.redirect && request.cacheDatastore ? await this.cacheFolder(session, request.cacheDatastore) : path.join(this.deps.workFolder, 'redo');
    return { host, pool, folder, vmName, redoFolder, powerUp: request.powerUp, nfs: this.deps.nfs };
  }

  /** Redo files on the cache datastore: its folder as this machine sees it (a datastore whose URL is a local path, as the simulator's and NFS mounts on this host are). */
  async cacheFolder(session: VsphereSession, ref: InventoryRef, field = 'datastore.cacheDatastore'): Promise<string> {
    const ds = await findObject(session, ref, field, 'Datastore');
    const url = stringValue((await retrieveObject(session, ds.ref, ['summary.url']))?.props.get('summary.url')) ?? '';
    const local = url.replace(/^(file|ds):\/\//, '');
    const isDir = await stat(local).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) throw new Error(`${field}: datastore "${ds.name}" (${url}) is not reachable as a folder of this machine, so the redo files cannot go there.`);
    return path.join(local, '.rampart-redo');
  }

  async unmount(id: string, createdBy: string): Promise<SessionRecord> {
    const row = await this.get(id);
    if (row.state !== 'Mounted' && row.state !== 'Failed') throw badRequest(`Instant recovery mount ${id} is ${row.state}; only a Mounted (or Failed) mount can be unmounted.`, id);
    await this.setState(id, 'Dismounting');
    return this.deps.runner.start({ name: `Stopping instant recovery of ${row.vm_name}`, type: 'InstantRecovery', resourceId: id, createdBy }, async (ctx) => {
      await this.teardown(ctx, row);
      return { result: 'Success', message: `Instant recovery of "${row.vm_name}" stopped; its datastore, export and redo files are gone.` };
    });
  }

  async teardown(ctx: SessionContext, row: InstantRecoveryMountsTable): Promise<void> {
    const record = row.record ? (JSON.parse(row.record) as MountRecord) : undefined;
    try {
      if (record) {
        const session = await this.deps.vsphere.login(row.host_name).catch(() => undefined);
        try {
          const problems = await unmountRestorePoint(record, { session, nbd: this.nbd, live: this.live.get(row.id) }, (t, s) => ctx.log(t, s));
          if (!session) problems.push(`could not log in to ${row.host_name}`);
          if (problems.length) throw new Error(problems.join('; '));
        } finally {
          await session?.logout().catch(() => undefined);
        }
      }
      this.live.delete(row.id);
      await this.db.deleteFrom('instant_recovery_mounts').where('id', '=', row.id).execute();
    } catch (err) {
      await this.setState(row.id, 'Failed', (err as Error).message);
      throw err;
    }
  }

  /** Quick migration: a new VM on the target datastore gets the live disks (backup + redo), is powered on, and the recovery is unmounted. */
  async migrate(id: string, target: { host?: InventoryRef; pool?: InventoryRef; folder?: InventoryRef; datastore?: InventoryRef }, createdBy: string): Promise<SessionRecord> {
    const row = await this.get(id);
    if (row.state !== 'Mounted') throw badRequest(`Instant recovery mount ${id} is ${row.state}; only a Mounted VM can be migrated.`, id);
    const live = this.live.get(id);
    if (!live) throw badRequest(`Instant recovery mount ${id} is not served by this node.`, id);
    return this.deps.runner.start({ name: `Quick migration of ${row.vm_name}`, type: 'QuickMigration', resourceId: id, createdBy }, async (ctx) => {
      const session = await this.deps.vsphere.login(target.host?.hostName ?? row.host_name);
      try {
        const host = (await findObject(session, target.host!, 'destinationHost', 'HostSystem')).ref;
        const pool = target.pool ? (await findObject(session, target.pool, 'resourcePool', 'ResourcePool')).ref : await poolOfHost(session, host);
        const folder = target.folder ? (await findObject(session, target.folder, 'folder', 'Folder')).ref : (await placementOf(session, live.record.vm!)).folder!;
        const spec = JSON.parse(row.spec) as Record<string, unknown>;
        const pointId = String(spec.restorePointId ?? '');
        const source = await this.deps.restore.source(pointId, 'restorePointId');
        const datastore = target.datastore
          ? (await findObject(session, target.datastore, 'datastore', 'Datastore')).name
          : (capturedConfig(source.point).disks[0]?.datastore.name ?? '');
        const config = {
          ...capturedConfig(source.point),
          disks: capturedConfig(source.point).disks.map((d, i) => ({ ...d, capacityInBytes: live.record.disks[i]?.capacity ?? d.capacityInBytes })),
        };
        const migratedName = row.vm_name;
        // The recovered VM stops first: its disks must not change while they are copied.
        await unmountVmOnly(session, live.record);
        const vm = await createVm(
          session,
          { folder, pool, host },
          newVmSpec(config, { kind: 'Customized', vmName: migratedName, folder, pool, host, datastore, diskType: 'Source' }),
          ctx.signal,
        );
        await ctx.log(`Created VM "${migratedName}" on ${datastore}`, 'Succeeded', vm.value);
        await copyLiveDisks(ctx, session, live, vm);
        await powerOnVm(session, vm, ctx.signal);
        await this.teardown(ctx, { ...row, record: JSON.stringify({ ...live.record, vm: undefined }) });
        return { result: 'Success' as const, message: `VM "${migratedName}" (${vm.value}) now runs from ${datastore}; the instant recovery is unmounted.` };
      } finally {
        await session.logout().catch(() => undefined);
      }
    });
  }

  /**
   * Start-up: stale FUSE mounts (a crash's) are lazily detached; each mount that was Mounted
   * is brought back (same redo file, same paths; datastore, VM and FCDs checked on vSphere),
   * in a session of its own whose log says what was done or why it could not be. A mount that
   * cannot be brought back, and one caught Mounting or Dismounting, is cleaned and marked Failed.
   */
  async recover(): Promise<{ resumed: number; failed: number }> {
    await unmountStaleMounts(this.deps.workFolder).catch(() => []);
    const rows = await this.db.selectFrom('instant_recovery_mounts').selectAll().where('state', 'in', ['Mounting', 'Mounted', 'Dismounting']).execute();
    let resumed = 0;
    for (const row of rows) {
      const record = row.record ? (JSON.parse(row.record) as MountRecord) : undefined;
      if (row.state === 'Mounted' && record) {
        if (await this.resume(row, record)) resumed++;
        continue;
      }
      let detail = '';
      if (record) {
        const session = await this.deps.vsphere.login(row.host_name).catch(() => undefined);
        try {
          const problems = await unmountRestorePoint(record, { session });
          if (problems.length) detail = ` Clean-up: ${problems.join('; ')}`;
        } finally {
          await session?.logout().catch(() => undefined);
        }
      }
      await this.setState(
        row.id,
        'Failed',
        `Rampart restarted while ${what(row)} ${row.state === 'Mounting' ? 'was being mounted' : 'was being unmounted'}; the mount was cleaned up.${detail}`,
      );
    }
    return { resumed, failed: rows.length - resumed };
  }

  /** One Mounted mount brought back after a restart, or (failing that) cleaned and marked Failed saying why. */
  private async resume(row: InstantRecoveryMountsTable, record: MountRecord): Promise<boolean> {
    const type = row.kind === 'fcd' ? 'FirstClassDiskInstantRestore' : 'InstantRecovery';
    const session = await this.deps.runner.start({ name: `Resuming instant recovery of ${row.vm_name}`, type, resourceId: row.id, createdBy: 'Rampart' }, async (ctx) => {
      const live: LiveMount = { record, overlays: [], fuse: [] };
      const vsphere = await this.deps.vsphere.login(row.host_name).catch((err: unknown) => err as Error);
      try {
        if (vsphere instanceof Error) throw new Error(`cannot log in to ${row.host_name}: ${vsphere.message}`);
        const pointId = String((JSON.parse(row.spec) as Record<string, unknown>).restorePointId ?? '');
        const source = await this.deps.restore.source(pointId, 'restorePointId');
        await resumeMount(ctx, { session: vsphere, nbd: await this.server(), store: source.store, point: source.point }, live, this.saveRecord(row.id));
        this.live.set(row.id, live);
        return {
          result: 'Success' as const,
          message: `${row.kind === 'fcd' ? 'First-class disk(s)' : 'VM'} "${row.vm_name}" run${row.kind === 'fcd' ? '' : 's'} from the backup again (mount ${row.id}).`,
        };
      } catch (err) {
        const reason = (err as Error).message;
        await ctx.log(`Cannot bring the mount back: ${reason}; cleaning it up`, 'Warning');
        const problems = await unmountRestorePoint(record, { session: vsphere instanceof Error ? undefined : vsphere, nbd: this.nbd, live }, (t, s) => ctx.log(t, s));
        const detail = problems.length ? ` Clean-up: ${problems.join('; ')}` : '';
        await this.setState(
          row.id,
          'Failed',
          `Rampart restarted while ${what(row)} ran from the backup and could not bring the mount back: ${reason}. The mount was cleaned up.${detail}`,
        );
        throw err;
      } finally {
        if (!(vsphere instanceof Error)) await vsphere.logout().catch(() => undefined);
      }
    });
    await this.deps.runner.settled(session.id);
    return this.live.has(row.id);
  }

  /**
   * A read-only, time-limited NBD export of each disk of a restore point, for other tools
   * (qemu-img convert, nbdcopy). The export names are 256-bit random tokens, unlisted: the
   * URI is the credential, handed only to an authenticated caller.
   */
  /** `exportNames` are secrets (each is the credential of its export): for `unpublish`, never for a reply or a log. */
  async publish(pointId: string, ttlMs: number): Promise<{ expiresAt: Date; disks: { name: string; capacity: number; uri: string }[]; exportNames: string[] }> {
    const source = await this.deps.restore.source(pointId, 'id');
    const nbd = await this.server();
    this.publisher ??= new ExportPublisher(nbd);
    const disks = [];
    const exportNames: string[] = [];
    let expiresAt = new Date(Date.now() + ttlMs);
    for (const disk of source.point.manifest.disks) {
      const reader = await openDisk(source.store, source.point, disk.key);
      const published = this.publisher.publish(reader, { ttlMs, logLabel: `restore point ${pointId} ${disk.name}` });
      expiresAt = published.expiresAt;
      exportNames.push(published.name);
      disks.push({ name: disk.name, capacity: disk.capacity, uri: published.uri });
    }
    return { expiresAt, disks, exportNames };
  }

  /** Ends published exports before their time (a revoked recovery token); their clients are disconnected. */
  async unpublish(exportNames: readonly string[]): Promise<void> {
    const publisher = this.publisher;
    if (publisher) await Promise.all(exportNames.map((name) => publisher.unpublish(name)));
  }

  /**
   * Shutdown: each mount's FUSE mounts and exports are closed and its redo files flushed and
   * kept; the vSphere side, the staging folder and the row (Mounted) stay, so the next start
   * brings the mount back with the guest's writes.
   */
  async close(): Promise<void> {
    await this.publisher?.closeAll();
    for (const [id, live] of this.live) {
      for (const fuse of live.fuse) await fuse.unmount().catch(() => undefined);
      for (const name of live.record.exports) if (this.nbd?.hasExport(name)) await this.nbd.removeExport(name).catch(() => undefined);
      for (const overlay of live.overlays) await overlay.close({ keep: true }).catch(() => undefined);
      this.live.delete(id);
    }
    await this.nbd?.close();
  }
}

function what(row: InstantRecoveryMountsTable): string {
  return row.kind === 'fcd' ? 'these disks' : 'this VM';
}

/** Unregisters the recovered VM (powered off) so its disks stop changing; the datastore and export stay until the copy is done. */
async function unmountVmOnly(session: VsphereSession, record: MountRecord): Promise<void> {
  if (!record.vm) return;
  await unmountRestorePoint({ ...record, datastore: undefined, exports: [], redoFiles: [], folder: path.join(record.folder, '.none') }, { session });
}

export function instantVmRecoveryMountModel(row: InstantRecoveryMountsTable, revision: string | undefined, extra: { jobName?: string; restorePointDate?: string } = {}) {
  return shapeModel(INSTANT_VM_RECOVERY_MOUNT, revision, {
    id: row.id,
    sessionId: row.session_id,
    state: row.state,
    spec: JSON.parse(row.spec) as unknown,
    vmName: row.vm_name,
    jobName: extra.jobName ?? '',
    restorePointDate: extra.restorePointDate ?? row.creation_time,
    hostName: row.host_name,
    errorMessage: row.error_message ?? undefined,
  });
}

/** The posted spec in the 1.2+ spelling (restorePointId, datastore.redirectEnabled); replies rename it back for 1.1 readers. */
function newestSpelling(spec: unknown): Record<string, unknown> {
  const out = { ...(spec as Record<string, unknown>) };
  if (out.objectRestorePointId !== undefined) {
    out.restorePointId ??= out.objectRestorePointId;
    delete out.objectRestorePointId;
  }
  const ds = out.datastore;
  if (typeof ds === 'object' && ds !== null && 'redirectIsEnabled' in ds) {
    const { redirectIsEnabled, ...rest } = ds as Record<string, unknown>;
    out.datastore = { ...rest, redirectEnabled: redirectIsEnabled };
  }
  return out;
}
