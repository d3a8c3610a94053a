import { randomUUID } from 'node:crypto';
import { sql, type SelectQueryBuilder } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { Store } from '../../store/database.js';
import { fetchPage, likePattern, type PageRequest } from '../../store/paged-query.js';
import { inTransaction, type Executor } from '../../store/transaction.js';
import { describeUsers, type ReferenceRegistry } from '../../store/references.js';
import { isUniqueViolation } from '../../store/unique-violation.js';
import type { SessionContext, SessionRunner } from '../../sessions/runner.js';
import type { SessionRecord } from '../../sessions/model.js';
import { toGB, StorageCheckError, type StorageFigures } from '../../storage/figures.js';
import type { PublicCloudEndpoints } from '../../storage/object-endpoint.js';
import { badRequest, notFound } from '../../http/errors.js';
import { renamedField } from '../../http/renamed-fields.js';
import { toStoredInstant } from '../../http/dates.js';
import { CREDENTIALS_KIND, type CredentialsService } from '../credentials/service.js';
import { CLOUD_CREDENTIALS_KIND, type CloudCredentialsService } from '../cloud-credentials/service.js';
import type { EncryptionPasswordsService } from '../encryption-passwords/service.js';
import { MANAGED_SERVER_KIND } from '../managed-servers/service.js';
import { checkRepository, isMeasurable, locate, measureRepository, type CheckDeps } from './checks.js';
import type { HostDirectory, RepositoryHost } from './hosts.js';
import { repositoryModel, settingsOf, type RepositoryRow } from './model.js';
import { referencesIn, settingsFrom, valueAt, type Obj } from './settings.js';
import { sessionSteps } from './session-steps.js';
import { DEFAULT_ACCESS, accessModel, checkAccess, storedAccess, type AccessPermissions } from './access.js';
import { TYPE_CATALOGUE } from './type-catalogue.js';
import { checkReferences } from './validation.js';
import type { RepositoryType } from './schemas.js';
import type { SecretStore } from '../../vault/secret-store.js';
import type { HardenedServiceAccess } from '../../chunkstore/hardened-backend.js';
import { HardenedAccessBook, installForRepository, isServiceHosted, measureThroughService } from './hardened.js';

/** Target kind under which the scale-out section registers "which scale-out repository uses repository X". */
export const REPOSITORY_KIND = 'repositories';

export interface RepositoryFilters {
  types?: string[];
  hostId?: string;
  path?: string;
  vmbApi?: string;
  vmbApiPlatform?: string;
  /** 1.3: leave out repositories that are extents of a scale-out repository. */
  excludeExtents?: boolean;
}

export interface StateFilters {
  id?: string;
  types?: string[];
  capacity?: number;
  freeSpace?: number;
  usedSpace?: number;
  isOnline?: boolean;
  /** 1.3: no repository has outdated components (Rampart deploys none), so `true` matches nothing. */
  isOutOfDate?: boolean;
  /** 1.3: only extents of these scale-out repositories / of these tiers / of scale-out repositories named like this. */
  extentOf?: ExtentCriteria;
  excludeExtents?: boolean;
}

/** Which extents a filter asks for; every part given must match. */
export interface ExtentCriteria {
  scaleOutId?: string;
  /** performance, capacity, archive */
  tiers?: string[];
  /** A scale-out repository name pattern (nameFilter rules). */
  scaleOutName?: string;
}

/**
 * The ids of the repositories that are extents matching the criteria, as a subquery: the
 * scale-out section owns membership and answers it (set by that section, like extentAccess).
 */
type RepositoriesQuery = SelectQueryBuilder<Database, 'repositories', object>;

export type ExtentMembers = (criteria: ExtentCriteria) => SelectQueryBuilder<Database, 'scale_out_extents' | 'scale_out_repositories', { repository_id: string }>;

/** What an extent's mode allows: the scale-out section answers for its extents. */
export interface ExtentAccess {
  read: boolean;
  write: boolean;
  /** "extent of scale-out repository X in maintenance mode" */
  reason?: string;
}
export type ExtentAccessLookup = (repositoryId: string) => Promise<ExtentAccess>;

