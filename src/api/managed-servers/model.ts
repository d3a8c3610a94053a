import type { Selectable } from 'kysely';
import type { ManagedServersTable } from '../../store/schema.js';
import { formatInstant } from '../../http/dates.js';

export type ManagedServerRow = Selectable<ManagedServersTable>;

/** What 1.1 parsers need in the required `credentialsId` when a server has no permanent credentials. */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** Veeam's defaults, as its examples show them. */
export const DEFAULT_SSH_SETTINGS = { sshTimeOutMs: 20_000, portRangeStart: 2500, portRangeEnd: 3300, serverThisSide: false, managementPort: 6162 };
export const DEFAULT_NETWORK_SETTINGS = {
  components: [
    { componentName: 'DeployerSvc', port: 6160 },
    { componentName: 'Transport', port: 6162 },
    { componentName: 'Nfs', port: 6161 },
  ],
  portRangeStart: 2500,
  portRangeEnd: 3300,
  serverThisSide: false,
};

/** serverThisSide (1.1) and serverSide (1.2) carry one value: emit both spellings. */
function bothSpellings(settings: Record<string, unknown>) {
  const side = settings.serverThisSide ?? settings.serverSide ?? false;
  return { ...settings, serverThisSide: side, serverSide: side };
}

function parsed<T>(json: string | null, fallback: T): T {
  if (!json) return fallback;
  try {
    return JSON.parse(json) as T;
  } catch {
    return fallback;
  }
}

/** ManagedServerModel for every revision at once: both `credentialsId` and `status`, both spellings, Rampart extensions. */
export function managedServerModel(row: ManagedServerRow) {
  const base = {
    id: row.id,
    name: row.name,
    description: row.description,
    type: row.type as 'WindowsHost' | 'LinuxHost' | 'ViHost',
    credentialsId: row.credentials_id ?? NIL_UUID,
    status: row.status as 'Available' | 'Unavailable',
    isBackupServer: Number(row.is_backup_server) === 1,
    statusReason: row.status_reason,
  };
  if (row.type === 'LinuxHost') {
    return {
      ...base,
      sshSettings: bothSpellings(parsed(row.ssh_settings, DEFAULT_SSH_SETTINGS)),
      credentialsStorageType: row.credentials_storage_type as 'Permanent' | 'SingleUse',
      sshFingerprint: row.ssh_fingerprint,
      sshHostKeyAlgorithm: row.ssh_host_key_algorithm,
      port: row.port ?? 22,
      hostInfo: row.facts_checked_at
        ? {
            osName: row.os_name ?? '',
            kernel: row.kernel ?? '',
            architecture: row.architecture ?? '',
            rootFreeBytes: Number(row.root_free_bytes ?? 0),
            rootTotalBytes: Number(row.root_total_bytes ?? 0),
            checkedAt: formatInstant(row.facts_checked_at)!,
          }
        : null,
    };
  }
  if (row.type === 'ViHost') {
    return { ...base, viHostType: (row.vi_host_type ?? 'VC') as 'ESX' | 'ESXi' | 'VC', port: row.port ?? 443, certificateThumbprint: row.certificate_thumbprint };
  }
  return {
    ...base,
    // Windows hosts hold permanent credentials only; 1.3 requires the field (see replies/managed-servers.ts).
    credentialsStorageType: 'Permanent' as const,
    networkSettings: bothSpellings(parsed(row.network_settings, DEFAULT_NETWORK_SETTINGS)),
    port: row.port ?? 5986,
    certificateThumbprint: row.certificate_thumbprint,
  };
}
