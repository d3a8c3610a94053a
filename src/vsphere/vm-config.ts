import { VsphereError } from './errors.js';
import { morefValue, retrieveObject, type ObjectContent } from './property-collector.js';
import type { VsphereSession } from './session.js';
import { child, childBoolean, childNumber, children, childText, text, toMoref, xsiType, type ManagedObjectReference, type XmlNode } from './xml.js';

/**
 * A VM's configuration as Rampart keeps it with a restore point: the disks it
 * reads, and what a later restore needs to build the VM again.
 */

export interface DatastorePath {
  datastore: string;
  path: string;
}

export interface VirtualDiskInfo {
  key: number;
  label: string;
  capacityInBytes: number;
  /** `[datastore] folder/disk.vmdk`, the descriptor. */
  fileName: string;
  /** The datastore holding the disk (name and moref). */
  datastore: { name: string; ref?: ManagedObjectReference };
  /** The descriptor's path within the datastore and the data file read over HTTP (`-flat.vmdk`). */
  descriptorPath: string;
  flatPath: string;
  controllerKey?: number;
  unitNumber?: number;
  diskMode?: string;
  thinProvisioned?: boolean;
  /** Changed-block tracking id of this disk's current state, when the server tracks changes. */
  changeId?: string;
  uuid?: string;
}

export interface VirtualControllerInfo {
  key: number;
  type: string;
  busNumber?: number;
  label: string;
}

export interface VirtualNicInfo {
  key: number;
  type: string;
  label: string;
  macAddress?: string;
  network?: string;
}

export interface VmConfig {
  moref: ManagedObjectReference;
  name: string;
  guestId?: string;
  guestFullName?: string;
  numCpu?: number;
  numCoresPerSocket?: number;
  memoryMB?: number;
  uuid?: string;
  instanceUuid?: string;
  /** `[datastore] folder/name.vmx` */
  vmPathName?: string;
  changeTrackingEnabled: boolean;
  powerState?: string;
  /** Datacenter name: the datastore HTTP API addresses files with it (`dcPath`). */
  datacenter: string;
  disks: VirtualDiskInfo[];
  controllers: VirtualControllerInfo[];
  nics: VirtualNicInfo[];
}

/** `[ds] dir/file.vmdk` → `{datastore: 'ds', path: 'dir/file.vmdk'}`. */
export function parseDatastorePath(fileName: string): DatastorePath {
  const match = /^\[([^\]]*)\]\s*(.*)$/.exec(fileName.trim());
  if (!match) throw new VsphereError('InvalidArgument', `"${fileName}" is not a datastore path ("[datastore] folder/file")`);
  return { datastore: match[1]!, path: match[2]! };
}

/** The extent holding a flat disk's bytes: `disk.vmdk` → `disk-flat.vmdk`. */
export function flatExtentPath(descriptorPath: string): string {
  return descriptorPath.replace(/\.vmdk$/i, '-flat.vmdk');
}

function readDisk(device: XmlNode, datastoreNames: Map<string, string>): VirtualDiskInfo {
  const backing = child(device, 'backing');
  const fileName = childText(backing, 'fileName') ?? '';
  const { datastore, path } = parseDatastorePath(fileName);
  const dsRef = toMoref(child(backing, 'datastore'));
  const bytes = childNumber(device, 'capacityInBytes');
  return {
    key: childNumber(device, 'key') ?? 0,
    label: childText(child(device, 'deviceInfo'), 'label') ?? '',
    capacityInBytes: bytes && bytes > 0 ? bytes : (childNumber(device, 'capacityInKB') ?? 0) * 1024,
    fileName,
    datastore: { name: (dsRef && datastoreNames.get(dsRef.value)) ?? datastore, ref: dsRef },
    descriptorPath: path,
    flatPath: flatExtentPath(path),
    controllerKey: childNumber(device, 'controllerKey'),
    unitNumber: childNumber(device, 'unitNumber'),
    diskMode: childText(backing, 'diskMode'),
    thinProvisioned: childBoolean(backing, 'thinProvisioned'),
    changeId: childText(backing, 'changeId') || undefined,
    uuid: childText(backing, 'uuid') || undefined,
  };
}

