import { randomUUID } from 'node:crypto';
import { readFile, statfs } from 'node:fs/promises';
import { hostname, machine, release, type } from 'node:os';
import type { Store } from '../../store/database.js';
import { settingOrInit } from '../../store/settings.js';
import { isUniqueViolation } from '../../store/unique-violation.js';
import type { LinuxHostFacts } from '../../probe/host-facts.js';
import { DEFAULT_SSH_SETTINGS } from './model.js';

/** The same facts an SSH check learns, read locally for the backup server (this machine). */
export async function localHostFacts(): Promise<LinuxHostFacts> {
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const pretty = /^PRETTY_NAME="?(.*?)"?$/m.exec(osRelease)?.[1];
  const fs = await statfs('/').catch(() => undefined);
  return {
    osName: pretty ?? type(),
    kernel: `${type()} ${release()}`,
    architecture: machine(),
    rootFreeBytes: fs ? fs.bavail * fs.bsize : 0,
    rootTotalBytes: fs ? fs.blocks * fs.bsize : 0,
  };
}

export function factsColumns(facts: LinuxHostFacts, at = new Date().toISOString()) {
  return {
    os_name: facts.osName,
    kernel: facts.kernel,
    architecture: facts.architecture,
    root_free_bytes: facts.rootFreeBytes,
    root_total_bytes: facts.rootTotalBytes,
    facts_checked_at: at,
  };
}

/**
 * The backup server itself is always a managed server, so later sections can
 * put repositories on it. It is this Linux machine: a LinuxHost named after the
 * host name, with no credentials (Rampart runs here) and no SSH pin (it is
 * never reached over the network). Created by the first start, refreshed by every start.
 */
export async function ensureBackupServer(store: Store): Promise<string> {
  const id = await settingOrInit(store.db, 'backup_server_id', randomUUID());
  const facts = factsColumns(await localHostFacts());
  const now = new Date().toISOString();
  const existing = await store.db.selectFrom('managed_servers').select('id').where('id', '=', id).executeTakeFirst();
  if (existing) {
    await store.db
      .updateTable('managed_servers')
      .set({ ...facts, status: 'Available', status_reason: null })
      .where('id', '=', id)
      .execute();
    return id;
  }
  const name = hostname() || 'localhost';
  try {
    await store.db
      .insertInto('managed_servers')
      .values({
        id,
        type: 'LinuxHost',
        name,
        name_key: name.toLowerCase(),
        description: 'Backup server (this machine)',
        description_key: 'backup server (this machine)',
        credentials_id: null,
        credentials_storage_type: 'Permanent',
        status: 'Available',
        status_reason: null,
        is_backup_server: 1,
        vi_host_type: null,
        port: 22,
        ssh_settings: JSON.stringify(DEFAULT_SSH_SETTINGS),
        network_settings: null,
        ssh_host_key: null,
        ssh_host_key_algorithm: null,
        ssh_fingerprint: null,
        certificate_thumbprint: null,
        certificate_sha256: null,
        ...facts,
        single_use_login: null,
        creation_time: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  } catch (err) {
    // Another node created it at the same moment, under the same id: nothing to do.
    if (!isUniqueViolation(err)) throw err;
  }
  return id;
}
