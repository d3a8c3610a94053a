import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../../store/database.js';
import type { ScaleOutRepositoriesTable } from '../../store/schema.js';
import { fetchPage, whereNameLike, type PageRequest } from '../../store/paged-query.js';
import { inTransaction, type Executor } from '../../store/transaction.js';
import type { ReferenceRegistry } from '../../store/references.js';
import { isUniqueViolation } from '../../store/unique-violation.js';
import type { SessionRunner } from '../../sessions/runner.js';
import type { SessionRecord } from '../../sessions/model.js';
import { StorageCheckError } from '../../storage/figures.js';
import { badRequest, notFound } from '../../http/errors.js';
import { renamedField } from '../../http/renamed-fields.js';
import { toStoredInstant } from '../../http/dates.js';
import { ENCRYPTION_PASSWORD_KIND, type EncryptionPasswordsService } from '../encryption-passwords/service.js';
import { REPOSITORY_KIND, accessModel, checkAccess, storedAccess, type ExtentAccess, type ExtentCriteria, type RepositoriesService } from '../repositories/service.js';
import type { RepositoryRescan } from '../repositories/rescan.js';
import { settingsOf, type RepositoryRow } from '../repositories/model.js';
import { ARCHIVE_TIER_TYPES, CAPACITY_TIER_TYPES, TYPE_CATALOGUE } from '../repositories/type-catalogue.js';
import type { RepositoryType } from '../repositories/schemas.js';
import { extentStatus, refuseTransition, type ExtentRow, type ModeAction } from './modes.js';
import { moveFolderContents } from './evacuate.js';

export type ScaleOutRow = Selectable<ScaleOutRepositoriesTable>;
type Obj = Record<string, unknown>;

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const ALLOWED_BACKUPS = ['All', 'FullsOnly', 'IncrementsOnly', 'None'];

interface Prepared {
  name: string;
  description: string;
  uniqueId: string;
  settings: Obj;
  extents: { id: string; tier: 'performance' | 'capacity' | 'archive' }[];
  encryptionPasswordId: string | null;
}

export interface ScaleOutDeps {
  store: Store;
  runner: SessionRunner;
  repositories: RepositoriesService;
  rescan: RepositoryRescan;
  encryptionPasswords: EncryptionPasswordsService;
  references: ReferenceRegistry;
}

export class ScaleOutRepositoriesService {
  constructor(private readonly deps: ScaleOutDeps) {
    deps.references.register(REPOSITORY_KIND, async (db, id) => {
      const rows = await db
        .selectFrom('scale_out_extents')
        .innerJoin('scale_out_repositories as s', 's.id', 'scale_out_extents.scale_out_id')
        .select(['s.id', 's.name'])
        .where('scale_out_extents.repository_id', '=', id)
        .execute();
      return rows.map((r) => ({ kind: 'scale-out repository', id: r.id, name: r.name }));
    });
    deps.references.register(ENCRYPTION_PASSWORD_KIND, async (db, id) => {
      const rows = await db.selectFrom('scale_out_repositories').select(['id', 'name', 'settings']).execute();
      return rows.filter((r) => r.settings.toLowerCase().includes(id.toLowerCase())).map((r) => ({ kind: 'scale-out repository', id: r.id, name: r.name }));
    });
    deps.repositories.extentAccess = (id) => this.extentAccess(id);
    deps.repositories.extentMembers = (criteria) => this.extentMembers(criteria);
    deps.rescan.expand = (ids) => this.expandToExtents(ids);
  }

  /** Repositories that are extents matching every given part of the criteria (the 1.3 states filters). */
  private extentMembers(criteria: ExtentCriteria) {
    let query = this.deps.store.db
      .selectFrom('scale_out_extents')
      .innerJoin('scale_out_repositories', 'scale_out_repositories.id', 'scale_out_extents.scale_out_id')
      .select('scale_out_extents.repository_id');
    if (criteria.scaleOutId) query = query.where('scale_out_repositories.id', '=', criteria.scaleOutId.toLowerCase());
    if (criteria.tiers) query = query.where('scale_out_extents.tier', 'in', criteria.tiers);
    if (criteria.scaleOutName) query = whereNameLike(query, 'scale_out_repositories.name', criteria.scaleOutName);
    return query;
  }

