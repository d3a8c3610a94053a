import { VsphereError } from './errors.js';
import { retrieveObject } from './property-collector.js';
import type { VsphereSession } from './session.js';
import { datastoreFileUrlPath, type DatastoreFile } from './datastore-files.js';
import { runTask } from './tasks.js';
import { hostLabel } from './transport.js';
import { child, childText, moref, toMoref, type ManagedObjectReference } from './xml.js';

/** Datastores a restore mounts (NFS) and first-class disks it registers. */

export interface NasDatastoreSpec {
  remoteHost: string;
  remotePath: string;
  /** The datastore's name (on vcsim, the folder served is `localPath` and the name is its basename). */
  localPath: string;
  accessMode?: 'readWrite' | 'readOnly';
  type?: 'NFS' | 'NFS41';
}

/** CreateNasDatastore on a host's datastore system. */
export async function createNasDatastore(session: VsphereSession, host: ManagedObjectReference, spec: NasDatastoreSpec): Promise<ManagedObjectReference> {
  const found = await retrieveObject(session, host, ['configManager.datastoreSystem']);
  const system = toMoref(found?.props.get('configManager.datastoreSystem'));
  if (!system) throw new VsphereError('ManagedObjectNotFound', `Host ${host.value} on ${session.label} has no datastore system`);
  const ds = toMoref(
    await session.call('CreateNasDatastore', {
      _this: moref(system),
      spec: { remoteHost: spec.remoteHost, remotePath: spec.remotePath, localPath: spec.localPath, accessMode: spec.accessMode ?? 'readWrite', type: spec.type ?? 'NFS' },
    }),
  );
  if (!ds) throw new VsphereError('NotSoap', `${session.label} created datastore "${spec.localPath}" without naming it`);
  return ds;
}

/** RegisterDisk (first-class disk) from a datastore file URL; returns the disk's id. */
export async function registerDisk(session: VsphereSession, path: string, name?: string): Promise<string> {
  const manager = session.content.vStorageObjectManager;
  if (!manager) throw new VsphereError('NotSupported', `${session.label} has no first-class disk manager`);
  const obj = await session.call('RegisterDisk', { _this: moref(manager), path, name });
  return childText(child(child(obj, 'config'), 'id'), 'id') ?? '';
}

/** The https URL of a datastore file, as RegisterDisk wants it (`https://host/folder/path?dcPath=…&dsName=…`). */
export function datastoreFileUrl(session: VsphereSession, file: DatastoreFile): string {
  return `https://${hostLabel(session.soap.target)}${datastoreFileUrlPath(file)}`;
}

/** DeleteVStorageObject_Task: forgets a first-class disk and deletes its files (vSphere has no way to forget one and keep them). */
export async function deleteDisk(session: VsphereSession, id: string, datastore: ManagedObjectReference, signal?: AbortSignal): Promise<void> {
  const manager = session.content.vStorageObjectManager;
  if (!manager) throw new VsphereError('NotSupported', `${session.label} has no first-class disk manager`);
  await runTask(session, 'DeleteVStorageObject_Task', { _this: moref(manager), id: { id }, datastore: moref(datastore) }, `delete first-class disk ${id}`, signal);
}

/** Whether a first-class disk is still registered on the datastore (RetrieveVStorageObject; vSphere answers NotFound when it is not). */
export async function diskExists(session: VsphereSession, id: string, datastore: ManagedObjectReference): Promise<boolean> {
  const manager = session.content.vStorageObjectManager;
  if (!manager) throw new VsphereError('NotSupported', `${session.label} has no first-class disk manager`);
  try {
    await session.call('RetrieveVStorageObject', { _this: moref(manager), id: { id }, datastore: moref(datastore) });
    return true;
  } catch (err) {
    if (err instanceof VsphereError && (err.kind === 'NotFound' || err.kind === 'ManagedObjectNotFound' || err.kind === 'InvalidDatastore')) return false;
    throw err;
  }
}
