import { Type } from 'typebox';
import { PaginationSchema, StringOrList, listQuerySchema, stringEnum } from '../../http/paging.js';
import { optionalText } from '../../http/nullable.js';
import { CREDENTIALS_STORAGE_TYPES, MANAGED_SERVER_TYPES } from '../connection/schemas.js';
import { COMPONENT_NAMES_1_3 } from '../../revisions/replies/managed-servers.js';

export const VI_HOST_TYPES = ['ESX', 'ESXi', 'VC'] as const;
export const MANAGED_SERVER_STATUSES = ['Available', 'Unavailable'] as const;
export const WINDOWS_COMPONENTS = [
  'Transport',
  'Nfs',
  'HvIntegration',
  'DeployerSvc',
  'WanAccelerator',
  'Tape',
  'CloudGate',
  'CloudServiceInvoker',
  'CloudServiceRemoting',
  'RestoreProxy',
  'EpAgent',
  'EpAgentSqlLocalDB',
  'EpAgentSharedManagementObjects',
  'EpAgentSqlSysClrTypes',
  'AgentConfigureService',
  'VawRedist',
  'ValRedist',
  'GuestControl',
  'FileSystemVssIntegration',
  'VssHwSnapshotProvider',
  'Cdp',
  'VamRedist',
] as const;

export const MANAGED_SERVER_ORDER_COLUMNS = { Name: 'name_key', Type: 'type', Description: 'description_key' } as const;

export const ManagedServersQuery = listQuerySchema(Object.keys(MANAGED_SERVER_ORDER_COLUMNS) as (keyof typeof MANAGED_SERVER_ORDER_COLUMNS)[], {
  typeFilter: Type.Optional(StringOrList),
  viTypeFilter: Type.Optional(StringOrList),
  serverStateFilter: Type.Optional(StringOrList),
  updatesStateFilter: Type.Optional(StringOrList),
  includeNestedHosts: Type.Optional(
    Type.Boolean({ description: '1.3: include hosts nested in a vCenter Server. Every server Rampart knows was added on its own, so none is nested.' }),
  ),
  skipDedupAppliances: Type.Optional(Type.Boolean({ description: '1.3-rev2: leave out deduplicating storage appliances. Rampart manages none.' })),
});

/** 1.3 serverStateFilter: `Any` means no filter. */
export const SERVER_STATE_FILTERS = ['Available', 'Unavailable', 'Any'] as const;
/** 1.3 updatesStateFilter (Linux hosts only). */
export const UPDATES_STATES = ['CheckInProgress', 'Installing', 'LastInstallFailed', 'Available', 'NotAvailable', 'CheckUpdatesFailed', 'OutOfDate'] as const;

const nullable = (schema: Record<string, unknown>) => Type.Optional(Type.Unsafe<unknown>({ ...schema, type: [schema.type as string, 'null'] }));
const portNumber = { type: 'integer', minimum: 0, maximum: 65535 };

const SshSettingsFields = {
  sshTimeOutMs: { type: 'integer', minimum: 0, maximum: 86_400_000 },
  portRangeStart: portNumber,
  portRangeEnd: portNumber,
  serverThisSide: { type: 'boolean', description: '1.1 name of serverSide.' },
  serverSide: { type: 'boolean', description: '1.2 name of serverThisSide.' },
  managementPort: portNumber,
};

const NetworkSettingsFields = {
  components: {
    type: 'array',
    maxItems: 64,
    items: {
      type: 'object',
      required: ['componentName', 'port'],
      properties: { componentName: { type: 'string', enum: [...WINDOWS_COMPONENTS, ...Object.values(COMPONENT_NAMES_1_3)] }, port: portNumber },
    },
  },
  portRangeStart: portNumber,
  portRangeEnd: portNumber,
  serverThisSide: { type: 'boolean' },
  serverSide: { type: 'boolean' },
};

/**
 * ManagedServerSpec / ManagedServerModel of every revision and type in one flat
 * object: which fields each type needs is checked by the service, which can say
 * so. Rampart extensions: `port` for LinuxHost (SSH port) and WindowsHost (TLS
 * port checked), `certificateThumbprint` for WindowsHost, `viHostType` on add.
 */
