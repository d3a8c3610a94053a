import { ApiError } from '../../http/errors.js';
import type { PageRequest } from '../../store/paged-query.js';
import type { Store } from '../../store/database.js';
import { VsphereError } from '../../vsphere/errors.js';
import { readInventory, type InventoryItem } from '../../vsphere/inventory.js';
import type { VsphereSession } from '../../vsphere/session.js';
import type { ConnectionService } from '../connection/service.js';
import { formatSize, typeFor, type VmwareObject } from './model.js';
import type { HierarchyType, VmwareInventoryType } from './schemas.js';
import { accessFor, openSession, viHostNamed, type VsphereAccess } from './vsphere-access.js';

/** How long one read of a vCenter's inventory answers repeated requests (paging through a list). */
const DEFAULT_CACHE_MS = 5_000;

export interface InventoryFilters {
  objectId?: string;
  hierarchy?: HierarchyType;
  types?: string[];
  parentName?: string;
}

interface Snapshot {
  at: number;
  items: InventoryItem[];
}

/** Which object kinds each of Veeam's hierarchies shows, and which folder trees. */
const HIERARCHIES: Record<HierarchyType, { kinds: InventoryItem['kind'][]; folders: string[] }> = {
  HostsAndClusters: { kinds: ['Datacenter', 'Folder', 'Cluster', 'Host', 'ResourcePool', 'VirtualApp', 'VirtualMachine'], folders: ['host', 'datacenter'] },
  VmsAndTemplates: { kinds: ['Datacenter', 'Folder', 'VirtualMachine', 'Template', 'VirtualApp'], folders: ['vm', 'datacenter'] },
  DatastoresAndVms: { kinds: ['Datacenter', 'Folder', 'DatastoreCluster', 'Datastore', 'VirtualMachine'], folders: ['datastore', 'datacenter'] },
  HostsAndDatastores: { kinds: ['Datacenter', 'Folder', 'Cluster', 'Host', 'DatastoreCluster', 'Datastore'], folders: ['host', 'datastore', 'datacenter'] },
  // Tags and categories live in the vAPI, which Rampart does not read: the VMs are what this view holds.
  VmsAndTags: { kinds: ['VirtualMachine'], folders: [] },
  Network: { kinds: ['Datacenter', 'Folder', 'Network', 'DVSNetwork'], folders: ['network', 'datacenter'] },
};

function inHierarchy(item: InventoryItem, hierarchy: HierarchyType): boolean {
  const h = HIERARCHIES[hierarchy];
  if (!h.kinds.includes(item.kind)) return false;
  return item.kind !== 'Folder' || h.folders.includes(item.folderTree ?? 'datacenter');
}

/** The containers an item sits in, as the hierarchy shows them (all of them when none is asked for). */
function parentNames(item: InventoryItem, hierarchy: HierarchyType | undefined): string[] {
  const folderParent = item.parent ? [item.parent.name] : [];
  if (item.kind !== 'VirtualMachine' && item.kind !== 'Template') return folderParent;
  const compute = item.resourcePool ? [item.resourcePool.name] : item.host ? [item.host] : [];
  if (hierarchy === 'HostsAndClusters') return compute;
  if (hierarchy === 'DatastoresAndVms') return item.datastores ?? [];
  if (hierarchy === undefined) return [...folderParent, ...compute, ...(item.host ? [item.host] : [])];
  return folderParent;
}

