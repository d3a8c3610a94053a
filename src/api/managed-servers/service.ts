import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Store } from '../../store/database.js';
import { fetchPage, likePattern, type PageRequest } from '../../store/paged-query.js';
import { inTransaction } from '../../store/transaction.js';
import { describeUsers, type ReferenceRegistry } from '../../store/references.js';
import type { SecretStore } from '../../vault/secret-store.js';
import type { SessionContext, SessionOutcome, SessionRunner } from '../../sessions/runner.js';
import type { SessionRecord } from '../../sessions/model.js';
import { logStep } from '../../sessions/steps.js';
import { badRequest, notFound } from '../../http/errors.js';
import { ProbeError } from '../../probe/errors.js';
import { CREDENTIALS_KIND } from '../credentials/service.js';
import { DEFAULT_PORTS, linuxSettingsOf, readSingleUseCredentials, type ConnectionService, type SingleUseCredentials } from '../connection/service.js';
import { ensureBackupServer } from './backup-server.js';
import { checkIdentity, storedPinOf, PinChanged } from './host-checks.js';
import type { ManagedServerRow } from './model.js';
import type { ManagedServerType } from '../connection/schemas.js';
import { planServer } from './plan.js';
import { singleUseOwner, storeSingleUse, takeSingleUse } from './single-use.js';
import { addServer, editServer, rescanServer, type WorkDeps } from './work.js';
import { exportKnownHosts, importKnownHosts, type ImportResult } from './known-hosts.js';

/**
 * The target kind under which later sections (repositories, proxies) register
 * "who uses managed server X" finders in the ReferenceRegistry; removing a
 * server asks them all, and its delete session fails naming the users.
 */
export const MANAGED_SERVER_KIND = 'managedServer';

export const SAVING_SESSION = 'Infrastructure Item Saving';
export const DELETION_SESSION = 'Infrastructure Item Deletion';
export const RESCAN_SESSION = 'Infrastructure Item Rescan';

export interface ManagedServerFilters {
  types?: string[];
  viTypes?: string[];
  /** Available / Unavailable; `Any` matches every server. */
  states?: string[];
  /** Updates states of Linux hosts. */
  updatesStates?: string[];
}

type Body = Record<string, unknown>;

/** The add/edit work reports progress for its own session; inside an import the import owns the progress. */
const withoutProgress = (ctx: SessionContext): SessionContext => ({ ...ctx, progress: async () => undefined });

const reference = (id: string) => `/api/v1/backupInfrastructure/managedServers/${id}`;

export class ManagedServersService {
  private readonly work: WorkDeps;

  constructor(
    private readonly store: Store,
    private readonly runner: SessionRunner,
    private readonly connection: ConnectionService,
    private readonly secrets: SecretStore,
    private readonly references: ReferenceRegistry,
  ) {
    this.work = { store, connection, secrets };
    // A credentials record a server logs in with cannot be removed while the server exists.
    references.register(CREDENTIALS_KIND, async (db, credentialsId) => {
      const rows = await db.selectFrom('managed_servers').select(['id', 'name']).where('credentials_id', '=', credentialsId).execute();
      return rows.map((r) => ({ kind: 'managed server', id: r.id, name: r.name }));
    });
  }

  /**
   * The login another section uses to work on a Linux server now: the permanent
   * credentials record's, or the server's single-use credentials, taken out of
   * the vault by this call (used once, then gone). Undefined when the
   * single-use ones were already used. Secrets stay in the returned object.
   */
  async takeLinuxLogin(row: ManagedServerRow): Promise<SingleUseCredentials | undefined> {
    if (row.credentials_storage_type === 'SingleUse') return takeSingleUse(this.store, this.secrets, row.id);
    if (!row.credentials_id) return undefined;
    const credentials = await this.connection.credentialsFor('LinuxHost', row.credentials_id);
    return { settings: linuxSettingsOf(credentials), secrets: await this.connection.secretsFor(row.credentials_id) };
  }

  /** Creates the backup server's own record if this is the first start; returns its id. */
  ensureBackupServer(): Promise<string> {
    return ensureBackupServer(this.store);
  }

