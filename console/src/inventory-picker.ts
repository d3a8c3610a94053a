import { get, type Page } from './api.js';
import { h, notice, replace, uid } from './dom.js';

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
  element: HTMLElement;
  selected(): VmwareObject[];
}

/**
 * The inventory tree for picking VMs: each vSphere server opens into its VMs (fetched when
 * opened); the ones already in the job start ticked and their servers open.
 */
export function vmPicker(servers: VmwareObject[], initial: VmwareObject[]): VmPicker {
  const chosen = new Map(initial.map((o) => [keyOf(o), plain(o)]));
  const legend = h('legend', {}, 'Virtual machines', h('span', { class: 'required', 'aria-hidden': 'true' }, ' *'));
  const count = h('div', { class: 'hint', role: 'status' });
  const showCount = () => replace(count, `${chosen.size} VM(s) selected`);
  const element = h('fieldset', { class: 'vm-picker' }, legend);
  if (servers.length === 0) element.append(notice('info', 'No vSphere server yet. ', h('a', { href: '#/managed-servers' }, 'Add a VMware vSphere server'), ' first.'));
  for (const server of servers) {
    const body = h('ul', { class: 'tree-children' });
    let loaded = false;
    const node = h('details', { class: 'tree-node' }, h('summary', {}, h('span', { class: 'tree-kind' }, 'vSphere server '), h('strong', {}, server.name)), body);
    node.addEventListener('toggle', async () => {
      if (!node.open || loaded) return;
      loaded = true;
      replace(body, h('li', { class: 'muted' }, 'Loading…'));
      try {
        const vms = await inventoryObjects(server.name, ['VirtualMachine']);
        replace(
          body,
          vms.length === 0
            ? h('li', { class: 'muted' }, 'No virtual machines on this server.')
            : vms.map((vm) => {
                const id = uid('vm');
                const box = h('input', {
                  id,
                  type: 'checkbox',
                  checked: chosen.has(keyOf(vm)),
                  onchange: (e: Event) => {
                    if ((e.target as HTMLInputElement).checked) chosen.set(keyOf(vm), vm);
                    else chosen.delete(keyOf(vm));
                    showCount();
                  },
                });
                return h('li', {}, box, ' ', h('label', { for: id }, vm.name), h('span', { class: 'muted' }, ` ${vm.objectId ?? ''}`));
              }),
        );
      } catch (error) {
        loaded = false;
        replace(body, h('li', {}, notice('error', error instanceof Error ? error.message : String(error))));
      }
    });
    element.append(node);
    if (initial.some((o) => o.hostName === server.name)) node.open = true;
  }
  element.append(count);
  showCount();
  return { element, selected: () => [...chosen.values()] };
}
