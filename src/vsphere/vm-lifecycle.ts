import { VsphereError } from './errors.js';
import type { VsphereSession } from './session.js';
import { runTask } from './tasks.js';
import { moref, toMoref, type ManagedObjectReference, type SoapObject } from './xml.js';

/**
 * Power, creation, reconfiguration, registration and removal of VMs: what
 * restores need. Specs are passed in vSphere's own shape (VirtualMachineConfigSpec,
 * in the WSDL's element order), built with `typed()`/`moref()` from xml.ts.
 */

export async function powerOnVm(session: VsphereSession, vm: ManagedObjectReference, signal?: AbortSignal): Promise<void> {
  await runTask(session, 'PowerOnVM_Task', { _this: moref(vm) }, `Powering on ${vm.value}`, signal);
}

export async function powerOffVm(session: VsphereSession, vm: ManagedObjectReference, signal?: AbortSignal): Promise<void> {
  await runTask(session, 'PowerOffVM_Task', { _this: moref(vm) }, `Powering off ${vm.value}`, signal);
}

function createdVm(session: VsphereSession, result: Parameters<typeof toMoref>[0], what: string): ManagedObjectReference {
  const vm = toMoref(result);
  if (!vm) throw new VsphereError('NotSoap', `${session.label} finished ${what} without naming the VM`);
  return vm;
}

/** CreateVM_Task in a folder, on a resource pool (and optionally a host). */
export async function createVm(
  session: VsphereSession,
  place: { folder: ManagedObjectReference; pool: ManagedObjectReference; host?: ManagedObjectReference },
  config: SoapObject,
  signal?: AbortSignal,
): Promise<ManagedObjectReference> {
  const what = `Creating VM "${String(config.name ?? '')}"`;
  const { result } = await runTask(
    session,
    'CreateVM_Task',
    { _this: moref(place.folder), config, pool: moref(place.pool), host: place.host ? moref(place.host) : undefined },
    what,
    signal,
  );
  return createdVm(session, result, what);
}

export async function reconfigureVm(session: VsphereSession, vm: ManagedObjectReference, spec: SoapObject, signal?: AbortSignal): Promise<void> {
  await runTask(session, 'ReconfigVM_Task', { _this: moref(vm), spec }, `Reconfiguring ${vm.value}`, signal);
}

/** RegisterVM_Task of an existing `[ds] dir/name.vmx`. */
export async function registerVm(
  session: VsphereSession,
  place: { folder: ManagedObjectReference; pool: ManagedObjectReference; host?: ManagedObjectReference },
  vmxPath: string,
  name: string,
  signal?: AbortSignal,
): Promise<ManagedObjectReference> {
  const what = `Registering ${vmxPath}`;
  const { result } = await runTask(
    session,
    'RegisterVM_Task',
    { _this: moref(place.folder), path: vmxPath, name, asTemplate: false, pool: moref(place.pool), host: place.host ? moref(place.host) : undefined },
    what,
    signal,
  );
  return createdVm(session, result, what);
}

export async function unregisterVm(session: VsphereSession, vm: ManagedObjectReference): Promise<void> {
  await session.call('UnregisterVM', { _this: moref(vm) });
}

/** Destroy_Task: deletes a VM and its files (or any managed entity). */
export async function destroyEntity(session: VsphereSession, entity: ManagedObjectReference, signal?: AbortSignal): Promise<void> {
  await runTask(session, 'Destroy_Task', { _this: moref(entity) }, `Deleting ${entity.type} ${entity.value}`, signal);
}