export interface RepositoriesDeps {
  store: Store;
  runner: SessionRunner;
  hosts: HostDirectory;
  credentials: CredentialsService;
  cloudCredentials: CloudCredentialsService;
  encryptionPasswords: EncryptionPasswordsService;
  references: ReferenceRegistry;
  timeoutMs: number;
  endpoints: PublicCloudEndpoints;
  /** Seals hardened repositories' service access (the client key). */
  secrets: SecretStore;
  /** Test only: RAMPART_TEST_IMMUTABILITY_SECONDS (config.ts). */
  testImmutabilitySeconds?: number;
  /** AUTH_SYS identity for Nfs repositories (config.ts nfsIdentity). */
  nfsIdentity?: { uid: number; gid: number };
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
type Prepared = Awaited<ReturnType<RepositoriesService['prepare']>>;

export class RepositoriesService {
  /** Set by the scale-out section; until then every repository is fully usable. */
  extentAccess: ExtentAccessLookup = async () => ({ read: true, write: true });
  /** Set by the scale-out section; until then no repository is an extent. */
  extentMembers?: ExtentMembers;
  /** Called after figures change (the states refresher's cache, if any). */
  private readonly checkDeps: CheckDeps;
  private readonly hardened: HardenedAccessBook;

  constructor(private readonly deps: RepositoriesDeps) {
    this.hardened = new HardenedAccessBook(deps.secrets);
    this.checkDeps = {
      hosts: deps.hosts,
      cloudCredentials: deps.cloudCredentials,
      credentials: deps.credentials,
      timeoutMs: deps.timeoutMs,
      endpoints: deps.endpoints,
      ...(deps.nfsIdentity ? { nfsIdentity: deps.nfsIdentity } : {}),
      immutability: {
        accessOf: (repositoryId) => this.hardened.load(deps.store.db, repositoryId),
        ...(deps.testImmutabilitySeconds !== undefined ? { secondsOverride: deps.testImmutabilitySeconds } : {}),
      },
    };
    // Credentials, cloud credentials and managed servers (host, mount or gateway server) in use by a repository cannot be removed.
    for (const kind of [CREDENTIALS_KIND, CLOUD_CREDENTIALS_KIND, MANAGED_SERVER_KIND]) {
      deps.references.register(kind, (db, id) => this.usersOfId(db, id));
    }
  }

  get checks(): CheckDeps {
    return this.checkDeps;
  }

  /** Repositories whose settings mention `id` (a credentials record, cloud credentials or a managed server). */
  async usersOfId(db: Executor, id: string) {
    const pattern = `%${id.toLowerCase()}%`;
    const rows = await db
      .selectFrom('repositories')
      .select(['id', 'name', 'host_id', 'settings'])
      .where(({ or, eb }) => or([eb('host_id', '=', id), eb(sql<string>`lower(settings)`, 'like', pattern)]))
      .execute();
    return rows.map((r) => ({ kind: 'repository', id: r.id, name: r.name }));
  }

  async list(page: PageRequest, filters: RepositoryFilters) {
    let query = this.deps.store.db.selectFrom('repositories');
    if (filters.types) query = query.where('type', 'in', filters.types);
    if (filters.hostId) query = query.where('host_id', '=', filters.hostId.toLowerCase());
    if (filters.path) query = query.where(sql<boolean>`path_key like ${likePattern(filters.path)} escape '\\'`);
    // Rampart has no Veeam Data Platform (VMB API) plug-ins or platforms: no repository belongs to one.
    if (filters.vmbApi || filters.vmbApiPlatform) query = query.where(sql<boolean>`1 = 0`);
    if (filters.excludeExtents) query = this.withoutExtents(query);
    return fetchPage<RepositoryRow>(query, page, { nameColumn: 'name' });
  }

