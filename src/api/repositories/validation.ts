import { badRequest, type ApiError } from '../../http/errors.js';
import type { CredentialsService } from '../credentials/service.js';
import type { CloudCredentialsService } from '../cloud-credentials/service.js';
import type { HostDirectory, RepositoryHost } from './hosts.js';
import type { FoundReference } from './settings.js';

export interface ReferenceDeps {
  hosts: HostDirectory;
  credentials: CredentialsService;
  cloudCredentials: CloudCredentialsService;
}

const isNotFound = (err: unknown) => (err as ApiError)?.status === 404;

/**
 * Every referenced record exists and is of a fitting kind; the repository's own
 * host is returned for the checks. A missing or unfit reference is a 400 that
 * names the field, before any session starts.
 */
export async function checkReferences(type: string, refs: FoundReference[], deps: ReferenceDeps): Promise<RepositoryHost | undefined> {
  let repositoryHost: RepositoryHost | undefined;
  for (const ref of refs) {
    const target = ref.rule.target;
    if (target.section === 'managedServer') {
      const host = await deps.hosts.find(ref.id);
      if (!host)
        throw badRequest(`The ${target.role} in "${ref.path}" (${ref.id}) is not a managed server; add it under /api/v1/backupInfrastructure/managedServers first.`, ref.id);
      const fits = host.isBackupServer || !target.types || target.types.includes(host.type);
      if (!fits)
        throw badRequest(
          `The ${target.role} in "${ref.path}" is managed server "${host.name}" of type ${host.type}; a ${type} repository needs ${target.types!.join(' or ')}.`,
          ref.id,
        );
      if (ref.path === 'hostId') repositoryHost = host;
    } else if (target.section === 'credentials') {
      const row = await deps.credentials.get(ref.id).catch((err) => (isNotFound(err) ? undefined : Promise.reject(err)));
      if (!row) throw badRequest(`The credentials record in "${ref.path}" (${ref.id}) does not exist.`, ref.id);
      if (target.types && !target.types.includes(row.type))
        throw badRequest(`The credentials record in "${ref.path}" is of type ${row.type}; ${type} repositories need ${target.types.join(' or ')} credentials.`, ref.id);
    } else {
      const row = await deps.cloudCredentials.get(ref.id).catch((err) => (isNotFound(err) ? undefined : Promise.reject(err)));
      if (!row) throw badRequest(`The cloud credentials record in "${ref.path}" (${ref.id}) does not exist.`, ref.id);
      if (!target.types.includes(row.type))
        throw badRequest(`The cloud credentials record in "${ref.path}" is of type ${row.type}; ${type} repositories need ${target.types.join(' or ')} cloud credentials.`, ref.id);
    }
  }
  if (type === 'LinuxHardened' && repositoryHost && !repositoryHost.isBackupServer && repositoryHost.credentialsStorageType !== 'SingleUse') {
    throw badRequest(
      `A hardened repository needs single-use credentials on its host, as Veeam requires; managed server "${repositoryHost.name}" keeps permanent credentials. Switch it with POST /api/v1/backupInfrastructure/managedServers/${repositoryHost.id}/updateSingleUseCredentials first.`,
      repositoryHost.id,
    );
  }
  return repositoryHost;
}
