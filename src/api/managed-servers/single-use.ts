import type { Executor } from '../../store/transaction.js';
import { inTransaction } from '../../store/transaction.js';
import type { Store } from '../../store/database.js';
import type { SecretOwner, SecretStore } from '../../vault/secret-store.js';
import type { LinuxLoginSettings, SingleUseCredentials } from '../connection/service.js';

/** Vault owner kind of single-use credentials: sealed like every other secret, bound to the server's id. */
export const SINGLE_USE_KIND = 'managedServerSingleUse';

export function singleUseOwner(serverId: string): SecretOwner {
  return { kind: SINGLE_USE_KIND, type: 'Linux', id: serverId };
}

/** Seals single-use credentials for a server, replacing any not yet used. */
export async function storeSingleUse(db: Executor, secrets: SecretStore, serverId: string, credentials: SingleUseCredentials): Promise<string> {
  await secrets.removeAll(db, singleUseOwner(serverId));
  await secrets.write(db, singleUseOwner(serverId), { ...credentials.secrets });
  return JSON.stringify({ ...credentials.settings, usedAt: null });
}

/**
 * Takes the server's single-use credentials out of the vault: they are opened
 * and removed in one transaction, so two operations can never both use them.
 * Undefined when there are none left.
 */
export async function takeSingleUse(store: Store, secrets: SecretStore, serverId: string): Promise<SingleUseCredentials | undefined> {
  return inTransaction(store.db, async (trx) => {
    const row = await trx.selectFrom('managed_servers').select('single_use_login').where('id', '=', serverId).executeTakeFirst();
    const opened = await secrets.readAll(trx, singleUseOwner(serverId));
    if (!row?.single_use_login || Object.keys(opened).length === 0) return undefined;
    await secrets.removeAll(trx, singleUseOwner(serverId));
    const settings = JSON.parse(row.single_use_login) as LinuxLoginSettings & { usedAt: string | null };
    await trx
      .updateTable('managed_servers')
      .set({ single_use_login: JSON.stringify({ ...settings, usedAt: new Date().toISOString() }) })
      .where('id', '=', serverId)
      .execute();
    const { usedAt: _usedAt, ...login } = settings;
    return { settings: login, secrets: opened };
  });
}