  async list(page: PageRequest, filters: ManagedServerFilters) {
    let query = this.store.db.selectFrom('managed_servers');
    if (filters.types) query = query.where('type', 'in', filters.types);
    if (filters.viTypes) query = query.where('type', '=', 'ViHost').where('vi_host_type', 'in', filters.viTypes);
    if (filters.states && !filters.states.includes('Any')) query = query.where('status', 'in', filters.states);
    // Rampart installs no Veeam components on Linux hosts, so none has updates to offer: each
    // Linux host is "NotAvailable", and only Linux hosts have an updates state at all.
    if (filters.updatesStates) query = filters.updatesStates.includes('NotAvailable') ? query.where('type', '=', 'LinuxHost') : query.where(sql<boolean>`1 = 0`);
    if (page.nameFilter) {
      // "The pattern can match any server parameter": name or description.
      const pattern = likePattern(page.nameFilter);
      query = query.where(({ or }) => or(['name_key', 'description_key'].map((c) => sql<boolean>`${sql.ref(c)} like ${pattern} escape '\\'`)));
    }
    return fetchPage<ManagedServerRow>(query, { ...page, nameFilter: undefined });
  }

  async get(id: string): Promise<ManagedServerRow> {
    const row = await this.store.db.selectFrom('managed_servers').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`Managed server ${id} was not found.`, id);
    return row;
  }

  /** Checks the spec (400s now), then verifies the host in an Infrastructure session that stores it only when all is well. */
  async add(spec: Body, createdBy: string): Promise<SessionRecord> {
    const plan = await planServer(spec, this.connection);
    await this.refuseDuplicateName(plan.name);
    const id = randomUUID();
    return this.runner.start({ name: SAVING_SESSION, type: 'Infrastructure', resourceId: id, resourceReference: reference(id), createdBy }, (ctx) =>
      addServer(ctx, this.work, id, plan),
    );
  }

  async edit(id: string, model: Body, createdBy: string): Promise<SessionRecord> {
    const existing = await this.get(id);
    this.refuseEdit(existing, model);
    if (Number(existing.is_backup_server) === 1) return this.editBackupServer(existing, model, createdBy);
    const plan = await planServer(model, this.connection, existing);
    plan.name = existing.name;
    return this.runner.start({ name: SAVING_SESSION, type: 'Infrastructure', resourceId: id, resourceReference: reference(id), createdBy }, (ctx) =>
      editServer(ctx, this.work, existing, plan),
    );
  }

  /**
   * An add inside a session another section runs (an import): the same plan,
   * host checks and log steps as add(), without a session of its own. Throws
   * what add() would answer 400 with, or what its session would fail with.
   */
  async addInSession(ctx: SessionContext, spec: Body): Promise<SessionOutcome> {
    const plan = await planServer(spec, this.connection);
    await this.refuseDuplicateName(plan.name);
    return addServer(withoutProgress(ctx), this.work, randomUUID(), plan);
  }

  /** edit() inside a session another section runs (an import overwriting a server). */
  async editInSession(ctx: SessionContext, id: string, model: Body): Promise<SessionOutcome> {
    const existing = await this.get(id);
    this.refuseEdit(existing, model);
    if (Number(existing.is_backup_server) === 1) throw badRequest(`Server "${existing.name}" is the backup server itself: an import does not change it.`, id);
    const plan = await planServer(model, this.connection, existing);
    plan.name = existing.name;
    return editServer(withoutProgress(ctx), this.work, existing, plan);
  }

  /**
   * For sections whose objects live on a server (proxies): probes it now and
   * checks what it presents against its pin (SSH host key or TLS certificate),
   * each step in the caller's session. The backup server itself is not probed.
   */
  async checkReachable(ctx: SessionContext, id: string): Promise<ManagedServerRow> {
    const row = await this.get(id);
    if (Number(row.is_backup_server) === 1) {
      await ctx.log(`Server "${row.name}" is the backup server itself: nothing to probe`, 'Succeeded');
      return row;
    }
    const type = row.type as ManagedServerType;
    const check = await checkIdentity(ctx, this.connection, { type, name: row.name, port: row.port ?? DEFAULT_PORTS[type] }, storedPinOf(row), undefined);
    if (check.firstUse) throw new ProbeError('CommandFailed', `Server "${row.name}" has no pinned identity: rescan or edit it first.`);
    return row;
  }

  private refuseEdit(existing: ManagedServerRow, model: Body): void {
    const id = existing.id;
    if (model.id !== undefined && model.id !== id) throw badRequest(`The body's id ${String(model.id)} is not the id in the path (${id}).`, id);
    if (model.type !== existing.type) throw badRequest(`The type of a managed server cannot be changed (it is ${existing.type}).`, id);
    if (String(model.name).trim().toLowerCase() !== existing.name_key) {
      throw badRequest(
        `The name of a managed server cannot be changed (it is "${existing.name}", the host whose identity is pinned); remove the server and add the other host.`,
        id,
      );
    }
  }

  async remove(id: string, createdBy: string): Promise<SessionRecord> {
    const row = await this.get(id);
    if (Number(row.is_backup_server) === 1) throw badRequest(`Server "${row.name}" is the backup server itself and cannot be removed.`, id);
    return this.runner.start({ name: DELETION_SESSION, type: 'InfrastructureItemDeletion', resourceId: id, resourceReference: reference(id), createdBy }, async (ctx) => {
      await logStep(ctx, `Removing server "${row.name}"`, () =>
        inTransaction(this.store.db, async (trx) => {
          const users = await this.references.usersOf(trx, MANAGED_SERVER_KIND, id);
          if (users.length > 0) throw new ProbeError('CommandFailed', `Server "${row.name}" cannot be removed: it is used by ${describeUsers(users)}.`);
          await this.secrets.removeAll(trx, singleUseOwner(id));
          const deleted = await trx.deleteFrom('managed_servers').where('id', '=', id).executeTakeFirst();
          if (Number(deleted.numDeletedRows) === 0) throw new ProbeError('CommandFailed', `Server "${row.name}" was already removed.`);
        }),
      );
      return { result: 'Success', message: `Server "${row.name}" has been removed.` };
    });
  }

  /** Rampart's rescan: the host is checked against its pin again; Available or Unavailable with the reason. */
  async rescan(id: string, createdBy: string): Promise<SessionRecord> {
    const row = await this.get(id);
    return this.runner.start({ name: RESCAN_SESSION, type: 'Infrastructure', resourceId: id, resourceReference: reference(id), createdBy }, async (ctx) =>
      rescanServer(ctx, this.work, await this.get(row.id)),
    );
  }

  /** Stores Linux credentials as single-use (sealed): the next operation that logs in uses them once, then they are gone. */
  async updateSingleUseCredentials(id: string, spec: Body, createdBy: string): Promise<SessionRecord> {
    const row = await this.get(id);
    if (row.type !== 'LinuxHost') throw badRequest(`Single-use credentials are for Linux servers; "${row.name}" is a ${row.type}.`, id);
    if (Number(row.is_backup_server) === 1) throw badRequest(`Server "${row.name}" is the backup server itself: it needs no credentials.`, id);
    const credentials = readSingleUseCredentials(spec, 'body');
    return this.runner.start({ name: SAVING_SESSION, type: 'Infrastructure', resourceId: id, resourceReference: reference(id), createdBy }, async (ctx) => {
      // The host must still be the pinned one before anything is handed over for it.
      const current = await this.get(id);
      try {
        await checkIdentity(ctx, this.connection, { type: 'LinuxHost', name: current.name, port: current.port ?? 22 }, storedPinOf(current), undefined);
      } catch (err) {
        if (err instanceof PinChanged) {
          await this.store.db.updateTable('managed_servers').set({ status: 'Unavailable', status_reason: err.message }).where('id', '=', id).execute();
        }
        throw err;
      }
      await logStep(ctx, `Storing single-use credentials for "${credentials.settings.username}" (sealed; used once by the next operation, then discarded)`, () =>
        inTransaction(this.store.db, async (trx) => {
          const login = await storeSingleUse(trx, this.secrets, id, credentials);
          await trx
            .updateTable('managed_servers')
            .set({ credentials_storage_type: 'SingleUse', credentials_id: null, single_use_login: login, updated_at: new Date().toISOString() })
            .where('id', '=', id)
            .execute();
        }),
      );
      return { result: 'Success', message: `Server "${current.name}" now uses single-use credentials.` };
    });
  }

  exportKnownHosts(hashed: boolean): Promise<string> {
    return exportKnownHosts(this.store, hashed);
  }

  importKnownHosts(text: string): Promise<ImportResult[]> {
    return importKnownHosts(this.store, text);
  }

  private async editBackupServer(existing: ManagedServerRow, model: Body, createdBy: string): Promise<SessionRecord> {
    const description = typeof model.description === 'string' ? model.description : existing.description;
    return this.runner.start({ name: SAVING_SESSION, type: 'Infrastructure', resourceId: existing.id, resourceReference: reference(existing.id), createdBy }, async (ctx) => {
      await logStep(ctx, `Saving server "${existing.name}" (the backup server: only its description changes)`, async () => {
        await this.store.db
          .updateTable('managed_servers')
          .set({ description, description_key: description.toLowerCase(), updated_at: new Date().toISOString() })
          .where('id', '=', existing.id)
          .execute();
      });
      return { result: 'Success', message: `Server "${existing.name}" has been saved.` };
    });
  }

  private async refuseDuplicateName(name: string): Promise<void> {
    const other = await this.store.db.selectFrom('managed_servers').select(['id', 'name']).where('name_key', '=', name.toLowerCase()).executeTakeFirst();
    if (other) throw badRequest(`A managed server named "${other.name}" already exists (${other.id}).`, other.id);
  }
}
