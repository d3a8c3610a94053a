import type { SessionRunner } from '../../../sessions/runner.js';
import type { VaultSections } from '../../vault/sections.js';
import type { ManagedServersService } from '../../managed-servers/service.js';
import type { ProxiesService } from '../../proxies/service.js';
import type { RepositoriesService } from '../../repositories/service.js';
import { AutomationService } from '../service.js';
import { credentialsSection } from './credentials.js';
import { cloudCredentialsSection } from './cloud-credentials.js';
import { encryptionPasswordsSection } from './encryption-passwords.js';
import { managedServersSection } from './managed-servers.js';
import { proxiesSection } from './proxies.js';
import { repositoriesSection } from './repositories.js';

/** The infrastructure sections automation moves, when the caller has built them. */
export interface InfrastructureSections {
  managedServers: ManagedServersService;
  proxies: ProxiesService;
  repositories?: RepositoriesService;
}

/** The automation service with every section that exists; server.ts and the command line build it the same way. */
export function createAutomation(runner: SessionRunner, vault: VaultSections, infrastructure?: InfrastructureSections): AutomationService {
  const automation = new AutomationService(runner, [
    credentialsSection(vault.credentials),
    encryptionPasswordsSection(vault.encryptionPasswords),
    cloudCredentialsSection(vault.cloudCredentials),
  ]);
  if (infrastructure) {
    automation.register(managedServersSection(infrastructure.managedServers, vault.credentials));
    automation.register(proxiesSection(infrastructure.proxies, infrastructure.managedServers));
    const { repositories, managedServers: servers } = infrastructure;
    if (repositories) automation.register(repositoriesSection({ repositories, servers, credentials: vault.credentials, cloudCredentials: vault.cloudCredentials }));
  }
  return automation;
}
