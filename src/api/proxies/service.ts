import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Store } from '../../store/database.js';
import { fetchPage, likePattern, type PageRequest } from '../../store/paged-query.js';
import type { ReferenceRegistry } from '../../store/references.js';
import { isUniqueViolation } from '../../store/unique-violation.js';
import type { SessionContext, SessionOutcome, SessionRunner } from '../../sessions/runner.js';
import type { SessionRecord } from '../../sessions/model.js';
import { logStep } from '../../sessions/steps.js';
import { ApiError, badRequest, notFound } from '../../http/errors.js';
import { ProbeError } from '../../probe/errors.js';
import { MANAGED_SERVER_KIND, SAVING_SESSION, type ManagedServersService } from '../managed-servers/service.js';
import { settingsFrom, storedSettings, type ProxyRow, type ProxySettings } from './model.js';

type Body = Record<string, unknown>;

export interface ProxyFilters {
  types?: string[];
  hostId?: string;
}

/** What an add or edit asks for, checked before any session. */
interface ProxyPlan {
  hostId: string;
  name: string;
  description: string;
  settings: ProxySettings;
}

const reference = (id: string) => `/api/v1/backupInfrastructure/proxies/${id}`;

/**
 * Backup proxies (ViProxy). A proxy is a role of a managed server: it is named
 * after it, one per server, and keeps it from being removed. Saving one checks,
 * in its session, that the server still presents its pinned identity.
 */
export class ProxiesService {
  constructor(
    private readonly store: Store,
    private readonly runner: SessionRunner,
    private readonly managedServers: ManagedServersService,
    references: ReferenceRegistry,
  ) {
    references.register(MANAGED_SERVER_KIND, async (db, hostId) => {
      const rows = await db.selectFrom('proxies').select(['id', 'name']).where('host_id', '=', hostId).execute();
      return rows.map((r) => ({ kind: 'backup proxy', id: r.id, name: r.name }));
    });
  }

  async list(page: PageRequest, filters: ProxyFilters) {
    let query = this.store.db.selectFrom('proxies');
    if (filters.types) query = query.where('type', 'in', filters.types);
    if (filters.hostId) query = query.where('host_id', '=', filters.hostId);
    if (page.nameFilter) query = query.where(sql<boolean>`name_key like ${likePattern(page.nameFilter)} escape '\\'`);
    return fetchPage<ProxyRow>(query, { ...page, nameFilter: undefined });
  }

  /**
   * 1.3's proxy states. Online is the proxy's managed server's last check; Rampart
   * proxies are never disabled nor out of date, so asking for those finds none.
   */
  async states(page: PageRequest, filters: ProxyFilters & { isDisabled?: boolean; isOnline?: boolean; isOutOfDate?: boolean }) {
    let query = this.store.db.selectFrom('proxies');
    if (filters.types) query = query.where('type', 'in', filters.types);
    if (filters.hostId) query = query.where('host_id', '=', filters.hostId);
    if (page.nameFilter) query = query.where(sql<boolean>`name_key like ${likePattern(page.nameFilter)} escape '\\'`);
    if (filters.isDisabled === true || filters.isOutOfDate === true) query = query.where(sql<boolean>`1 = 0`);
    if (filters.isOnline !== undefined) {
      const available = this.store.db.selectFrom('managed_servers').select('id').where('status', '=', 'Available');
      query = filters.isOnline ? query.where('host_id', 'in', available) : query.where('host_id', 'not in', available);
    }
    const { rows, total } = await fetchPage<ProxyRow>(query, { ...page, nameFilter: undefined });
    const hostIds = rows.map((r) => r.host_id);
    const online =
      hostIds.length === 0 ? [] : await this.store.db.selectFrom('managed_servers').select('id').where('id', 'in', hostIds).where('status', '=', 'Available').execute();
    return { rows, total, online: new Set(online.map((r) => r.id)) };
  }