/** Veeam's name filters: `*` is the wildcard, the rest literal, case-insensitive (as store/paged-query.ts does in SQL). */
function matcher(pattern: string): (name: string) => boolean {
  const source = pattern
    .toLowerCase()
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${source}$`, 's');
  return (name) => regex.test(name.toLowerCase());
}

function objectOf(item: InventoryItem, hostName: string): VmwareObject {
  const isVm = item.kind === 'VirtualMachine' || item.kind === 'Template';
  return { hostName, name: item.name, type: item.kind, objectId: item.objectId, size: isVm && item.sizeBytes !== undefined ? formatSize(item.sizeBytes) : 'N/A' };
}

const ORDER: Record<string, (o: VmwareObject) => string> = {
  Name: (o) => o.name.toLowerCase(),
  ObjectId: (o) => (o.objectId ?? '').toLowerCase(),
  Type: (o) => o.type.toLowerCase(),
};

function sortAndPage(objects: VmwareObject[], page: PageRequest, fallback: string[]) {
  const keys = page.orderBy ? [page.orderBy, ...fallback.filter((k) => k !== page.orderBy)] : fallback;
  const direction = page.orderAsc ? 1 : -1;
  const sorted = [...objects].sort((a, b) => {
    for (const [i, k] of keys.entries()) {
      const d = ORDER[k]!(a).localeCompare(ORDER[k]!(b));
      if (d !== 0) return i === 0 ? d * direction : d;
    }
    return 0;
  });
  return { total: sorted.length, rows: sorted.slice(page.skip, page.skip + page.limit) };
}

/**
 * The VMware inventory: the vSphere servers Rampart manages (from the
 * database), and what each holds (read from it, one property-collector round
 * trip per refresh, kept a few seconds so paging reads one state).
 */
export class InventoryService {
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly inFlight = new Map<string, Promise<Snapshot>>();

  constructor(
    private readonly store: Store,
    private readonly connection: ConnectionService,
    private readonly cacheMs = DEFAULT_CACHE_MS,
  ) {}

  /** GET /inventory/vmware/hosts: vCenter Servers and standalone ESX(i) hosts. */
  async listServers(page: PageRequest, revision: string | undefined) {
    let rows = await this.store.db.selectFrom('managed_servers').select(['id', 'name', 'vi_host_type']).where('type', '=', 'ViHost').execute();
    if (page.nameFilter) {
      const match = matcher(page.nameFilter);
      rows = rows.filter((r) => match(r.name));
    }
    const objects: VmwareObject[] = rows.map((r) => ({
      hostName: r.name,
      name: r.name,
      type: r.vi_host_type === 'VC' || r.vi_host_type === null ? 'vCenterServer' : 'Host',
      objectId: r.id,
      size: 'N/A',
    }));
    return sortAndPage(
      objects.map((o) => ({ ...o, type: typeFor(o.type, revision) })),
      page,
      ['Name', 'Type'],
    );
  }

  /** GET /inventory/vmware/hosts/{name}: the objects of one vSphere server, filtered, ordered and paged. */
  async listObjects(hostName: string, filters: InventoryFilters, page: PageRequest, revision: string | undefined) {
    const row = await viHostNamed(this.store, hostName);
    let items = (await this.snapshot(hostName)).items;
    if (filters.hierarchy) items = items.filter((i) => inHierarchy(i, filters.hierarchy!));
    if (filters.objectId !== undefined) items = items.filter((i) => i.objectId.toLowerCase() === filters.objectId!.toLowerCase());
    if (page.nameFilter) {
      const match = matcher(page.nameFilter);
      items = items.filter((i) => match(i.name));
    }
    if (filters.parentName) {
      const match = matcher(filters.parentName);
      items = items.filter((i) => parentNames(i, filters.hierarchy).some(match));
    }
    let objects = items.map((i) => objectOf(i, row.name)).map((o) => ({ ...o, type: typeFor(o.type, revision) }));
    if (filters.types) {
      const wanted = new Set(filters.types.map((t) => typeFor(t as VmwareInventoryType, revision)));
      objects = objects.filter((o) => wanted.has(o.type));
    }
    return sortAndPage(objects, page, ['Type', 'Name', 'ObjectId']);
  }

  /**
   * Whether an inventory object exists (jobs check their includes with it).
   * vCenter Servers and standalone hosts are matched by name; other objects by
   * objectId (and type when given). Reads through the short cache.
   */
  async findObject(object: { hostName: string; type: string; objectId?: string; name?: string }): Promise<VmwareObject | undefined> {
    const row = await viHostNamed(this.store, object.hostName).catch(() => undefined);
    if (!row) return undefined;
    if (object.type === 'vCenterServer' || (object.type === 'Host' && !object.objectId)) {
      const matches = object.type === 'vCenterServer' ? row.vi_host_type === 'VC' || row.vi_host_type === null : row.vi_host_type !== 'VC';
      return matches ? { hostName: row.name, name: row.name, type: object.type, objectId: row.id } : undefined;
    }
    const items = (await this.snapshot(row.name)).items;
    const found = items.find(
      (i) =>
        (object.objectId ? i.objectId.toLowerCase() === object.objectId.toLowerCase() : i.name === object.name) &&
        (object.type === 'Unknown' || typeFor(i.kind, '1.1-rev0') === typeFor(object.type as VmwareInventoryType, '1.1-rev0')),
    );
    return found ? objectOf(found, row.name) : undefined;
  }

  /** A VM by host name and moref: what a backup run starts from. Undefined when it is gone. */
  async resolveVm(hostName: string, moref: string): Promise<{ access: VsphereAccess; vm: InventoryItem } | undefined> {
    const access = await accessFor(this.store, this.connection, hostName);
    const items = (await this.snapshot(hostName, true)).items;
    const vm = items.find((i) => (i.kind === 'VirtualMachine' || i.kind === 'Template') && i.objectId === moref);
    return vm ? { access, vm } : undefined;
  }

  /** Address, pin and credentials of a ViHost (to open a session with `openSession`). */
  access(hostName: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<VsphereAccess> {
    return accessFor(this.store, this.connection, hostName, options);
  }

  /** A logged-in vSphere session with a ViHost; the caller logs out. */
  async session(hostName: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<VsphereSession> {
    return openSession(await this.access(hostName, options));
  }

  /** The server's inventory, read at most every `cacheMs` (concurrent readers share one read). */
  private async snapshot(hostName: string, fresh = false): Promise<Snapshot> {
    const key = hostName.trim().toLowerCase();
    const cached = this.snapshots.get(key);
    if (cached && !fresh && Date.now() - cached.at < this.cacheMs) return cached;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const read = this.read(hostName).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, read);
    return read;
  }

  private async read(hostName: string): Promise<Snapshot> {
    const access = await accessFor(this.store, this.connection, hostName);
    let session: VsphereSession | undefined;
    try {
      session = await openSession(access);
      const snapshot = { at: Date.now(), items: await readInventory(session) };
      this.snapshots.set(hostName.trim().toLowerCase(), snapshot);
      return snapshot;
    } catch (err) {
      if (err instanceof VsphereError)
        throw new ApiError(503, 'ServiceUnavailable', `Cannot read the inventory of "${access.server.name}": ${err.message.replace(/\.$/, '')}.`, access.server.id);
      throw err;
    } finally {
      await session?.logout();
    }
  }
}