  async list(page: PageRequest) {
    return fetchPage<ScaleOutRow>(this.deps.store.db.selectFrom('scale_out_repositories'), page, { nameColumn: 'name' });
  }

  async get(id: string): Promise<ScaleOutRow> {
    const row = await this.deps.store.db.selectFrom('scale_out_repositories').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
    if (!row) throw notFound(`Scale-out repository ${id} was not found.`, id);
    return row;
  }

  async extentsOf(db: Executor, ids: string[]): Promise<ExtentRow[]> {
    if (ids.length === 0) return [];
    return db.selectFrom('scale_out_extents').selectAll().where('scale_out_id', 'in', ids).orderBy('tier').orderBy('position').execute();
  }

  /** ScaleOutRepositoryModel of both revisions (enabled/isEnabled, tag/uniqueId, both encryption id spellings). */
  async models(rows: ScaleOutRow[]) {
    const extents = await this.extentsOf(
      this.deps.store.db,
      rows.map((r) => r.id),
    );
    const repos = new Map((await this.deps.repositories.getMany(extents.map((e) => e.repository_id))).map((r) => [r.id, r]));
    const active = await this.deps.rescan.activeSessions(extents.map((e) => e.repository_id));
    return rows.map((row) => {
      const s = JSON.parse(row.settings) as Obj;
      const mine = extents.filter((e) => e.scale_out_id === row.id);
      const capacity = (s.capacityTier ?? { enabled: false }) as Obj;
      const encryption = capacity.encryption as Obj | undefined;
      const archive = (s.archiveTier ?? { isEnabled: false }) as Obj;
      return {
        id: row.id,
        name: row.name,
        description: row.description,
        tag: row.unique_id,
        uniqueId: row.unique_id,
        performanceTier: {
          performanceExtents: mine
            .filter((e) => e.tier === 'performance')
            .map((e) => ({ id: e.repository_id, name: repos.get(e.repository_id)?.name ?? '', status: extentStatus(e, active.get(e.repository_id) ?? 0) })),
          ...(s.performanceAdvanced ? { advancedSettings: s.performanceAdvanced } : {}),
        },
        ...(s.placementPolicy ? { placementPolicy: s.placementPolicy } : {}),
        capacityTier: {
          ...capacity,
          enabled: capacity.enabled === true,
          isEnabled: capacity.enabled === true,
          extents: mine.filter((e) => e.tier === 'capacity').map((e) => ({ id: e.repository_id })),
          ...(encryption
            ? {
                encryption: {
                  ...encryption,
                  encryptionPasswordIdOrNull: encryption.encryptionPasswordId ?? null,
                  encryptionType: encryption.isEnabled ? 'ByUserPassword' : undefined,
                },
              }
            : {}),
        },
        archiveTier: { ...archive, ...(mine.some((e) => e.tier === 'archive') ? { extentId: mine.find((e) => e.tier === 'archive')!.repository_id } : {}) },
      };
    });
  }

