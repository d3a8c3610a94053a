import type { Logger } from 'pino';
import type { RampartConfig } from '../../config.js';
import type { Store } from '../../store/database.js';
import { ReferenceRegistry } from '../../store/references.js';
import type { SessionRunner } from '../../sessions/runner.js';
import { MasterKeyring } from '../../vault/master-keyring.js';
import { SecretStore } from '../../vault/secret-store.js';
import { sealedValuesByKey } from '../../vault/rotation.js';
import { AzureAppRegistration } from '../../azure/app-registration.js';
import { CredentialsService } from '../credentials/service.js';
import { CloudCredentialsService } from '../cloud-credentials/service.js';
import { EncryptionPasswordsService } from '../encryption-passwords/service.js';
import { VaultService } from './service.js';

/** The vault and the three secret-holding sections, built once by server.ts. */
export interface VaultSections {
  keyring: MasterKeyring;
  secrets: SecretStore;
  /** Later sections register "who uses credentials X" finders here. */
  references: ReferenceRegistry;
  credentials: CredentialsService;
  cloudCredentials: CloudCredentialsService;
  encryptionPasswords: EncryptionPasswordsService;
  vault: VaultService;
}

export async function createVaultSections(config: RampartConfig, store: Store, runner: SessionRunner, logger: Logger): Promise<VaultSections> {
  const keyring = MasterKeyring.open(config.dataDir, config.masterKey);
  const secrets = new SecretStore(keyring);
  const references = new ReferenceRegistry();
  const azure = new AzureAppRegistration({ clientId: config.azureClientId, authorityUrl: config.azureAuthorityUrl, graphUrl: config.azureGraphUrl });
  const leftovers = (await sealedValuesByKey(store)).filter((k) => k.masterKeyId !== keyring.currentKeyId);
  if (leftovers.length > 0) {
    // An interrupted rotation (or a key supplied anew): everything opens, but the old keys are still needed.
    logger.warn({ masterKeys: leftovers }, 'some secrets are sealed under a previous master key; run rotate-master-key to finish re-sealing');
  }
  return {
    keyring,
    secrets,
    references,
    credentials: new CredentialsService(store, secrets, references),
    cloudCredentials: new CloudCredentialsService(store, secrets, references, azure),
    encryptionPasswords: new EncryptionPasswordsService(store, secrets, references),
    vault: new VaultService(store, keyring, runner, config.dataDir),
  };
}
