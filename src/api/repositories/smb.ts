import { splitUserName } from '../../storage/smb-client.js';
import type { SmbShareTarget } from '../../storage/smb-share.js';
import { StorageCheckError } from '../../storage/figures.js';
import type { CredentialsService } from '../credentials/service.js';
import { valueAt, type Obj } from './settings.js';

/**
 * An Smb repository's share and login: `share.sharePath`, and the user name
 * (`DOMAIN\user` or `user`) and password of its Standard credentials record,
 * opened from the vault for this connection only.
 */
export async function smbTarget(settings: Obj, credentials: CredentialsService): Promise<SmbShareTarget> {
  const sharePath = String(valueAt(settings, 'share.sharePath') ?? '');
  const credentialsId = valueAt(settings, 'share.credentialsId');
  if (typeof credentialsId !== 'string' || credentialsId === '')
    throw new StorageCheckError(`The SMB share "${sharePath}" has no credentials (share.credentialsId): Rampart logs in to shares with a user name and password.`);
  const record = await credentials.get(credentialsId);
  const { password } = await credentials.secretsFor(credentialsId);
  const { domain, username } = splitUserName(record.username);
  return { sharePath, login: { domain, username, password: password ?? '' } };
}
