import { ApiError, notFound } from '../../http/errors.js';
import type { Store } from '../../store/database.js';
import { VsphereSession, type VsphereCredentials } from '../../vsphere/session.js';
import type { VsphereTarget } from '../../vsphere/transport.js';
import type { ConnectionService } from '../connection/service.js';
import type { ManagedServerRow } from '../managed-servers/model.js';

/**
 * How Rampart reaches a ViHost managed server: its address and pinned
 * certificate from the managed-servers table, its credentials from the vault.
 */
export interface VsphereAccess {
  server: { id: string; name: string; viHostType: string };
  target: VsphereTarget;
  credentials: VsphereCredentials;
}

export async function viHostNamed(store: Store, hostName: string): Promise<ManagedServerRow> {
  const row = await store.db.selectFrom('managed_servers').selectAll().where('type', '=', 'ViHost').where('name_key', '=', hostName.trim().toLowerCase()).executeTakeFirst();
  if (!row) throw notFound(`There is no VMware vSphere server named "${hostName}": add it under backupInfrastructure/managedServers first.`, hostName);
  return row;
}

export async function accessFor(store: Store, connection: ConnectionService, hostName: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<VsphereAccess> {
  const row = await viHostNamed(store, hostName);
  if (!row.certificate_thumbprint) throw new ApiError(503, 'ServiceUnavailable', `The server "${row.name}" has no pinned certificate: rescan or edit it first.`, row.id);
  if (!row.credentials_id) throw new ApiError(503, 'ServiceUnavailable', `The server "${row.name}" has no stored credentials: edit it to give some.`, row.id);
  const record = await connection.credentialsFor('ViHost', row.credentials_id);
  const secrets = await connection.secretsFor(row.credentials_id);
  return {
    server: { id: row.id, name: row.name, viHostType: row.vi_host_type ?? 'VC' },
    target: { host: row.name, port: row.port ?? 443, thumbprint: row.certificate_thumbprint, timeoutMs: options.timeoutMs ?? connection.probeTimeoutMs, signal: options.signal },
    credentials: { username: record.username, password: secrets.password ?? '' },
  };
}

/** A logged-in session with a ViHost managed server (close it with `logout()`). */
export async function openSession(access: VsphereAccess): Promise<VsphereSession> {
  return VsphereSession.login(access.target, access.credentials);
}