  /** Rampart extension: the performance tier's capacity is the sum of its extents' measured figures. */
  async state(id: string) {
    const row = await this.get(id);
    const extents = await this.extentsOf(this.deps.store.db, [row.id]);
    const repos = new Map((await this.deps.repositories.getMany(extents.map((e) => e.repository_id))).map((r) => [r.id, r]));
    const active = await this.deps.rescan.activeSessions(extents.map((e) => e.repository_id));
    const list = extents.map((e) => {
      const r = repos.get(e.repository_id);
      return {
        id: e.repository_id,
        name: r?.name ?? '',
        tier: e.tier,
        status: extentStatus(e, active.get(e.repository_id) ?? 0),
        isOnline: Number(r?.is_online ?? 0) === 1,
        capacityGB: Number(r?.capacity_gb ?? 0),
        freeGB: Number(r?.free_gb ?? 0),
        usedSpaceGB: Number(r?.used_gb ?? 0),
      };
    });
    const perf = list.filter((e) => e.tier === 'performance');
    const sum = (k: 'capacityGB' | 'freeGB' | 'usedSpaceGB') => Math.round(perf.reduce((a, e) => a + e[k], 0) * 100) / 100;
    // Free space a new backup can use excludes extents that take no new writes.
    const writable = perf.filter((e) => e.status === 'Normal');
    return {
      id: row.id,
      name: row.name,
      capacityGB: sum('capacityGB'),
      freeGB: Math.round(writable.reduce((a, e) => a + e.freeGB, 0) * 100) / 100,
      usedSpaceGB: sum('usedSpaceGB'),
      isOnline: perf.some((e) => e.isOnline),
      extents: list,
    };
  }

  async add(spec: Obj, createdBy?: string): Promise<SessionRecord> {
    const p = await this.prepare(spec);
    await this.refuseDuplicateName(p.name);
    const id = randomUUID();
    return this.deps.runner.start(
      { name: 'Infrastructure Item Saving', type: 'Infrastructure', resourceId: id, resourceReference: `/api/v1/backupInfrastructure/scaleOutRepositories/${id}`, createdBy },
      async (ctx) => {
        await ctx.log(`Adding scale-out repository "${p.name}" with ${p.extents.length} extent(s)`);
        await this.logExtents(ctx.log.bind(ctx), p);
        await inTransaction(this.deps.store.db, async (trx) => {
          await this.claimExtents(trx, id, p);
          try {
            await trx
              .insertInto('scale_out_repositories')
              .values({ id, ...this.columns(p), access: JSON.stringify({ accessPolicy: 'AllowAll', accounts: [], encryptBackups: false }), creation_time: toStoredInstant() })
              .execute();
          } catch (err) {
            if (isUniqueViolation(err)) throw new StorageCheckError(`A scale-out repository named "${p.name}" was added meanwhile; choose another name.`);
            throw err;
          }
        });
        await ctx.log(`Scale-out repository "${p.name}" saved`);
      },
    );
  }

  async edit(id: string, model: Obj, createdBy?: string): Promise<SessionRecord> {
    const existing = await this.get(id);
    if (model.id !== undefined && String(model.id).toLowerCase() !== existing.id) throw badRequest(`The body's id ${String(model.id)} is not the id in the path (${id}).`, id);
    const p = await this.prepare(model, existing);
    await this.refuseDuplicateName(p.name, existing.id);
    return this.deps.runner.start(
      {
        name: 'Infrastructure Item Saving',
        type: 'Infrastructure',
        resourceId: existing.id,
        resourceReference: `/api/v1/backupInfrastructure/scaleOutRepositories/${existing.id}`,
        createdBy,
      },
      async (ctx) => {
        await ctx.log(`Editing scale-out repository "${existing.name}"`);
        await this.logExtents(ctx.log.bind(ctx), p);
        await inTransaction(this.deps.store.db, async (trx) => {
          const before = await this.extentsOf(trx, [existing.id]);
          const keep = new Set(p.extents.map((e) => e.id));
          const leaving = before.filter((e) => !keep.has(e.repository_id));
          const busy = leaving.find((e) => Number(e.evacuating) === 1);
          if (busy) throw new StorageCheckError(`Extent ${busy.repository_id} is being evacuated and cannot be removed from the scale-out repository now.`);
          await this.claimExtents(trx, existing.id, p, before);
          if (leaving.length)
            await trx
              .deleteFrom('scale_out_extents')
              .where(
                'repository_id',
                'in',
                leaving.map((e) => e.repository_id),
              )
              .execute();
          await trx.updateTable('scale_out_repositories').set(this.columns(p)).where('id', '=', existing.id).execute();
        });
        await ctx.log(`Scale-out repository "${p.name}" saved`);
      },
    );
  }