  async states(page: PageRequest, filters: StateFilters) {
    let query = this.deps.store.db.selectFrom('repositories');
    if (filters.id) query = query.where('id', '=', filters.id.toLowerCase());
    if (filters.types) query = query.where('type', 'in', filters.types);
    // The documented filters are single numbers; Rampart reads them as "at least" (GB).
    if (filters.capacity !== undefined) query = query.where('capacity_gb', '>=', filters.capacity);
    if (filters.freeSpace !== undefined) query = query.where('free_gb', '>=', filters.freeSpace);
    if (filters.usedSpace !== undefined) query = query.where('used_gb', '>=', filters.usedSpace);
    if (filters.isOnline !== undefined) query = query.where('is_online', '=', filters.isOnline ? 1 : 0);
    if (filters.isOutOfDate === true) query = query.where(sql<boolean>`1 = 0`);
    if (filters.excludeExtents) query = this.withoutExtents(query);
    if (filters.extentOf) {
      const members = this.extentMembers?.(filters.extentOf);
      query = members ? query.where('id', 'in', members) : query.where(sql<boolean>`1 = 0`);
    }
    return fetchPage<RepositoryRow>(query, page, { nameColumn: 'name' });
  }

  private withoutExtents(query: RepositoriesQuery): RepositoriesQuery {
    const members = this.extentMembers?.({});
    return members ? query.where('id', 'not in', members) : query;
  }

  async get(id: string): Promise<RepositoryRow> {
    const row = await this.deps.store.db.selectFrom('repositories').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
    if (!row) throw notFound(`Repository ${id} was not found.`, id);
    return row;
  }

  async getMany(ids: string[]): Promise<RepositoryRow[]> {
    if (ids.length === 0) return [];
    return this.deps.store.db
      .selectFrom('repositories')
      .selectAll()
      .where(
        'id',
        'in',
        ids.map((i) => i.toLowerCase()),
      )
      .execute();
  }

  async allRows(ids?: string[]): Promise<RepositoryRow[]> {
    let q = this.deps.store.db.selectFrom('repositories').selectAll();
    if (ids) q = q.where('id', 'in', ids.length ? ids : ['-']);
    return q.execute();
  }

  async hostOf(row: Pick<RepositoryRow, 'host_id'>): Promise<RepositoryHost | undefined> {
    return row.host_id ? this.deps.hosts.find(row.host_id) : undefined;
  }

  /**
   * Free bytes of a repository now (a job placing data on scale-out extents):
   * measured when the type can be, and stored as the repository's figures;
   * otherwise the last stored measurement; null when none is known.
   */
  async freeBytesNow(id: string, signal?: AbortSignal): Promise<number | null> {
    const row = await this.get(id);
    const host = await this.hostOf(row);
    if (isMeasurable(row.type, host)) {
      try {
        const figures = await measureRepository(row.type, settingsOf(row), host, this.checks, signal ?? new AbortController().signal);
        await this.saveFigures(id, { figures }, toStoredInstant());
        if (figures.freeBytes !== null) return figures.freeBytes;
      } catch {
        // Unreachable now: the stored figure (if any) still says more than nothing; the run's write reports the real problem.
      }
    }
    return row.measured_at && Number(row.is_online) === 1 && row.capacity_source !== 'unknown' ? Number(row.free_gb) * 1024 ** 3 : null;
  }

  /** POST: validation first (400), then a session that checks the storage and stores the repository only if every check passed. */
  async add(spec: Obj, options: { overwriteOwner?: boolean; createdBy?: string }): Promise<SessionRecord> {
    const prepared = await this.prepare(spec);
    await this.refuseDuplicateName(prepared.name, undefined);
    const id = randomUUID();
    return this.deps.runner.start(
      {
        name: 'Infrastructure Item Saving',
        type: 'Infrastructure',
        resourceId: id,
        resourceReference: `/api/v1/backupInfrastructure/repositories/${id}`,
        createdBy: options.createdBy,
      },
      (ctx) => this.addSteps(ctx, id, prepared, options.overwriteOwner === true),
    );
  }

  /**
   * add() inside a session another section runs (an automation import): the same
   * validation, storage checks and save, each step a record of that session's log.
   * Nothing is stored unless every check passed. Returns the new repository's id.
   */
  async addInSession(ctx: SessionContext, spec: Obj): Promise<string> {
    const prepared = await this.prepare(spec);
    await this.refuseDuplicateName(prepared.name, undefined);
    const id = randomUUID();
    await this.addSteps(ctx, id, prepared, false);
    return id;
  }

