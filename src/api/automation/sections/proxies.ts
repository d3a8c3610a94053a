import { MAX_LIMIT } from '../../../http/paging.js';
import type { SessionOutcome } from '../../../sessions/runner.js';
import type { ManagedServersService } from '../../managed-servers/service.js';
import type { ProxiesService } from '../../proxies/service.js';
import { settingsOut, storedSettings } from '../../proxies/model.js';
import { ProxiesExportSpec, ProxiesImportSpecCollection } from '../infrastructure-schemas.js';
import { arrayItems, wildcardMatcher, type AutomationSection, type ImportItem, type ImportPlan } from '../section.js';
import { serverIdentity } from './managed-servers.js';

type Raw = Record<string, unknown>;

/** A proxy is known by its server (one proxy per server, named after it). */
const proxyIdentity = (hostName: string) => `host:${hostName.trim().toLowerCase()}`;
const hostNameOf = (item: ImportItem) => String((item.raw.server as Raw).hostName);

function describe(raw: Raw) {
  const host = String((raw.server as Raw).hostName);
  return { identity: proxyIdentity(host), label: `${String(raw.type)} "${host}"` };
}

const warningsOf = (outcome: SessionOutcome): string[] => (outcome.result === 'Warning' ? [outcome.message ?? 'saved with warnings'] : []);

export function proxiesSection(proxies: ProxiesService, servers: ManagedServersService): AutomationSection {
  const hostIds = async () => new Map((await servers.list({ skip: 0, limit: MAX_LIMIT, orderBy: 'name_key', orderAsc: true }, {})).rows.map((r) => [r.name_key, r.id]));
  /** The ProxySpec/ProxyModel body adding or editing by hand takes: the server named by hostName becomes its hostId. */
  const body = async (item: ImportItem): Promise<Raw> => {
    const { hostName, hostTag: _tag, hostUniqueId: _uid, ...settings } = item.raw.server as Raw;
    const hostId = (await hostIds()).get(String(hostName).trim().toLowerCase());
    if (!hostId) throw new Error(`The managed server "${String(hostName)}" was not found.`);
    return { description: item.raw.description, type: item.raw.type, server: { ...settings, hostId } };
  };

  return {
    kind: 'proxies',
    order: 50,
    exportSchema: ProxiesExportSpec,
    importSchema: ProxiesImportSpecCollection,
    secretPaths: [],
    items: (collection) => arrayItems(collection, ['proxies'], describe),
    async export(filter) {
      const ids = filter.ids as string[] | undefined;
      const types = filter.types as string[] | undefined;
      const names = wildcardMatcher(filter.names as string[] | undefined);
      const rows = (await proxies.all()).filter((r) => (!ids || ids.includes(r.id)) && (!types || types.includes(r.type)) && (!names || names(r.name)));
      // Managed servers carry no tag in Rampart: the server is referenced by its name alone.
      return { proxies: rows.map((r) => ({ description: r.description, type: r.type, server: { hostName: r.name, ...settingsOut(storedSettings(r)) } })) };
    },
    async existing() {
      return new Map((await proxies.all()).map((r) => [proxyIdentity(r.name), r.id]));
    },
    async missingReferences(item: ImportItem, plan: ImportPlan) {
      const host = hostNameOf(item);
      if ((await hostIds()).has(host.trim().toLowerCase()) || plan.plannedIn('managedServers', serverIdentity(host))) return [];
      return [`managed server "${host}"`];
    },
    async create(item, ctx) {
      return warningsOf(await proxies.addInSession(ctx, await body(item)));
    },
    async overwrite(item, id, ctx) {
      return warningsOf(await proxies.editInSession(ctx, id, await body(item)));
    },
  };
}