  async remove(id: string): Promise<void> {
    await inTransaction(this.deps.store.db, async (trx) => {
      const row = await trx.selectFrom('scale_out_repositories').select(['id', 'name']).where('id', '=', id.toLowerCase()).executeTakeFirst();
      if (!row) throw notFound(`Scale-out repository ${id} was not found.`, id);
      const evacuating = await trx.selectFrom('scale_out_extents').select('repository_id').where('scale_out_id', '=', row.id).where('evacuating', '=', 1).executeTakeFirst();
      if (evacuating) throw badRequest(`Scale-out repository "${row.name}" is evacuating extent ${evacuating.repository_id}; remove it when the evacuation ends.`, row.id);
      await trx.deleteFrom('scale_out_extents').where('scale_out_id', '=', row.id).execute();
      await trx.deleteFrom('scale_out_repositories').where('id', '=', row.id).execute();
    });
  }

  /** The access permissions in every document's fields (the route's reply shape picks each document's). */
  async accessPermissions(id: string) {
    return accessModel(storedAccess((await this.get(id)).access));
  }

  async setAccessPermissions(id: string, body: Obj) {
    const row = await this.get(id);
    const access = await checkAccess(body, this.deps.encryptionPasswords);
    await this.deps.store.db
      .updateTable('scale_out_repositories')
      .set({ access: JSON.stringify(access) })
      .where('id', '=', row.id)
      .execute();
    return accessModel(access);
  }

  /**
   * The mode operations: 201 + a RepositoryMaintenance (or RepositoryEvacuate)
   * session; the transition rules are checked in the session, which fails with
   * the reason when one extent cannot make the transition (then none changes).
   */
  async changeMode(id: string, action: ModeAction, repositoryIds: string[], createdBy?: string): Promise<SessionRecord> {
    const row = await this.get(id);
    const ids = [...new Set(repositoryIds.map((r) => r.toLowerCase()))];
    const evacuate = action === 'evacuateBackups';
    const title = {
      enableSealedMode: 'Enabling sealed mode',
      disableSealedMode: 'Disabling sealed mode',
      enableMaintenanceMode: 'Enabling maintenance mode',
      disableMaintenanceMode: 'Disabling maintenance mode',
      evacuateBackups: 'Evacuating backups',
    }[action];
    return this.deps.runner.start(
      {
        name: evacuate ? 'Repository Evacuate' : 'Repository Maintenance',
        type: evacuate ? 'RepositoryEvacuate' : 'RepositoryMaintenance',
        resourceId: row.id,
        resourceReference: `/api/v1/backupInfrastructure/scaleOutRepositories/${row.id}`,
        createdBy,
      },
      async (ctx) => {
        await ctx.log(`${title} on ${ids.length} extent(s) of scale-out repository "${row.name}"`);
        const { extents, names } = await this.checkTransition(row, action, ids);
        if (evacuate) return this.evacuate(row, extents, names, ctx);
        await inTransaction(this.deps.store.db, async (trx) => {
          const changes = {
            enableSealedMode: { sealed: 1 },
            disableSealedMode: { sealed: 0 },
            enableMaintenanceMode: { maintenance: 1 },
            disableMaintenanceMode: { maintenance: 0 },
          }[action];
          await trx.updateTable('scale_out_extents').set(changes).where('repository_id', 'in', ids).where('scale_out_id', '=', row.id).execute();
        });
        const active = await this.deps.rescan.activeSessions(ids);
        for (const e of extents) {
          const after = {
            ...e,
            ...{ enableSealedMode: { sealed: 1 }, disableSealedMode: { sealed: 0 }, enableMaintenanceMode: { maintenance: 1 }, disableMaintenanceMode: { maintenance: 0 } }[action],
          };
          const status = extentStatus(after, active.get(e.repository_id) ?? 0);
          const pending = status === 'Pending' ? `: pending until ${active.get(e.repository_id)} running session(s) on it end` : '';
          await ctx.log(`Extent "${names.get(e.repository_id)}" is now ${status}${pending}`, status === 'Pending' ? 'Warning' : 'Succeeded');
        }
      },
    );
  }

