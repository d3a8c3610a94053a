import type { SessionRunner } from '../../../sessions/runner.js';
import type { VaultSections } from '../../vault/sections.js';
import { AutomationService } from '../service.js';
import { credentialsSection } from './credentials.js';
import { cloudCredentialsSection } from './cloud-credentials.js';
import { encryptionPasswordsSection } from './encryption-passwords.js';

/** The automation service with every section that exists; server.ts and the command line build it the same way. */
export function createAutomation(runner: SessionRunner, vault: VaultSections): AutomationService {
  return new AutomationService(runner, [
    credentialsSection(vault.credentials),
    encryptionPasswordsSection(vault.encryptionPasswords),
    cloudCredentialsSection(vault.cloudCredentials),
  ]);
}
