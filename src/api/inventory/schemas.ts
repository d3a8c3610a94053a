import { Type } from 'typebox';
import { DEFAULT_LIMIT, MAX_LIMIT, PaginationSchema, StringOrList, stringEnum } from '../../http/paging.js';

/** EVmwareInventoryType of 1.1-rev0; 1.2 added DVSNetwork, 1.3 Disk and SharedDisk. */
export const VMWARE_TYPES_1_1 = [
  'Unknown',
  'VirtualMachine',
  'vCenterServer',
  'Datacenter',
  'Cluster',
  'Host',
  'ResourcePool',
  'Folder',
  'Datastore',
  'DatastoreCluster',
  'StoragePolicy',
  'Template',
  'ComputeResource',
  'VirtualApp',
  'Tag',
  'Category',
  'Multitag',
  'Network',
] as const;
export const VMWARE_TYPES = [...VMWARE_TYPES_1_1, 'DVSNetwork', 'Disk', 'SharedDisk'] as const;
export type VmwareInventoryType = (typeof VMWARE_TYPES)[number];

/** EHierarchyType. */
export const HIERARCHY_TYPES = ['HostsAndClusters', 'DatastoresAndVms', 'HostsAndDatastores', 'VmsAndTemplates', 'VmsAndTags', 'Network'] as const;
export type HierarchyType = (typeof HIERARCHY_TYPES)[number];

/** EViRootFiltersOrderColumn and EvCentersInventoryFiltersOrderColumn. */
export const SERVER_ORDER_COLUMNS = ['Name', 'Type'] as const;
export const OBJECT_ORDER_COLUMNS = ['Name', 'ObjectId', 'Type'] as const;

const paging = {
  skip: Type.Optional(Type.Integer({ minimum: 0, description: 'Number of items to skip.' })),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_LIMIT, description: `Maximum number of items to return (default ${DEFAULT_LIMIT}).` })),
  orderAsc: Type.Optional(Type.Boolean({ description: 'Ascending order (default true).' })),
  nameFilter: Type.Optional(Type.String({ maxLength: 512, description: 'Name pattern; * is the wildcard.' })),
};

export const ViRootsQuery = Type.Object({ ...paging, orderColumn: Type.Optional(stringEnum(SERVER_ORDER_COLUMNS, 'Sorts by this column.')) });

export const VCenterInventoryQuery = Type.Object({
  ...paging,
  orderColumn: Type.Optional(stringEnum(OBJECT_ORDER_COLUMNS, 'Sorts by this column.')),
  objectIdFilter: Type.Optional(Type.String({ maxLength: 512, description: 'The object ID (moref), exactly.' })),
  hierarchyTypeFilter: Type.Optional(stringEnum(HIERARCHY_TYPES, 'Objects of this hierarchy only.')),
  typeFilter: Type.Optional(StringOrList),
  parentContainerNameFilter: Type.Optional(Type.String({ maxLength: 512, description: 'Name pattern of the parent container; * is the wildcard.' })),
});

export const HostNameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) });

/** VmwareObjectModel (1.1-rev0). */
const VmwareObjectModel = Type.Object({
  hostName: Type.String(),
  name: Type.String(),
  type: Type.String(),
  objectId: Type.Optional(Type.String()),
});

/**
 * One entry of a list, in the requested revision's shape: 1.1's
 * VmwareObjectSizeModel `{inventoryObject, size}`, or 1.2's flat
 * InventoryObjectModel `{platform, hostName, name, type, objectId, size}`.
 */
const InventoryEntry = Type.Object({
  inventoryObject: Type.Optional(VmwareObjectModel),
  platform: Type.Optional(Type.String()),
  hostName: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  objectId: Type.Optional(Type.String()),
  size: Type.Optional(Type.String()),
});

export const InventoryResult = Type.Object({ data: Type.Array(InventoryEntry), pagination: PaginationSchema });