  private async checkTransition(row: ScaleOutRow, action: ModeAction, ids: string[]) {
    const all = await this.extentsOf(this.deps.store.db, [row.id]);
    const repos = new Map((await this.deps.repositories.getMany(ids)).map((r) => [r.id, r]));
    const active = await this.deps.rescan.activeSessions(ids);
    const names = new Map<string, string>();
    const extents: ExtentRow[] = [];
    for (const id of ids) {
      const e = all.find((x) => x.repository_id === id);
      const name = repos.get(id)?.name ?? id;
      names.set(id, name);
      if (!e || e.tier !== 'performance')
        throw new StorageCheckError(
          `Repository "${name}" (${id}) is not a performance extent of scale-out repository "${row.name}"; extent modes apply to performance extents only.`,
        );
      const reason = refuseTransition(action, extentStatus(e, active.get(id) ?? 0), Number(e.sealed) === 1, name);
      if (reason) throw new StorageCheckError(reason);
      extents.push(e);
    }
    return { extents, names, all, repos };
  }

  private async evacuate(
    row: ScaleOutRow,
    extents: ExtentRow[],
    names: Map<string, string>,
    ctx: { log: (t: string, s?: 'Succeeded' | 'Warning' | 'Failed' | 'None', d?: string) => Promise<number>; signal: AbortSignal },
  ) {
    const all = await this.extentsOf(this.deps.store.db, [row.id]);
    const leaving = new Set(extents.map((e) => e.repository_id));
    const targets = all.filter((e) => e.tier === 'performance' && !leaving.has(e.repository_id) && extentStatus(e, 0) === 'Normal');
    if (targets.length === 0)
      throw new StorageCheckError(
        `Scale-out repository "${row.name}" has no other performance extent in Normal mode to take the backups; add one or take another out of sealed/maintenance mode first.`,
      );
    const repos = new Map((await this.deps.repositories.getMany([...leaving, ...targets.map((t) => t.repository_id)])).map((r) => [r.id, r]));
    await this.deps.store.db
      .updateTable('scale_out_extents')
      .set({ evacuating: 1 })
      .where('repository_id', 'in', [...leaving])
      .execute();
    try {
      for (const e of extents) {
        ctx.signal.throwIfAborted();
        const source = repos.get(e.repository_id)!;
        const target = [...targets].sort((a, b) => Number(repos.get(b.repository_id)?.free_gb ?? 0) - Number(repos.get(a.repository_id)?.free_gb ?? 0))[0]!;
        const dest = repos.get(target.repository_id)!;
        const moved = await this.moveBackups(source, dest);
        await ctx.log(
          moved === undefined
            ? `Extent "${names.get(e.repository_id)}": Rampart holds no backups it can move on ${source.type} storage; nothing to evacuate`
            : `Moved ${moved} item(s) from "${source.name}" to "${dest.name}"`,
          moved === undefined ? 'Warning' : 'Succeeded',
        );
      }
    } finally {
      await this.deps.store.db
        .updateTable('scale_out_extents')
        .set({ evacuating: 0 })
        .where('repository_id', 'in', [...leaving])
        .execute();
    }
  }

  /** Local folders on the backup server are moved for real; other storage has nothing Rampart could move. */
  private async moveBackups(source: RepositoryRow, dest: RepositoryRow): Promise<number | undefined> {
    const [sh, dh] = [await this.deps.repositories.hostOf(source), await this.deps.repositories.hostOf(dest)];
    if (!sh?.isBackupServer || !dh?.isBackupServer) return undefined;
    const from = String((settingsOf(source).repository as Obj).path);
    const to = String((settingsOf(dest).repository as Obj).path);
    return moveFolderContents(from, to);
  }

