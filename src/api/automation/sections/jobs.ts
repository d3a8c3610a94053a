import type { ProxiesService } from '../../proxies/service.js';
import type { RepositoriesService } from '../../repositories/service.js';
import { storedSettings } from '../../jobs/model.js';
import { JobExportSpec, JobImportSpecCollection } from '../../jobs/schemas.js';
import type { JobsService } from '../../jobs/service.js';
import { arrayItems, wildcardMatcher, type AutomationSection, type ImportItem, type ImportPlan } from '../section.js';

type Raw = Record<string, unknown>;

/** A job is known by its name (names are unique, as in Veeam). */
const jobIdentity = (name: string) => `name:${name.trim().toLowerCase()}`;
const repositoryIdentity = (name: string) => `name:${name.trim().toLowerCase()}`;
const proxyIdentity = (hostName: string) => `host:${hostName.trim().toLowerCase()}`;

function describe(raw: Raw) {
  return { identity: jobIdentity(String(raw.name)), label: `backup job "${String(raw.name)}"` };
}

const proxyNamesOf = (raw: Raw): string[] => {
  const proxies = ((raw.storage as Raw | undefined)?.backupProxies as Raw | undefined)?.proxies;
  return Array.isArray(proxies) ? proxies.map((p: Raw) => String(p.name)) : [];
};
const repositoryNameOf = (raw: Raw) => String(((raw.storage as Raw | undefined)?.backupRepository as Raw | undefined)?.name ?? '');

/**
 * /api/v1/automation/jobs: JobImportSpec names its repository and proxies by
 * name (not id); the import resolves them on this server (or among the
 * objects the same import creates) and adds or overwrites the job through
 * the jobs service, with the same checks as adding by hand.
 */
export function jobsSection(jobs: JobsService, deps: { repositories: RepositoriesService; proxies: ProxiesService }): AutomationSection {
  const repositoryIds = async () => new Map((await deps.repositories.allRows()).map((r) => [r.name.toLowerCase(), r.id]));
  const proxyIds = async () => new Map((await deps.proxies.all()).map((p) => [p.name.toLowerCase(), p.id]));

  /** The BackupJobSpec adding by hand takes. */
  const specOf = async (raw: Raw): Promise<Raw> => {
    const storage = (raw.storage as Raw | undefined) ?? {};
    const repoName = repositoryNameOf(raw);
    const repoId = (await repositoryIds()).get(repoName.toLowerCase());
    if (!repoId) throw new Error(`The repository "${repoName}" was not found.`);
    const proxies = await proxyIds();
    const ids = proxyNamesOf(raw).map((name) => {
      const id = proxies.get(name.toLowerCase());
      if (!id) throw new Error(`The backup proxy "${name}" was not found.`);
      return id;
    });
    const { backupRepository: _repo, backupProxies, ...restStorage } = storage;
    void _repo;
    const guest = (raw.guestProcessing as Raw | undefined) ?? {};
    const interaction = guest.guestInteractionProxies as Raw | undefined;
    return {
      name: raw.name,
      description: raw.description,
      type: raw.type ?? 'Backup',
      isHighPriority: raw.isHighPriority,
      virtualMachines: raw.virtualMachines,
      storage: { ...restStorage, backupRepositoryId: repoId, backupProxies: { autoSelection: (backupProxies as Raw | undefined)?.automaticSelection ?? true, proxyIds: ids } },
      guestProcessing: {
        appAwareProcessing: guest.applicationAwareProcessing ?? { isEnabled: false },
        guestFSIndexing: guest.guestFileSystemIndexing ?? { isEnabled: false },
        // Guest interaction proxies and guest credentials are not used by Rampart's runs: automatic selection, no credentials.
        ...(interaction ? { guestInteractionProxies: { autoSelection: true, proxyIds: [] } } : {}),
      },
      schedule: raw.schedule,
    };
  };

  return {
    kind: 'jobs',
    order: 60,
    exportSchema: JobExportSpec,
    importSchema: JobImportSpecCollection,
    secretPaths: [],
    items: (collection) => arrayItems(collection, ['jobs'], describe),
    async export(filter) {
      const ids = filter.ids as string[] | undefined;
      const types = filter.types as string[] | undefined;
      const names = wildcardMatcher(filter.names as string[] | undefined);
      const rows = (await jobs.all()).filter((r) => (!ids || ids.map((i) => i.toLowerCase()).includes(r.id)) && (!types || types.includes(r.type)) && (!names || names(r.name)));
      const repositories = new Map((await deps.repositories.allRows()).map((r) => [r.id, r.name]));
      const proxies = new Map((await deps.proxies.all()).map((p) => [p.id, p.name]));
      return {
        jobs: rows.map((r) => {
          const s = storedSettings(r);
          const { backupRepositoryId, backupProxies, ...storage } = s.storage;
          return {
            name: r.name,
            description: r.description,
            isHighPriority: s.isHighPriority,
            type: r.type,
            virtualMachines: {
              includes: s.virtualMachines.includes.map(({ size: _size, ...o }) => o),
              ...(s.virtualMachines.excludes ? { excludes: s.virtualMachines.excludes } : {}),
            },
            storage: {
              backupRepository: { name: repositories.get(backupRepositoryId) ?? backupRepositoryId },
              backupProxies: {
                automaticSelection: backupProxies.autoSelection,
                proxies: (backupProxies.proxyIds ?? []).map((id) => ({ name: proxies.get(id) ?? id, type: 'vmware' })),
              },
              ...storage,
            },
            guestProcessing: {
              applicationAwareProcessing: s.guestProcessing.appAwareProcessing,
              guestFileSystemIndexing: s.guestProcessing.guestFSIndexing,
            },
            schedule: s.schedule,
          };
        }),
      };
    },
    async existing() {
      return new Map((await jobs.all()).map((r) => [jobIdentity(r.name), r.id]));
    },
    async missingReferences(item: ImportItem, plan: ImportPlan) {
      const missing: string[] = [];
      const repo = repositoryNameOf(item.raw);
      if (!(await repositoryIds()).has(repo.toLowerCase()) && !plan.plannedIn('repositories', repositoryIdentity(repo))) missing.push(`repository "${repo}"`);
      const proxies = await proxyIds();
      for (const name of proxyNamesOf(item.raw)) {
        if (!proxies.has(name.toLowerCase()) && !plan.plannedIn('proxies', proxyIdentity(name))) missing.push(`backup proxy "${name}"`);
      }
      return missing;
    },
    async create(item) {
      await jobs.create(await specOf(item.raw));
      return [];
    },
    async overwrite(item, id) {
      await jobs.edit(id, { ...(await specOf(item.raw)), id });
      return [];
    },
  };
}
