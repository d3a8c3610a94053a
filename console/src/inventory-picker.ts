import { get, type Page } from './api.js';
import type { ComponentChildren, VNode } from 'preact';
import { useState } from 'preact/hooks';
import { errorMessage, h, notice } from './dom.js';

/** VmwareObjectModel as a job or a restore names it: which vSphere server, which object there. */
export interface VmwareObject {
  hostName: string;
  name: string;
  type: string;
  objectId?: string;
}

/** The inventory answers flat objects from revision 1.2 on (1.1 wraps each in `inventoryObject`). */
const INVENTORY_VERSION = '1.2-rev1';
const HOSTS = '/api/v1/inventory/vmware/hosts';

const plain = (o: VmwareObject): VmwareObject => ({ hostName: o.hostName, name: o.name, type: o.type, ...(o.objectId ? { objectId: o.objectId } : {}) });
const keyOf = (o: VmwareObject) => `${o.hostName}\u0000${o.objectId ?? o.name}`;

/** The vSphere servers Rampart manages (ViHosts added on the Managed servers page). */
export const vsphereServers = async (): Promise<VmwareObject[]> => (await get<Page<VmwareObject>>(HOSTS, { limit: 1000 }, INVENTORY_VERSION)).data.map(plain);

/** Objects of some types on one vSphere server, as the inventory browser lists them. */
export async function inventoryObjects(server: string, types: string[], limit = 1000): Promise<VmwareObject[]> {
  const page = await get<Page<VmwareObject>>(`${HOSTS}/${encodeURIComponent(server)}`, { typeFilter: types.join(','), limit, orderColumn: 'Name' }, INVENTORY_VERSION);
  return page.data.map(plain);
}

export interface VmPicker {
  element: VNode;
  selected(): VmwareObject[];
}

/** One vSphere server of the tree: its VMs are fetched the first time it is opened. */
function ServerNode({ server, open, chosen, changed }: { server: VmwareObject; open: boolean; chosen: Map<string, VmwareObject>; changed: () => void }): VNode {
  const [vms, setVms] = useState<VmwareObject[]>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const toggled = async (e: Event) => {
    if (!(e.currentTarget as HTMLDetailsElement).open || vms || loading) return;
    setLoading(true);
    setError(undefined);
    try {
      setVms(await inventoryObjects(server.name, ['VirtualMachine']));
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setLoading(false);
    }
  };
  let body: ComponentChildren;
  if (error) body = h('li', {}, notice('error', error));
  else if (!vms) body = loading ? h('li', { class: 'muted' }, 'Loading…') : null;
  else if (vms.length === 0) body = h('li', { class: 'muted' }, 'No virtual machines on this server.');
  else
    body = vms.map((vm) => {
      const id = `vm-${keyOf(vm).replace(/[^A-Za-z0-9-]/g, '_')}`;
      return h(
        'li',
        { key: keyOf(vm) },
        h('input', {
          id,
          type: 'checkbox',
          checked: chosen.has(keyOf(vm)),
          onchange: (e: Event) => {
            if ((e.currentTarget as HTMLInputElement).checked) chosen.set(keyOf(vm), vm);
            else chosen.delete(keyOf(vm));
            changed();
          },
        }),
        ' ',
        h('label', { for: id }, vm.name),
        h('span', { class: 'muted' }, ` ${vm.objectId ?? ''}`),
      );
    });
  return h(
    'details',
    { class: 'tree-node', open, ontoggle: toggled },
    h('summary', {}, h('span', { class: 'tree-kind' }, 'vSphere server '), h('strong', {}, server.name)),
    h('ul', { class: 'tree-children' }, body),
  );
}

function VmTree({ servers, initial, chosen }: { servers: VmwareObject[]; initial: VmwareObject[]; chosen: Map<string, VmwareObject> }): VNode {
  const [count, setCount] = useState(chosen.size);
  return h(
    'fieldset',
    { class: 'vm-picker' },
    h('legend', {}, 'Virtual machines', h('span', { class: 'required', 'aria-hidden': 'true' }, ' *')),
    servers.length === 0 ? notice('info', 'No vSphere server yet. ', h('a', { href: '#/managed-servers' }, 'Add a VMware vSphere server'), ' first.') : null,
    servers.map((server) => h(ServerNode, { key: server.name, server, open: initial.some((o) => o.hostName === server.name), chosen, changed: () => setCount(chosen.size) })),
    h('div', { class: 'hint', role: 'status' }, `${count} VM(s) selected`),
  );
}

/**
 * The inventory tree for picking VMs: each vSphere server opens into its VMs (fetched when
 * opened); the ones already in the job start ticked and their servers open.
 */
export function vmPicker(servers: VmwareObject[], initial: VmwareObject[]): VmPicker {
  const chosen = new Map(initial.map((o) => [keyOf(o), plain(o)]));
  return { element: h(VmTree, { servers, initial, chosen }), selected: () => [...chosen.values()] };
}