  /** Sealed: no new writes. Maintenance (also while pending) or evacuation: no reads or writes. */
  async extentAccess(repositoryId: string): Promise<ExtentAccess> {
    const e = await this.deps.store.db
      .selectFrom('scale_out_extents')
      .innerJoin('scale_out_repositories as s', 's.id', 'scale_out_extents.scale_out_id')
      .select(['sealed', 'maintenance', 'evacuating', 's.name'])
      .where('repository_id', '=', repositoryId)
      .executeTakeFirst();
    if (!e) return { read: true, write: true };
    if (Number(e.maintenance) === 1 || Number(e.evacuating) === 1)
      return { read: false, write: false, reason: `an extent of scale-out repository "${e.name}" in maintenance mode` };
    if (Number(e.sealed) === 1) return { read: true, write: false, reason: `a sealed extent of scale-out repository "${e.name}"` };
    return { read: true, write: true };
  }

  private async expandToExtents(ids: string[]): Promise<string[]> {
    const sobrs = await this.deps.store.db
      .selectFrom('scale_out_repositories')
      .select('id')
      .where('id', 'in', ids.length ? ids : ['-'])
      .execute();
    if (sobrs.length === 0) return ids;
    const extents = await this.extentsOf(
      this.deps.store.db,
      sobrs.map((s) => s.id),
    );
    const sobrIds = new Set(sobrs.map((s) => s.id));
    return [...ids.filter((i) => !sobrIds.has(i)), ...extents.map((e) => e.repository_id)];
  }

  private async logExtents(log: (t: string) => Promise<number>, p: Prepared) {
    const repos = new Map((await this.deps.repositories.getMany(p.extents.map((e) => e.id))).map((r) => [r.id, r]));
    for (const e of p.extents) {
      const r = repos.get(e.id)!;
      await log(
        `${e.tier[0]!.toUpperCase()}${e.tier.slice(1)} extent "${r.name}" (${r.type}): ${Number(r.is_online) === 1 ? `online, ${Number(r.free_gb)} GB free of ${Number(r.capacity_gb)} GB` : `offline${r.state_error ? `: ${r.state_error}` : ''}`}`,
      );
    }
  }

  private columns(p: Prepared) {
    return {
      name: p.name,
      name_key: p.name.toLowerCase(),
      description: p.description,
      description_key: p.description.toLowerCase(),
      unique_id: p.uniqueId,
      settings: JSON.stringify(p.settings),
    };
  }

  /** Inserts the extent rows; the primary key on repository_id refuses one that another scale-out repository took meanwhile. */
  private async claimExtents(trx: Executor, sobrId: string, p: Prepared, before: ExtentRow[] = []) {
    const kept = new Map(before.map((e) => [e.repository_id, e]));
    const positions = { performance: 0, capacity: 0, archive: 0 };
    for (const e of p.extents) {
      const position = positions[e.tier]++;
      const old = kept.get(e.id);
      if (old) {
        await trx.updateTable('scale_out_extents').set({ tier: e.tier, position }).where('repository_id', '=', e.id).execute();
        continue;
      }
      try {
        await trx.insertInto('scale_out_extents').values({ repository_id: e.id, scale_out_id: sobrId, tier: e.tier, position, sealed: 0, maintenance: 0, evacuating: 0 }).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new StorageCheckError(`Repository ${e.id} became an extent of another scale-out repository meanwhile.`);
        throw err;
      }
    }
  }

  private async refuseDuplicateName(name: string, selfId?: string) {
    let q = this.deps.store.db.selectFrom('scale_out_repositories').select('id').where('name_key', '=', name.toLowerCase());
    if (selfId) q = q.where('id', '!=', selfId);
    const other = await q.executeTakeFirst();
    if (other) throw badRequest(`A scale-out repository named "${name}" already exists (${other.id}); choose another name.`, other.id);
  }

