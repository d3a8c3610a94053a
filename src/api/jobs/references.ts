import { ApiError, badRequest } from '../../http/errors.js';
import type { CredentialsService } from '../credentials/service.js';
import type { EncryptionPasswordsService } from '../encryption-passwords/service.js';
import type { ManagedServersService } from '../managed-servers/service.js';
import type { ProxiesService } from '../proxies/service.js';
import type { RepositoriesService } from '../repositories/service.js';
import type { ScaleOutRepositoriesService } from '../scale-out-repositories/service.js';
import { referencedIds, type InventoryObject, type JobSettings } from './settings.js';

/** Says whether a vSphere object exists on a managed vCenter/ESXi (the inventory section's check). */
export type InventoryLookup = (hostName: string, object: InventoryObject) => Promise<boolean>;

export interface JobReferenceDeps {
  repositories: RepositoriesService;
  scaleOut: ScaleOutRepositoriesService;
  proxies: ProxiesService;
  encryptionPasswords: EncryptionPasswordsService;
  credentials: CredentialsService;
  managedServers: ManagedServersService;
  /** Absent until the inventory section is wired: then only the vSphere server is checked. */
  inventory?: InventoryLookup;
}

export interface ResolvedRepository {
  id: string;
  name: string;
  kind: 'repository' | 'scaleOut';
}

const isNotFound = (err: unknown) => err instanceof ApiError && err.status === 404;

async function exists<T>(lookup: () => Promise<T>): Promise<T | undefined> {
  try {
    return await lookup();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Every id and name a job's settings point at is checked before anything is
 * stored; the 400 names the field, as Veeam's server does.
 */
export async function checkJobReferences(deps: JobReferenceDeps, settings: JobSettings, options: { inventory?: boolean } = {}): Promise<ResolvedRepository> {
  const ids = referencedIds(settings);
  const repo = await exists(() => deps.repositories.get(ids.repositoryId));
  const sobr = repo ? undefined : await exists(() => deps.scaleOut.get(ids.repositoryId));
  if (!repo && !sobr) throw badRequest(`storage.backupRepositoryId: repository ${ids.repositoryId} does not exist.`, ids.repositoryId);
  for (const [i, proxyId] of ids.proxyIds.entries()) {
    if (!(await exists(() => deps.proxies.get(proxyId)))) throw badRequest(`storage.backupProxies.proxyIds[${i}]: backup proxy ${proxyId} does not exist.`, proxyId);
  }
  if (ids.encryptionPasswordId && !(await exists(() => deps.encryptionPasswords.get(ids.encryptionPasswordId!)))) {
    throw badRequest(
      `storage.advancedSettings.storageData.encryption.encryptionPasswordIdOrNull: encryption password ${ids.encryptionPasswordId} does not exist.`,
      ids.encryptionPasswordId,
    );
  }
  if (ids.credentialsId && !(await exists(() => deps.credentials.get(ids.credentialsId!)))) {
    throw badRequest(`guestProcessing.guestCredentials.credsId: credentials ${ids.credentialsId} do not exist.`, ids.credentialsId);
  }
  if (options.inventory !== false) {
    for (const [i, object] of settings.virtualMachines.includes.entries()) await checkInventoryObject(deps, object, `virtualMachines.includes[${i}]`);
  }
  return repo ? { id: repo.id, name: repo.name, kind: 'repository' } : { id: sobr!.id, name: sobr!.name, kind: 'scaleOut' };
}

async function checkInventoryObject(deps: JobReferenceDeps, object: InventoryObject, path: string): Promise<void> {
  const page = { skip: 0, limit: 50, orderBy: 'name_key', orderAsc: true, nameFilter: object.hostName.replace(/\*/g, '') };
  const { rows } = await deps.managedServers.list(page, { types: ['ViHost'] });
  const host = rows.find((r) => r.name.toLowerCase() === object.hostName.toLowerCase());
  if (!host) throw badRequest(`${path}.hostName: "${object.hostName}" is not a vCenter Server or ESXi host added as a managed server.`);
  let found = true;
  if (deps.inventory) {
    try {
      found = await deps.inventory(host.name, object);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw badRequest(`${path}: could not look up ${object.type} "${object.name}" on "${object.hostName}": ${(err as Error).message}`);
    }
  }
  if (!found) {
    throw badRequest(`${path}: ${object.type} "${object.name}"${object.objectId ? ` (${object.objectId})` : ''} was not found on "${object.hostName}".`);
  }
}