  /** edit() inside a session another section runs (an import overwriting a repository). */
  async editInSession(ctx: SessionContext, id: string, model: Obj): Promise<void> {
    const { existing, prepared, access } = await this.prepareEdit(id, model);
    await this.editSteps(ctx, existing, prepared, access);
  }

  private async addSteps(ctx: SessionContext, id: string, prepared: Prepared, overwriteOwner: boolean): Promise<void> {
    const steps = sessionSteps(ctx);
    await ctx.log(`Adding ${prepared.type} repository "${prepared.name}"${overwriteOwner ? ' (overwriteOwner: taking the folder over from any previous owner)' : ''}`);
    const save = async (figures: StorageFigures, access?: HardenedServiceAccess) => {
      ctx.signal.throwIfAborted();
      await steps.step(
        'Saving the repository',
        () => this.insert(id, prepared, figures, access),
        () => `Repository "${prepared.name}" saved${access ? '; the transport service access is sealed in the vault' : ''}`,
      );
    };
    if (isServiceHosted(prepared.type, prepared.host)) {
      await this.refuseSecondHardened(prepared.host!.id, prepared.host!.name, undefined);
      // Saved while the install's login is still open: a failure removes the service it installed.
      await installForRepository(id, prepared.settings, prepared.host!, this.deps.hosts, steps, { signal: ctx.signal, timeoutMs: this.deps.timeoutMs }, (installed) =>
        save(installed.figures, installed.access),
      );
    } else {
      await save(await checkRepository(prepared.type, prepared.settings, prepared.host, this.checkDeps, steps, { signal: ctx.signal }));
    }
  }

  /** One transport service per host, on its managementPort: a second hardened repository there would fight the first for the port. */
  private async refuseSecondHardened(hostId: string, hostName: string, selfId: string | undefined): Promise<void> {
    let q = this.deps.store.db.selectFrom('repositories').select(['id', 'name']).where('type', '=', 'LinuxHardened').where('host_id', '=', hostId);
    if (selfId) q = q.where('id', '!=', selfId);
    const other = await q.executeTakeFirst();
    if (other)
      throw new StorageCheckError(
        `Server "${hostName}" already holds hardened repository "${other.name}" (${other.id}), whose transport service uses the host's management port; Rampart runs one hardened repository per host.`,
      );
  }

  /** Edit of a hardened repository on a managed host: measured through its service; installed first if it never was (single-use credentials needed then). */
  private async checkHardenedEdit(
    existing: RepositoryRow,
    prepared: Prepared,
    steps: ReturnType<typeof sessionSteps>,
    signal: AbortSignal,
    save: (figures: StorageFigures, installed?: HardenedServiceAccess) => Promise<void>,
  ): Promise<void> {
    const access = await this.hardened.load(this.deps.store.db, existing.id);
    if (!access)
      return installForRepository(existing.id, prepared.settings, prepared.host!, this.deps.hosts, steps, { signal, timeoutMs: this.deps.timeoutMs }, (installed) =>
        save(installed.figures, installed.access),
      );
    const folder = String(valueAt(settingsOf(existing), 'repository.path'));
    const wanted = String(valueAt(prepared.settings, 'repository.path'));
    if (folder !== wanted || existing.host_id !== prepared.host!.id)
      throw new StorageCheckError(
        `The host and folder of hardened repository "${existing.name}" cannot change: its transport service serves ${folder} and holds immutable backups there. Add a new repository instead.`,
      );
    const figures = await steps.step('Measuring the repository through its transport service (no SSH login: Rampart keeps none for this host)', () =>
      measureThroughService(access, this.deps.timeoutMs),
    );
    await save(figures);
  }

