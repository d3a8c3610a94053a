import { morefValue, retrieveFromContainer, retrieveObject, stringValue } from '../../vsphere/property-collector.js';
import type { VsphereSession } from '../../vsphere/session.js';
import type { ManagedObjectReference } from '../../vsphere/xml.js';
import type { InventoryRef } from './entire-vm-spec.js';

/** Veeam's inventory types → vSphere managed object types. */
const MO_TYPES: Record<string, string> = {
  Host: 'HostSystem',
  ResourcePool: 'ResourcePool',
  Folder: 'Folder',
  Datastore: 'Datastore',
  Network: 'Network',
  Cluster: 'ClusterComputeResource',
  DistributedPortGroup: 'DistributedVirtualPortgroup',
};

/** A named object of the spec, found by its id (checked to exist) or else by its name; a clear error naming the field when it is not there. */
export async function findObject(session: VsphereSession, ref: InventoryRef, field: string, fallbackType: string): Promise<{ ref: ManagedObjectReference; name: string }> {
  const type = MO_TYPES[ref.type] ?? fallbackType;
  if (ref.objectId) {
    const found = await retrieveObject(session, { type, value: ref.objectId }, ['name']).catch(() => undefined);
    const name = stringValue(found?.props.get('name'));
    if (found && name !== undefined) return { ref: { type, value: ref.objectId }, name };
  }
  const all = await retrieveFromContainer(session, [{ type, pathSet: ['name'] }]);
  const match = all.find((o) => stringValue(o.props.get('name')) === ref.name);
  if (!match) throw new Error(`${field}: ${ref.type} "${ref.name}"${ref.objectId ? ` (${ref.objectId})` : ''} was not found on ${ref.hostName}.`);
  return { ref: match.obj, name: ref.name };
}

/** The root resource pool of the host's compute resource (where a VM goes when no pool is named). */
export async function poolOfHost(session: VsphereSession, host: ManagedObjectReference): Promise<ManagedObjectReference> {
  const parent = morefValue((await retrieveObject(session, host, ['parent']))?.props.get('parent'));
  const pool = parent ? morefValue((await retrieveObject(session, parent, ['resourcePool']))?.props.get('resourcePool')) : undefined;
  if (!pool) throw new Error(`Host ${host.value} has no resource pool.`);
  return pool;
}

/** The VM folder of the datacenter holding `entity` (where a VM goes when no folder is named). */
export async function vmFolderOf(session: VsphereSession, entity: ManagedObjectReference): Promise<ManagedObjectReference> {
  let current: ManagedObjectReference | undefined = entity;
  for (let depth = 0; current && depth < 32; depth++) {
    if (current.type === 'Datacenter') {
      const folder = morefValue((await retrieveObject(session, current, ['vmFolder']))?.props.get('vmFolder'));
      if (folder) return folder;
      break;
    }
    current = morefValue((await retrieveObject(session, current, ['parent']))?.props.get('parent'));
  }
  throw new Error(`${entity.type} ${entity.value} is not inside a datacenter with a VM folder.`);
}

/** Where the original VM lives: its resource pool, folder and host (a Customized restore without a destination goes beside it). */
export async function placementOf(session: VsphereSession, vm: ManagedObjectReference) {
  const found = await retrieveObject(session, vm, ['resourcePool', 'parent', 'runtime.host']);
  return {
    pool: morefValue(found?.props.get('resourcePool')),
    folder: morefValue(found?.props.get('parent')),
    host: morefValue(found?.props.get('runtime.host')),
  };
}
