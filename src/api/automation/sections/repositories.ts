import { MAX_LIMIT } from '../../../http/paging.js';
import type { CredentialsService } from '../../credentials/service.js';
import type { CloudCredentialsService } from '../../cloud-credentials/service.js';
import type { ManagedServersService } from '../../managed-servers/service.js';
import type { RepositoriesService } from '../../repositories/service.js';
import { settingsOf } from '../../repositories/model.js';
import { TYPE_CATALOGUE } from '../../repositories/type-catalogue.js';
import type { RepositoryType } from '../../repositories/schemas.js';
import { REPOSITORY_KEYS, RepositoriesExportSpec, RepositoriesImportSpecCollection, type ImportableType } from '../repository-schemas.js';
import { arrayItems, wildcardMatcher, type AutomationSection, type ImportItem, type ImportPlan } from '../section.js';
import { cloudCredentialsIdentity } from './cloud-credentials.js';
import { credentialsIdentity } from './credentials.js';
import { serverIdentity } from './managed-servers.js';
import { describeReference, itemFromSettings, referencesOf, resolveReference, specFromItem, type Directory, type NamedReference } from './repository-references.js';
import { repositoryExport } from '../../../revisions/replies/repositories.js';

type Raw = Record<string, unknown>;

/** A repository is known by its name: the rule that refuses a duplicate added by hand. */
const repositoryIdentity = (name: string) => `name:${name.trim().toLowerCase()}`;

function describe(raw: Raw) {
  return { identity: repositoryIdentity(String(raw.name)), label: `${String(raw.type)} repository "${String(raw.name)}"` };
}

/** The identity under which the section that creates the referenced object plans it in this import. */
function plannedAs(ref: NamedReference): [string, string] {
  if (ref.kind === 'server') return ['managedServers', serverIdentity(ref.name)];
  if (ref.kind === 'credentials') return ['credentials', credentialsIdentity('Standard', ref.name, ref.tag)];
  return ['cloudcredentials', cloudCredentialsIdentity(ref.type, ref.name, ref.tag)];
}

export interface RepositoriesSectionDeps {
  repositories: RepositoriesService;
  servers: ManagedServersService;
  credentials: CredentialsService;
  cloudCredentials: CloudCredentialsService;
}

export function repositoriesSection(deps: RepositoriesSectionDeps): AutomationSection {
  /** What this server has, loaded only for the kinds the item references (10,000 credentials need not be read for a local folder). */
  const directory = async (refs?: NamedReference[]): Promise<Directory> => {
    const needs = (kind: NamedReference['kind']) => !refs || refs.some((r) => r.kind === kind);
    const [servers, credentials, cloud] = await Promise.all([
      needs('server') ? deps.servers.list({ skip: 0, limit: MAX_LIMIT, orderBy: 'name_key', orderAsc: true }, {}) : { rows: [] },
      needs('credentials') ? deps.credentials.list({ skip: 0, limit: MAX_LIMIT, orderBy: 'username_key', orderAsc: true }, {}) : { rows: [] },
      needs('cloud') ? deps.cloudCredentials.list({ skip: 0, limit: MAX_LIMIT, orderBy: 'name_key', orderAsc: true }, undefined) : { rows: [] },
    ]);
    return { servers: new Map(servers.rows.map((r) => [r.name_key, r.id])), credentials: credentials.rows, cloud: cloud.rows };
  };
  const directoryFor = (item: ImportItem) => directory(referencesOf(item.raw));

  return {
    kind: 'repositories',
    order: 40,
    exportSchema: RepositoriesExportSpec,
    importSchema: RepositoriesImportSpecCollection,
    exportReply: repositoryExport(Object.values(REPOSITORY_KEYS)),
    secretPaths: [],
    items: (collection) => arrayItems(collection, Object.values(REPOSITORY_KEYS), describe),
    async export(filter) {
      const ids = (filter.ids as string[] | undefined)?.map((i) => i.toLowerCase());
      const types = filter.types as string[] | undefined;
      const names = wildcardMatcher(filter.names as string[] | undefined);
      const dir = await directory();
      // Display names (the directory keys servers by lower-cased name).
      const servers = (await deps.servers.list({ skip: 0, limit: MAX_LIMIT, orderBy: 'name_key', orderAsc: true }, {})).rows;
      const serverNames = new Map(servers.map((r) => [r.id, r.name]));
      const backupServerName = servers.find((r) => Number(r.is_backup_server) === 1)?.name ?? '';
      const credentials = new Map(dir.credentials.map((r) => [r.id, { credentialsName: r.username, credentialsTag: r.unique_id }]));
      const cloud = new Map(dir.cloud.map((r) => [r.id, { name: r.name, tag: r.unique_id, type: r.type }]));
      // The references registry keeps referenced objects from removal, so every id has a name; the id stands in if not.
      const lookup = {
        server: (id: string) => serverNames.get(id.toLowerCase()) ?? id,
        credentials: (id: string) => credentials.get(id.toLowerCase()) ?? { credentialsName: id, credentialsTag: '' },
        cloud: (id: string) => cloud.get(id.toLowerCase()) ?? { name: id, tag: '', type: 'Amazon' },
      };
      const out: Record<string, Raw[]> = Object.fromEntries(Object.values(REPOSITORY_KEYS).map((k) => [k, []]));
      const rows = (await deps.repositories.allRows()).filter(
        (r) => r.type in REPOSITORY_KEYS && (!ids || ids.includes(r.id)) && (!types || types.includes(r.type)) && (!names || names(r.name)),
      );
      rows.sort((a, b) => a.name_key.localeCompare(b.name_key));
      for (const row of rows) {
        // Both spellings of the unique id (1.1 import specs require `tag`, 1.2 and later `uniqueId`), and
        // `kind`, which 1.1-rev0 requires on the folder and share kinds.
        const kind = TYPE_CATALOGUE[row.type as RepositoryType]?.kind;
        const base = {
          name: row.name,
          description: row.description,
          tag: row.unique_id,
          uniqueId: row.unique_id,
          type: row.type,
          ...(kind && kind !== 'ObjectStorage' ? { kind } : {}),
        };
        const item = itemFromSettings(base, settingsOf(row), lookup);
        // Every document's AzureDataBox import spec requires a mount server; Rampart's own is the backup server.
        if (row.type === 'AzureDataBox' && item.mountServer === undefined) item.mountServer = { mountServerName: backupServerName, writeCacheFolder: '', vPowerNFSEnabled: false };
        out[REPOSITORY_KEYS[row.type as ImportableType]]!.push(item);
      }
      return out;
    },
    async existing() {
      return new Map((await deps.repositories.allRows()).map((r) => [repositoryIdentity(r.name), r.id]));
    },
    async missingReferences(item: ImportItem, plan: ImportPlan) {
      const refs = referencesOf(item.raw);
      const dir = await directory(refs);
      return refs.filter((ref) => !resolveReference(dir, ref) && !plan.plannedIn(...plannedAs(ref))).map(describeReference);
    },
    async create(item, ctx) {
      await deps.repositories.addInSession(ctx, specFromItem(item.raw, await directoryFor(item)));
      return [];
    },
    async overwrite(item, id, ctx) {
      await deps.repositories.editInSession(ctx, id, specFromItem(item.raw, await directoryFor(item)));
      return [];
    },
  };
}