  /** PUT: the full model; the type cannot change. The session re-checks the storage before anything is stored. */
  async edit(id: string, model: Obj, createdBy?: string): Promise<SessionRecord> {
    const { existing, prepared, access } = await this.prepareEdit(id, model);
    return this.deps.runner.start(
      {
        name: 'Infrastructure Item Saving',
        type: 'Infrastructure',
        resourceId: existing.id,
        resourceReference: `/api/v1/backupInfrastructure/repositories/${existing.id}`,
        createdBy,
      },
      (ctx) => this.editSteps(ctx, existing, prepared, access),
    );
  }

  private async prepareEdit(id: string, model: Obj) {
    const existing = await this.get(id);
    if (model.id !== undefined && String(model.id).toLowerCase() !== existing.id) throw badRequest(`The body's id ${String(model.id)} is not the id in the path (${id}).`, id);
    if (model.type !== existing.type) throw badRequest(`The type of a repository cannot be changed (it is ${existing.type}); add a new repository instead.`, id);
    const prepared = await this.prepare(model, existing);
    await this.refuseDuplicateName(prepared.name, existing.id);
    const access = await this.extentAccess(existing.id);
    return { existing, prepared, access };
  }

  private async editSteps(ctx: SessionContext, existing: RepositoryRow, prepared: Prepared, access: ExtentAccess): Promise<void> {
    const steps = sessionSteps(ctx);
    await ctx.log(`Editing ${existing.type} repository "${existing.name}"`);
    const save = async (figures: StorageFigures | undefined, installed?: HardenedServiceAccess) => {
      ctx.signal.throwIfAborted();
      await steps.step(
        'Saving the repository',
        () => this.update(existing.id, prepared, figures, installed),
        () => `Repository "${prepared.name}" saved`,
      );
    };
    if (!access.read) {
      await steps.note(`The repository is ${access.reason}: no reads or writes, so the storage is not checked; settings only`, true);
      return save(undefined);
    }
    if (!access.write) await steps.note(`The repository is ${access.reason}: no new writes, so the write check is skipped`, true);
    if (isServiceHosted(prepared.type, prepared.host)) return this.checkHardenedEdit(existing, prepared, steps, ctx.signal, save);
    await save(await checkRepository(prepared.type, prepared.settings, prepared.host, this.checkDeps, steps, { signal: ctx.signal, write: access.write }));
  }

  async remove(id: string, deleteBackups: boolean): Promise<void> {
    await inTransaction(this.deps.store.db, async (trx) => {
      const row = await trx.selectFrom('repositories').select(['id', 'name']).where('id', '=', id.toLowerCase()).executeTakeFirst();
      if (!row) throw notFound(`Repository ${id} was not found.`, id);
      const users = await this.deps.references.usersOf(trx, REPOSITORY_KIND, row.id);
      if (users.length > 0)
        throw badRequest(`Repository "${row.name}" (${row.id}) cannot be removed: it is an extent of ${describeUsers(users)}. Remove it from there first.`, row.id);
      // Rampart keeps no backups yet, so deleteBackups has nothing to delete; the folder itself is left as it is.
      void deleteBackups;
      await trx.deleteFrom('repositories').where('id', '=', row.id).execute();
      // A hardened repository's service keeps running on its host (Rampart holds no login to stop it); its access is forgotten.
      await this.hardened.remove(trx, row.id);
    });
  }

  async accessPermissions(id: string): Promise<AccessPermissions> {
    return storedAccess((await this.get(id)).access);
  }

  async setAccessPermissions(id: string, body: Obj): Promise<AccessPermissions> {
    const row = await this.get(id);
    const access = await checkAccess(body, this.deps.encryptionPasswords);
    await this.deps.store.db
      .updateTable('repositories')
      .set({ access: JSON.stringify(access) })
      .where('id', '=', row.id)
      .execute();
    return access;
  }

  /** Stores a measurement made by the refresher or a rescan. */
  async saveFigures(id: string, outcome: { figures?: StorageFigures; error?: string }, measuredAt: string): Promise<void> {
    const f = outcome.figures;
    const changes = f
      ? {
          capacity_gb: toGB(f.capacityBytes),
          free_gb: toGB(f.freeBytes),
          used_gb: toGB(f.usedBytes),
          capacity_source: f.source,
          is_online: 1,
          state_error: null,
          measured_at: measuredAt,
        }
      : { is_online: 0, state_error: outcome.error ?? 'Unavailable', measured_at: measuredAt };
    await this.deps.store.db.updateTable('repositories').set(changes).where('id', '=', id).execute();
  }

