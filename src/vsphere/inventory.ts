import { retrieveFromContainer, type ObjectContent, type PropertySpec } from './property-collector.js';
import type { VsphereSession } from './session.js';
import { children, text, toMoref, type ManagedObjectReference } from './xml.js';

/**
 * The whole inventory of a vCenter or ESXi host in one property-collector
 * round trip (over a container view of the root folder), as a flat list of
 * objects with their parents, in the vocabulary of Veeam's
 * EVmwareInventoryType. What vSphere keeps but Veeam's trees hide (the root
 * folder, each datacenter's vm/host/datastore/network folders, the root
 * resource pool of each cluster or host, the ComputeResource wrapping a
 * standalone host) is collapsed into the parent above it.
 */

export type InventoryKind =
  'Datacenter' | 'Folder' | 'Cluster' | 'Host' | 'ResourcePool' | 'VirtualApp' | 'VirtualMachine' | 'Template' | 'Datastore' | 'DatastoreCluster' | 'Network' | 'DVSNetwork';

/** Which of a datacenter's trees a folder belongs to. */
export type FolderTree = 'vm' | 'host' | 'datastore' | 'network' | 'datacenter';

export interface InventoryItem {
  kind: InventoryKind;
  /** The moref value (`vm-42`): Veeam's objectId. */
  objectId: string;
  moref: ManagedObjectReference;
  name: string;
  /** The visible parent in the vSphere tree (folder, datacenter, cluster, host, pool). */
  parent?: { objectId: string; name: string; kind: InventoryKind };
  /** VMs: the host and resource pool they run on (the hosts-and-clusters view). */
  host?: string;
  resourcePool?: { objectId: string; name: string };
  /** Folders: the tree they organize. */
  folderTree?: FolderTree;
  /** VMs: storage used (committed bytes); datastores: capacity. */
  sizeBytes?: number;
  /** Datastores a VM uses, by name. */
  datastores?: string[];
  powerState?: string;
}

const SPECS: PropertySpec[] = [
  { type: 'Folder', pathSet: ['name', 'parent', 'childType'] },
  { type: 'Datacenter', pathSet: ['name', 'parent'] },
  { type: 'ClusterComputeResource', pathSet: ['name', 'parent'] },
  { type: 'ComputeResource', pathSet: ['name', 'parent'] },
  { type: 'HostSystem', pathSet: ['name', 'parent'] },
  { type: 'ResourcePool', pathSet: ['name', 'parent'] },
  { type: 'VirtualApp', pathSet: ['name', 'parent'] },
  {
    type: 'VirtualMachine',
    pathSet: ['name', 'parent', 'parentVApp', 'resourcePool', 'runtime.host', 'runtime.powerState', 'config.template', 'summary.storage.committed', 'datastore'],
  },
  { type: 'Datastore', pathSet: ['name', 'parent', 'summary.capacity'] },
  { type: 'StoragePod', pathSet: ['name', 'parent'] },
  { type: 'Network', pathSet: ['name', 'parent'] },
  { type: 'DistributedVirtualPortgroup', pathSet: ['name', 'parent'] },
];

function folderTree(childTypes: string[]): FolderTree {
  if (childTypes.includes('VirtualMachine')) return 'vm';
  if (childTypes.includes('ComputeResource')) return 'host';
  if (childTypes.includes('Datastore')) return 'datastore';
  if (childTypes.includes('Network')) return 'network';
  return 'datacenter';
}

/** Reads the inventory: one container view, one RetrievePropertiesEx (plus continuation tokens). */
export async function readInventory(session: VsphereSession): Promise<InventoryItem[]> {
  const objects = await retrieveFromContainer(session, SPECS);
  return buildInventory(objects, session.content.rootFolder.value);
}

export function buildInventory(objects: ObjectContent[], rootFolder: string): InventoryItem[] {
  const byId = new Map<string, ObjectContent>();
  for (const o of objects) byId.set(o.obj.value, o);
  const name = (id: string | undefined) => (id ? text(byId.get(id)?.props.get('name')) : '');
  const parentOf = (o: ObjectContent) => toMoref(o.props.get('parent'));

  // Objects Veeam's trees do not show: walking up skips them.
  const hidden = (id: string): boolean => {
    const o = byId.get(id);
    if (!o || id === rootFolder) return true;
    const parent = parentOf(o);
    if (o.obj.type === 'Folder') return parent?.type === 'Datacenter';
    if (o.obj.type === 'ComputeResource') return true;
    if (o.obj.type === 'ResourcePool') return parent?.type === 'ComputeResource' || parent?.type === 'ClusterComputeResource';
    return false;
  };
  const kindOf = (o: ObjectContent): InventoryKind | undefined => {
    switch (o.obj.type) {
      case 'Folder':
        return 'Folder';
      case 'Datacenter':
        return 'Datacenter';
      case 'ClusterComputeResource':
        return 'Cluster';
      case 'HostSystem':
        return 'Host';
      case 'ResourcePool':
        return 'ResourcePool';
      case 'VirtualApp':
        return 'VirtualApp';
      case 'VirtualMachine':
        return text(o.props.get('config.template')) === 'true' ? 'Template' : 'VirtualMachine';
      case 'Datastore':
        return 'Datastore';
      case 'StoragePod':
        return 'DatastoreCluster';
      case 'Network':
        return 'Network';
      case 'DistributedVirtualPortgroup':
        return 'DVSNetwork';
      default:
        return undefined;
    }
  };
  const visibleParent = (start: ManagedObjectReference | undefined): InventoryItem['parent'] => {
    let current = start;
    for (let depth = 0; current && depth < 64; depth++) {
      const o = byId.get(current.value);
      if (!o) return undefined;
      if (!hidden(current.value)) {
        const kind = kindOf(o);
        if (kind) return { objectId: current.value, name: name(current.value), kind };
      }
      current = parentOf(o);
    }
    return undefined;
  };

  const items: InventoryItem[] = [];
  const seen = new Set<string>();
  for (const o of objects) {
    if (seen.has(o.obj.value) || hidden(o.obj.value)) continue;
    seen.add(o.obj.value);
    const kind = kindOf(o);
    if (!kind) continue;
    const item: InventoryItem = { kind, objectId: o.obj.value, moref: o.obj, name: name(o.obj.value) };
    const isVm = o.obj.type === 'VirtualMachine';
    item.parent = visibleParent(isVm && !o.props.has('parent') ? toMoref(o.props.get('parentVApp')) : parentOf(o));
    if (o.obj.type === 'Folder') item.folderTree = folderTree(children(o.props.get('childType'), 'string').map((c) => text(c)));
    if (isVm) {
      const host = toMoref(o.props.get('runtime.host'));
      if (host) item.host = name(host.value);
      const pool = toMoref(o.props.get('resourcePool'));
      if (pool && !hidden(pool.value)) item.resourcePool = { objectId: pool.value, name: name(pool.value) };
      const committed = o.props.get('summary.storage.committed');
      if (committed !== undefined) item.sizeBytes = Number(text(committed));
      item.datastores = children(o.props.get('datastore'), 'ManagedObjectReference').map((d) => name(toMoref(d)?.value));
      item.powerState = text(o.props.get('runtime.powerState')) || undefined;
    }
    if (o.obj.type === 'Datastore') {
      const capacity = o.props.get('summary.capacity');
      if (capacity !== undefined) item.sizeBytes = Number(text(capacity));
    }
    items.push(item);
  }
  return items;
}