/** Virtual disks among `config.hardware.device` (a VM's or a snapshot's). */
export function readDisks(devices: XmlNode | undefined, datastoreNames = new Map<string, string>()): VirtualDiskInfo[] {
  return children(devices, 'VirtualDevice')
    .filter((d) => xsiType(d) === 'VirtualDisk')
    .map((d) => readDisk(d, datastoreNames));
}

function readDevices(devices: XmlNode | undefined): { controllers: VirtualControllerInfo[]; nics: VirtualNicInfo[] } {
  const controllers: VirtualControllerInfo[] = [];
  const nics: VirtualNicInfo[] = [];
  for (const d of children(devices, 'VirtualDevice')) {
    const type = xsiType(d) ?? '';
    const label = childText(child(d, 'deviceInfo'), 'label') ?? '';
    const key = childNumber(d, 'key') ?? 0;
    if (/Controller$/.test(type) && child(d, 'busNumber') !== undefined) controllers.push({ key, type, busNumber: childNumber(d, 'busNumber'), label });
    else if (child(d, 'macAddress') !== undefined || /(E1000|Vmxnet|Pcnet|Sriov)/i.test(type))
      nics.push({ key, type, label, macAddress: childText(d, 'macAddress'), network: childText(child(d, 'backing'), 'deviceName') });
  }
  return { controllers, nics };
}

/** Walks `parent` links up to the Datacenter and returns its name. */
export async function datacenterOf(session: VsphereSession, ref: ManagedObjectReference): Promise<string> {
  let current: ManagedObjectReference | undefined = ref;
  for (let depth = 0; current && depth < 32; depth++) {
    const found: ObjectContent | undefined = await retrieveObject(session, current, current.type === 'Datacenter' ? ['name'] : ['parent']);
    if (current.type === 'Datacenter') return text(found?.props.get('name'));
    current = morefValue(found?.props.get('parent'));
  }
  throw new VsphereError('ManagedObjectNotFound', `${ref.type} ${ref.value} on ${session.label} is not inside a datacenter`);
}

const VM_PATHS = [
  'name',
  'config.guestId',
  'config.guestFullName',
  'config.hardware.numCPU',
  'config.hardware.numCoresPerSocket',
  'config.hardware.memoryMB',
  'config.hardware.device',
  'config.uuid',
  'config.instanceUuid',
  'config.files.vmPathName',
  'config.changeTrackingEnabled',
  'runtime.powerState',
  'datastore',
];

/** Captures a VM's configuration (one property read, a few to find its datacenter, one for datastore names). */
export async function captureVmConfig(session: VsphereSession, vm: ManagedObjectReference): Promise<VmConfig> {
  const found = await retrieveObject(session, vm, VM_PATHS);
  if (!found || !found.props.has('name')) throw new VsphereError('ManagedObjectNotFound', `${session.label} has no virtual machine ${vm.value}`);
  const p = (name: string) => found.props.get(name);
  const num = (name: string) => {
    const v = p(name);
    return v === undefined ? undefined : Number(text(v));
  };
  const datastoreNames = new Map<string, string>();
  for (const ds of children(p('datastore'), 'ManagedObjectReference')) {
    const ref = toMoref(ds);
    if (!ref) continue;
    const info = await retrieveObject(session, ref, ['name']);
    datastoreNames.set(ref.value, text(info?.props.get('name')));
  }
  const devices = p('config.hardware.device');
  const str = (name: string) => (p(name) === undefined ? undefined : text(p(name)));
  return {
    moref: vm,
    name: text(p('name')),
    guestId: str('config.guestId'),
    guestFullName: str('config.guestFullName'),
    numCpu: num('config.hardware.numCPU'),
    numCoresPerSocket: num('config.hardware.numCoresPerSocket'),
    memoryMB: num('config.hardware.memoryMB'),
    uuid: str('config.uuid'),
    instanceUuid: str('config.instanceUuid'),
    vmPathName: str('config.files.vmPathName'),
    changeTrackingEnabled: str('config.changeTrackingEnabled') === 'true',
    powerState: str('runtime.powerState'),
    datacenter: await datacenterOf(session, vm),
    disks: readDisks(devices, datastoreNames),
    ...readDevices(devices),
  };
}