const specFields = {
  name: Type.String({ minLength: 1, maxLength: 255, description: 'Full DNS name or IP address of the server.' }),
  description: optionalText({ maxLength: 1024 }),
  type: stringEnum(MANAGED_SERVER_TYPES, 'Type of the server.'),
  credentialsId: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], format: 'uuid' })),
  credentialsStorageType: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], enum: [...CREDENTIALS_STORAGE_TYPES, null] })),
  singleUseCredentials: nullable({ type: 'object', additionalProperties: true }),
  sshSettings: nullable({ type: 'object', properties: SshSettingsFields, additionalProperties: true }),
  sshFingerprint: optionalText({ maxLength: 256 }),
  networkSettings: nullable({ type: 'object', properties: NetworkSettingsFields, additionalProperties: true }),
  port: nullable({ type: 'integer', minimum: 1, maximum: 65535 }),
  certificateThumbprint: optionalText({ maxLength: 256 }),
  viHostType: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], enum: [...VI_HOST_TYPES, null] })),
};

export const ManagedServerSpec = Type.Object(specFields, { additionalProperties: true });
export const ManagedServerEdit = Type.Object({ ...specFields, id: Type.Optional(Type.String({ format: 'uuid' })) }, { additionalProperties: true });

const objectOf = (properties: Record<string, unknown>) => Type.Optional(Type.Unsafe<Record<string, unknown>>({ type: 'object', properties }));

export const ManagedServerModel = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  description: Type.String(),
  type: stringEnum(MANAGED_SERVER_TYPES),
  credentialsId: Type.String({ format: 'uuid', description: 'The nil uuid when the server has no permanent credentials (single-use, or the backup server itself).' }),
  // Optional: 1.1-rev0 has no status (see src/revisions/replies/managed-servers.ts).
  status: Type.Optional(stringEnum(MANAGED_SERVER_STATUSES)),
  sshSettings: objectOf(SshSettingsFields),
  credentialsStorageType: Type.Optional(stringEnum(CREDENTIALS_STORAGE_TYPES)),
  networkSettings: objectOf(NetworkSettingsFields),
  viHostType: Type.Optional(stringEnum(VI_HOST_TYPES)),
  port: Type.Optional(Type.Integer()),
  // Rampart extensions (isBackupServer is 1.3's on Linux and Windows hosts), sent as each revision has them.
  isBackupServer: Type.Optional(Type.Boolean()),
  statusReason: Type.Unsafe<string | null>({ type: ['string', 'null'], description: 'Why the last check made the server Unavailable.' }),
  sshFingerprint: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], description: 'The pinned SSH host key (OpenSSH SHA256).' })),
  sshHostKeyAlgorithm: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'] })),
  certificateThumbprint: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], description: 'The pinned TLS certificate (SHA-1 thumbprint).' })),
  hostInfo: Type.Optional(
    Type.Unsafe<Record<string, unknown> | null>({
      type: ['object', 'null'],
      description: 'What the last SSH check learned (LinuxHost).',
      properties: {
        osName: { type: 'string' },
        kernel: { type: 'string' },
        architecture: { type: 'string' },
        rootFreeBytes: { type: 'number' },
        rootTotalBytes: { type: 'number' },
        checkedAt: { type: 'string' },
      },
    }),
  ),
});

export const ManagedServersResult = Type.Object({ data: Type.Array(ManagedServerModel), pagination: PaginationSchema });

export const KnownHostsImportResult = Type.Object({
  results: Type.Array(
    Type.Object({
      lineNumber: Type.Integer(),
      serverId: Type.Unsafe<string | null>({ type: ['string', 'null'] }),
      serverName: Type.Unsafe<string | null>({ type: ['string', 'null'] }),
      action: stringEnum(['pinned', 'unchanged', 'replaced', 'notManaged', 'skipped', 'invalid']),
      fingerprint: Type.Unsafe<string | null>({ type: ['string', 'null'] }),
      message: Type.String(),
    }),
  ),
});