  /** Validation as Veeam documents it; every failure is a 400 naming the field. */
  private async prepare(body: Obj, existing?: ScaleOutRow): Promise<Prepared> {
    const name = (text(body.name) ?? '').trim();
    if (!name) throw badRequest('The request body is missing the required field "name".');
    if (body.description === undefined && !existing) throw badRequest('The request body is missing the required field "description".');
    const description = text(body.description) ?? existing?.description ?? '';
    const uniqueId = renamedField<string>(body, 'tag', 'uniqueId', existing?.unique_id) ?? existing?.unique_id ?? '';
    const perf = body.performanceTier as Obj;
    const perfIds = ((perf?.performanceExtents as Obj[] | undefined) ?? []).map((e) => String(e.id).toLowerCase());
    if (perfIds.length === 0) throw badRequest('The field "performanceTier.performanceExtents" must list at least one repository.');
    const extents: Prepared['extents'] = perfIds.map((id) => ({ id, tier: 'performance' as const }));

    const capacityIn = isObj(body.capacityTier) ? body.capacityTier : undefined;
    const capacityEnabled = capacityIn ? renamedField<boolean>(capacityIn, 'enabled', 'isEnabled') === true : false;
    let encryptionPasswordId: string | null = null;
    let capacityTier: Obj | undefined;
    if (capacityIn) {
      const { extents: capExtents, isEnabled: _i, encryption, ...rest } = capacityIn;
      capacityTier = { ...rest, enabled: capacityEnabled };
      const capIds = ((capExtents as Obj[] | undefined) ?? []).map((e) => String(e.id).toLowerCase());
      if (capacityEnabled && capIds.length === 0)
        throw badRequest('The field "capacityTier.extents" must list at least one object storage repository when the capacity tier is enabled.');
      if (capacityEnabled) extents.push(...capIds.map((id) => ({ id, tier: 'capacity' as const })));
      checkOffloadWindow(capacityIn.offloadWindow);
      const override = capacityIn.overridePolicy as Obj | undefined;
      if (override?.isEnabled === true) {
        const t = override.overrideSpaceThresholdPercents;
        if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > 99)
          throw badRequest('The field "capacityTier.overridePolicy.overrideSpaceThresholdPercents" must be a whole number from 1 to 99 when the override policy is enabled.');
      }
      if (isObj(encryption)) {
        const enc = { isEnabled: encryption.isEnabled === true } as Obj;
        if (enc.isEnabled) {
          const pid = text(encryption.encryptionPasswordId) ?? text(encryption.encryptionPasswordIdOrNull);
          if (!pid) throw badRequest('The field "capacityTier.encryption.encryptionPasswordIdOrNull" (1.2: encryptionPasswordId) is required when encryption is enabled.');
          const pw = await this.deps.encryptionPasswords.get(pid.toLowerCase()).catch((err) => {
            if ((err as { status?: number }).status === 404) throw badRequest(`The encryption password in "capacityTier.encryption" (${pid}) does not exist.`, pid);
            throw err;
          });
          encryptionPasswordId = pw.id;
          enc.encryptionPasswordId = pw.id;
          enc.encryptionPasswordTag = pw.unique_id;
          enc.encryptionPasswordUniqueId = pw.unique_id;
        }
        capacityTier.encryption = enc;
      }
    }
    const archiveIn = isObj(body.archiveTier) ? body.archiveTier : undefined;
    let archiveTier: Obj | undefined;
    if (archiveIn) {
      const { extentId, ...rest } = archiveIn;
      archiveTier = { ...rest, isEnabled: archiveIn.isEnabled === true };
      if (archiveIn.isEnabled === true) {
        if (!capacityEnabled) throw badRequest('The archive tier needs the capacity tier: enable "capacityTier" first.');
        if (!text(extentId)) throw badRequest('The field "archiveTier.extentId" is required when the archive tier is enabled.');
        extents.push({ id: String(extentId).toLowerCase(), tier: 'archive' });
        const days = archiveIn.archivePeriodDays;
        if (days !== undefined && (typeof days !== 'number' || !Number.isInteger(days) || days < 0 || days > 9999))
          throw badRequest('The field "archiveTier.archivePeriodDays" must be a whole number from 0 to 9999.');
      }
    }
    const placement = isObj(body.placementPolicy) ? body.placementPolicy : undefined;
    if (placement) {
      if (!['DataLocality', 'Performance'].includes(String(placement.type))) throw badRequest('The field "placementPolicy.type" must be one of: DataLocality, Performance.');
      for (const [i, s] of ((placement.settings as Obj[] | undefined) ?? []).entries()) {
        if (!perfIds.includes(String(s.extentId).toLowerCase())) throw badRequest(`The field "placementPolicy.settings[${i}].extentId" must be one of the performance extents.`);
        if (!ALLOWED_BACKUPS.includes(String(s.allowedBackups)))
          throw badRequest(`The field "placementPolicy.settings[${i}].allowedBackups" must be one of: ${ALLOWED_BACKUPS.join(', ')}.`);
      }
    }
    await this.checkExtents(extents, existing?.id);
    const settings: Obj = {};
    if (isObj(perf.advancedSettings)) settings.performanceAdvanced = perf.advancedSettings;
    if (placement) settings.placementPolicy = placement;
    if (capacityTier) settings.capacityTier = capacityTier;
    if (archiveTier) settings.archiveTier = archiveTier;
    return { name, description, uniqueId, settings, extents, encryptionPasswordId };
  }

  private async checkExtents(extents: Prepared['extents'], selfId: string | undefined) {
    const seen = new Set<string>();
    for (const e of extents) {
      if (seen.has(e.id)) throw badRequest(`Repository ${e.id} is listed twice; a repository can be one extent only.`, e.id);
      seen.add(e.id);
    }
    const repos = new Map((await this.deps.repositories.getMany(extents.map((e) => e.id))).map((r) => [r.id, r]));
    const taken = await this.deps.store.db
      .selectFrom('scale_out_extents')
      .innerJoin('scale_out_repositories as s', 's.id', 'scale_out_extents.scale_out_id')
      .select(['repository_id', 's.id', 's.name'])
      .where(
        'repository_id',
        'in',
        extents.map((e) => e.id),
      )
      .execute();
    for (const e of extents) {
      const r = repos.get(e.id);
      if (!r) throw badRequest(`The ${e.tier} extent ${e.id} is not a repository.`, e.id);
      const kind = TYPE_CATALOGUE[r.type as RepositoryType]?.kind;
      if (e.tier === 'performance' && kind === 'ObjectStorage')
        throw badRequest(`Repository "${r.name}" is object storage (${r.type}) and cannot be a performance extent; use it in the capacity tier.`, r.id);
      if (e.tier === 'capacity' && !CAPACITY_TIER_TYPES.includes(r.type as RepositoryType))
        throw badRequest(`Repository "${r.name}" (${r.type}) cannot be a capacity tier extent; it must be object storage such as S3Compatible, AmazonS3 or AzureBlob.`, r.id);
      if (e.tier === 'archive' && !ARCHIVE_TIER_TYPES.includes(r.type as RepositoryType))
        throw badRequest(`Repository "${r.name}" (${r.type}) cannot be the archive tier extent; it must be AmazonS3Glacier or AzureArchive.`, r.id);
      const other = taken.find((t) => t.repository_id === e.id && t.id !== selfId);
      if (other) throw badRequest(`Repository "${r.name}" is already an extent of scale-out repository "${other.name}" (${other.id}).`, r.id);
    }
  }
}

function checkOffloadWindow(window: unknown) {
  if (window === undefined || window === null) return;
  const days = (window as Obj).days;
  if (!Array.isArray(days)) throw badRequest('The field "capacityTier.offloadWindow.days" must be a list of {day, hours}.');
  for (const [i, d] of days.entries()) {
    if (!DAYS.includes(String((d as Obj).day))) throw badRequest(`The field "capacityTier.offloadWindow.days[${i}].day" must be one of: ${DAYS.join(', ')}.`);
    const hours = (d as Obj).hours;
    // Veeam's hours string: 24 comma-separated 0/1 flags, one per hour.
    if (typeof hours !== 'string' || !/^[01](,[01]){23}$/.test(hours.replace(/\s+/g, '')))
      throw badRequest(`The field "capacityTier.offloadWindow.days[${i}].hours" must be 24 comma-separated 0/1 flags, one per hour.`);
  }
}