  async get(id: string): Promise<ProxyRow> {
    const row = await this.store.db.selectFrom('proxies').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`Backup proxy ${id} was not found.`, id);
    return row;
  }

  /** Every proxy with its server's name (the automation export references servers by name). */
  async all(): Promise<ProxyRow[]> {
    return this.store.db.selectFrom('proxies').selectAll().orderBy('name_key').execute();
  }

  /** 400s now (unknown server, already a proxy); the server is checked in an Infrastructure session that stores the proxy only when all is well. */
  async add(spec: Body, createdBy: string): Promise<SessionRecord> {
    const plan = await this.plan(spec);
    const id = randomUUID();
    return this.runner.start({ name: SAVING_SESSION, type: 'Infrastructure', resourceId: id, resourceReference: reference(id), createdBy }, (ctx) =>
      this.save(ctx, id, plan, false),
    );
  }

  async edit(id: string, model: Body, createdBy: string): Promise<SessionRecord> {
    const plan = await this.planEdit(id, model);
    return this.runner.start({ name: SAVING_SESSION, type: 'Infrastructure', resourceId: id, resourceReference: reference(id), createdBy }, (ctx) =>
      this.save(ctx, id, plan, true),
    );
  }

  /** add() inside a session another section runs (an import): same checks, same steps. */
  async addInSession(ctx: SessionContext, spec: Body): Promise<SessionOutcome> {
    return this.save(ctx, randomUUID(), await this.plan(spec), false);
  }

  async editInSession(ctx: SessionContext, id: string, model: Body): Promise<SessionOutcome> {
    return this.save(ctx, id, await this.planEdit(id, model), true);
  }

  /** Documented as synchronous (204): nothing uses a proxy yet, so nothing can refuse it. */
  async remove(id: string): Promise<void> {
    const deleted = await this.store.db.deleteFrom('proxies').where('id', '=', id).executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) throw notFound(`Backup proxy ${id} was not found.`, id);
  }

  private async plan(spec: Body): Promise<ProxyPlan> {
    const server = spec.server as Body;
    const settings = settingsFrom(server);
    const host = await this.hostOf(String(server.hostId).toLowerCase());
    const taken = await this.store.db.selectFrom('proxies').select(['id']).where('host_id', '=', host.id).executeTakeFirst();
    if (taken) throw badRequest(`Server "${host.name}" is already a backup proxy (${taken.id}).`, taken.id);
    return { hostId: host.id, name: host.name, description: String(spec.description ?? ''), settings };
  }

  private async planEdit(id: string, model: Body): Promise<ProxyPlan> {
    const existing = await this.get(id);
    if (model.id !== undefined && model.id !== id) throw badRequest(`The body's id ${String(model.id)} is not the id in the path (${id}).`, id);
    const server = model.server as Body;
    if (String(server.hostId).toLowerCase() !== existing.host_id) {
      throw badRequest(`The server of a backup proxy cannot be changed (it is "${existing.name}", ${existing.host_id}); remove the proxy and add one on the other server.`, id);
    }
    if (model.name !== undefined && String(model.name).toLowerCase() !== existing.name_key) {
      throw badRequest(`The name of a backup proxy is its server's name ("${existing.name}") and cannot be changed.`, id);
    }
    return {
      hostId: existing.host_id,
      name: existing.name,
      description: String(model.description ?? existing.description),
      settings: settingsFrom(server, storedSettings(existing)),
    };
  }

  /** The server named by server.hostId, or a 400 saying it is not a managed server. */
  private async hostOf(hostId: string) {
    try {
      return await this.managedServers.get(hostId);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404)
        throw badRequest(`server.hostId ${hostId} is not a managed server: add the server first (POST /api/v1/backupInfrastructure/managedServers).`);
      throw err;
    }
  }

  private async save(ctx: SessionContext, id: string, plan: ProxyPlan, existing: boolean): Promise<SessionOutcome> {
    await this.managedServers.checkReachable(ctx, plan.hostId);
    const now = new Date().toISOString();
    const columns = { description: plan.description, description_key: plan.description.toLowerCase(), settings: JSON.stringify(plan.settings), updated_at: now };
    await logStep(ctx, `Saving backup proxy "${plan.name}" (${plan.settings.transportMode} mode, ${plan.settings.maxTaskCount} concurrent task(s))`, async () => {
      // The server may have been removed while it was probed.
      await this.managedServers.get(plan.hostId).catch(() => {
        throw new ProbeError('CommandFailed', `Server "${plan.name}" was removed meanwhile; nothing was stored.`);
      });
      if (existing) {
        const updated = await this.store.db.updateTable('proxies').set(columns).where('id', '=', id).executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) throw new ProbeError('CommandFailed', `Backup proxy "${plan.name}" was removed meanwhile; nothing was stored.`);
        return;
      }
      try {
        await this.store.db
          .insertInto('proxies')
          .values({ id, type: 'ViProxy', name: plan.name, name_key: plan.name.toLowerCase(), host_id: plan.hostId, creation_time: now, ...columns })
          .execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new ProbeError('CommandFailed', `Server "${plan.name}" was made a backup proxy meanwhile; nothing was stored.`);
        throw err;
      }
    });
    return { result: 'Success', message: `Backup proxy "${plan.name}" has been saved.` };
  }
}