  private async prepare(body: Obj, existing?: RepositoryRow) {
    const type = body.type as RepositoryType;
    const def = TYPE_CATALOGUE[type];
    if (!def)
      throw badRequest(
        `Repositories of type ${type} cannot be added through the REST API: the 1.1-rev0 document gives no specification for them. Supported types: ${Object.keys(TYPE_CATALOGUE).join(', ')}.`,
      );
    const name = (text(body.name) ?? '').trim();
    if (!name) throw badRequest('The request body is missing the required field "name".');
    if (body.description === undefined && !existing) throw badRequest('The request body is missing the required field "description".');
    const description = text(body.description) ?? existing?.description ?? '';
    const uniqueId = renamedField<string>(body, 'tag', 'uniqueId', existing?.unique_id) ?? existing?.unique_id ?? '';
    const settings = settingsFrom(type, def, body, existing ? settingsOf(existing) : undefined);
    const host = await checkReferences(type, referencesIn(def, settings), this.deps);
    return { type, name, description, uniqueId, settings, host };
  }

  private async refuseDuplicateName(name: string, selfId: string | undefined): Promise<void> {
    let q = this.deps.store.db.selectFrom('repositories').select('id').where('name_key', '=', name.toLowerCase());
    if (selfId) q = q.where('id', '!=', selfId);
    const other = await q.executeTakeFirst();
    if (other) throw badRequest(`A repository named "${name}" already exists (${other.id}); choose another name.`, other.id);
  }

  private described(p: { type: string; name: string; description: string; uniqueId: string; settings: Obj; host: RepositoryHost | undefined }) {
    const where = locate(p.type, p.settings, p.host);
    return {
      name: p.name,
      name_key: p.name.toLowerCase(),
      description: p.description,
      description_key: p.description.toLowerCase(),
      unique_id: p.uniqueId,
      host_id: where.hostId,
      host_name: where.hostName,
      path: where.path,
      path_key: where.path?.toLowerCase() ?? null,
      settings: JSON.stringify(p.settings),
    };
  }

  private figureColumns(figures: StorageFigures) {
    return {
      capacity_gb: toGB(figures.capacityBytes),
      free_gb: toGB(figures.freeBytes),
      used_gb: toGB(figures.usedBytes),
      capacity_source: figures.source,
      is_online: 1,
      state_error: null,
      measured_at: toStoredInstant(),
    };
  }

  private async insert(id: string, p: Parameters<RepositoriesService['described']>[0], figures: StorageFigures, hardened?: HardenedServiceAccess): Promise<void> {
    try {
      await inTransaction(this.deps.store.db, async (trx) => {
        await trx
          .insertInto('repositories')
          .values({ id, type: p.type, ...this.described(p), access: JSON.stringify(DEFAULT_ACCESS), ...this.figureColumns(figures), creation_time: toStoredInstant() })
          .execute();
        if (hardened) await this.hardened.save(trx, id, hardened);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new StorageCheckError(`A repository named "${p.name}" was added meanwhile; choose another name.`);
      throw err;
    }
  }

  private async update(id: string, p: Parameters<RepositoriesService['described']>[0], figures: StorageFigures | undefined, hardened?: HardenedServiceAccess): Promise<void> {
    try {
      await inTransaction(this.deps.store.db, async (trx) => {
        await trx
          .updateTable('repositories')
          .set({ ...this.described(p), ...(figures ? this.figureColumns(figures) : {}) })
          .where('id', '=', id)
          .execute();
        if (hardened) await this.hardened.save(trx, id, hardened);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new StorageCheckError(`A repository named "${p.name}" was added meanwhile; choose another name.`);
      throw err;
    }
  }
}

/** RepositoryAccessPermissionsModel, checked: explicit lists need accounts, encryption needs an existing password. */

export { repositoryModel, accessModel, checkAccess, storedAccess, type AccessPermissions };
