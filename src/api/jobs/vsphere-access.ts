import { retrieveFromContainer, retrieveObject, stringValue } from '../../vsphere/property-collector.js';
import type { VsphereSession } from '../../vsphere/session.js';
import { removeSnapshot } from '../../vsphere/snapshots.js';
import type { ManagedObjectReference } from '../../vsphere/xml.js';
import type { InventoryObject } from './settings.js';
import type { VmTarget } from '../../mover/vsphere-backup.js';

/** Veeam's inventory types → the vSphere managed object type whose subtree holds VMs. */
const CONTAINER_TYPES: Record<string, string> = {
  Folder: 'Folder',
  Host: 'HostSystem',
  Cluster: 'ClusterComputeResource',
  ComputeResource: 'ComputeResource',
  ResourcePool: 'ResourcePool',
  Datacenter: 'Datacenter',
  VirtualApp: 'VirtualApp',
};

/**
 * Logging in to the vCenter/ESXi a job names (the ViHost managed server with
 * that name: its pinned thumbprint and stored credentials), and turning a
 * job's inventory objects into the VMs they hold.
 */
export class VsphereAccess {
  /** `open` logs in to the ViHost managed server of that name (the inventory section's session: pinned thumbprint, stored credentials). */
  constructor(private readonly open: (hostName: string, signal?: AbortSignal) => Promise<VsphereSession>) {}

  login(hostName: string, signal?: AbortSignal): Promise<VsphereSession> {
    return this.open(hostName, signal);
  }

  /** The VMs an inventory object stands for: itself, or every VM below a container. Empty when it is not there. */
  async vmsOf(session: VsphereSession, object: InventoryObject): Promise<VmTarget[]> {
    if (object.type === 'VirtualMachine' || object.type === 'Template') {
      if (object.objectId) {
        const found = await retrieveObject(session, { type: 'VirtualMachine', value: object.objectId }, ['name']).catch(() => undefined);
        const name = stringValue(found?.props.get('name'));
        return found && name !== undefined ? [{ moref: object.objectId, name }] : [];
      }
      const all = await retrieveFromContainer(session, [{ type: 'VirtualMachine', pathSet: ['name'] }]);
      return all.filter((o) => stringValue(o.props.get('name')) === object.name).map((o) => ({ moref: o.obj.value, name: object.name }));
    }
    let container: ManagedObjectReference | undefined;
    if (object.type === 'vCenterServer') container = session.content.rootFolder;
    else if (CONTAINER_TYPES[object.type]) {
      const type = CONTAINER_TYPES[object.type]!;
      if (object.objectId) container = { type, value: object.objectId };
      else {
        const matches = await retrieveFromContainer(session, [{ type, pathSet: ['name'] }]);
        container = matches.find((o) => stringValue(o.props.get('name')) === object.name)?.obj;
      }
    } else
      throw new Error(
        `${object.type} "${object.name}": Rampart backs up VMs, folders, hosts, clusters, resource pools, datacenters and vApps; this kind of object is not supported yet.`,
      );
    if (!container) return [];
    const vms = await retrieveFromContainer(session, [{ type: 'VirtualMachine', pathSet: ['name'] }], container).catch(() => undefined);
    if (!vms) return [];
    return vms.map((o) => ({ moref: o.obj.value, name: stringValue(o.props.get('name')) ?? o.obj.value }));
  }

  /** Removes snapshots a run left behind (its node died or restarted mid-run); best effort, one login per server. */
  async removeSnapshots(snapshots: { hostName: string; snapshot: string }[]): Promise<void> {
    const byHost = new Map<string, string[]>();
    for (const s of snapshots) byHost.set(s.hostName, [...(byHost.get(s.hostName) ?? []), s.snapshot]);
    for (const [hostName, list] of byHost) {
      const session = await this.login(hostName);
      try {
        for (const value of list) await removeSnapshot(session, { type: 'VirtualMachineSnapshot', value }).catch(() => undefined);
      } finally {
        await session.logout();
      }
    }
  }
}
