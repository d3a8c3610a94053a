import { Type, type TSchema } from 'typebox';
import { stringEnum } from '../../http/paging.js';
import { CLOUD_CREDENTIALS_TYPES } from '../cloud-credentials/schemas.js';
import { REPOSITORY_TYPES, type RepositoryType } from '../repositories/schemas.js';
import { CredentialsReference } from './infrastructure-schemas.js';
import { SealSchema } from './schemas.js';

/**
 * RepositoryImportSpecCollection as 1.1-rev0 documents it: one PascalCase key per
 * type, items referencing servers and credentials by name. The reference objects
 * and the top level are strict (an unknown key or bad enum is a 400 before
 * anything is imported); the type's own settings (repository, bucket, container)
 * stay open, because the repositories service checks them field by field, as
 * adding by hand does, and names what is wrong.
 */
export const REPOSITORY_KEYS = {
  WinLocal: 'WindowsLocalRepositories',
  LinuxLocal: 'LinuxLocalRepositories',
  Smb: 'SmbRepositories',
  Nfs: 'NfsRepositories',
  AzureBlob: 'AzureBlobStorages',
  AzureDataBox: 'AzureDataBoxStorages',
  AmazonS3: 'AmazonS3Storages',
  AmazonSnowballEdge: 'AmazonSnowballEdgeStorages',
  S3Compatible: 'S3CompatibleStorages',
  GoogleCloud: 'GoogleCloudStorages',
  IBMCloud: 'IBMCloudStorages',
  AmazonS3Glacier: 'AmazonS3GlacierStorages',
  AzureArchive: 'AzureArchiveStorages',
  WasabiCloud: 'WasabiCloudStorages',
  LinuxHardened: 'LinuxHardenedRepositories',
} as const satisfies Partial<Record<RepositoryType, string>>;
export type ImportableType = keyof typeof REPOSITORY_KEYS;

const strict = <T extends Record<string, TSchema>>(properties: T) => Type.Object(properties, { additionalProperties: false });
const optText = (max = 1024) => Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: max }));
const optFlag = () => Type.Optional(Type.Unsafe<boolean | null>({ type: ['boolean', 'null'] }));
const optInt = (min: number, max: number) => Type.Optional(Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: min, maximum: max }));
const open = (description: string) => Type.Optional(Type.Unsafe<Record<string, unknown> | null>({ type: ['object', 'null'], additionalProperties: true, description }));
const serverName = () => Type.String({ minLength: 1, maxLength: 255 });

/** MountServerSettingsImportSpec. */
const MountServerSettings = strict({
  mountServerName: serverName(),
  writeCacheFolder: Type.String({ maxLength: 1024 }),
  vPowerNFSEnabled: Type.Boolean(),
  vPowerNFSPortSettings: open('VPowerNFSPortSettingsModel.'),
});

/** 1.3's MountServersSettingsImportSpec: settings per operating system of the machines restored. */
const MountServersPerOs = strict({
  mountServerSettingsType: stringEnum(['windows', 'linux', 'both', 'Windows', 'Linux', 'Both'] as const),
  windows: Type.Optional(MountServerSettings),
  linux: Type.Optional(MountServerSettings),
});

/** The flat form (1.1, 1.2) or 1.3's per-OS one. */
const MountServer = Type.Union([MountServerSettings, MountServersPerOs]);

/** CloudCredentialsImportModel: name (access key, account) and tag of a cloud credentials record. */
const CloudCredentialsReference = strict({ name: Type.String({ minLength: 1, maxLength: 512 }), tag: optText(256), type: stringEnum(CLOUD_CREDENTIALS_TYPES) });

/** ObjectStorageConnectionImportSpec: gateway servers by name. */
const Connection = strict({
  connectionType: stringEnum(['Direct', 'SelectedGateway'] as const),
  gatewayServers: Type.Optional(Type.Union([Type.Array(serverName(), { maxItems: 1000 }), Type.Null()])),
});

/** RepositoryShareGatewayImportSpec; `gatewayServerNames` (Rampart) carries more than one gateway. */
const ShareGateway = strict({
  autoSelect: optFlag(),
  autoSelectEnabled: optFlag(),
  gatewayServerName: optText(255),
  gatewayServerNames: Type.Optional(Type.Array(serverName(), { maxItems: 1000 })),
});

const Share = (withCredentials: boolean) =>
  strict({
    sharePath: Type.String({ minLength: 1, maxLength: 1024 }),
    ...(withCredentials ? { credentials: CredentialsReference } : {}),
    gatewayServer: Type.Optional(ShareGateway),
  });

/** The account objects: open for their own fields (region, service point), strict where they reference something. */
const Account = Type.Object({ credentials: CloudCredentialsReference, connectionSettings: Type.Optional(Connection) }, { additionalProperties: true });

/** S3CompatibleProxyModel and friends; the proxy appliance's server travels by name (`managedServerName`, Rampart). */
const ProxyAppliance = Type.Optional(Type.Object({ managedServerName: Type.Optional(serverName()) }, { additionalProperties: true }));

const LOCAL: readonly ImportableType[] = ['WinLocal', 'LinuxLocal', 'LinuxHardened'];
const SHARES: readonly ImportableType[] = ['Smb', 'Nfs'];

function itemSchema(type: ImportableType) {
  const base = {
    name: Type.String({ minLength: 1, maxLength: 256 }),
    description: Type.String({ maxLength: 1024 }),
    tag: optText(256),
    uniqueId: optText(256),
    type: Type.Literal(type),
    // Listed as required (never defined) by the 1.1-rev0 document: accepted, not needed.
    kind: optText(64),
    mountServer: Type.Optional(MountServer),
  };
  if (LOCAL.includes(type)) return strict({ ...base, hostName: serverName(), repository: open("The type's repository settings model.") });
  if (SHARES.includes(type)) return strict({ ...base, share: Share(type === 'Smb'), repository: open('NetworkRepositorySettingsModel.') });
  return strict({
    ...base,
    enableTaskLimit: optFlag(),
    taskLimitEnabled: optFlag(),
    maxTaskCount: optInt(1, 1024),
    account: Account,
    bucket: open("The type's bucket model."),
    container: open("The type's container model."),
    proxyAppliance: ProxyAppliance,
  });
}

export const RepositoriesImportSpecCollection = Type.Object(
  {
    ...Object.fromEntries(Object.entries(REPOSITORY_KEYS).map(([type, key]) => [key, Type.Optional(Type.Array(itemSchema(type as ImportableType)))])),
    rampartSeal: Type.Optional(SealSchema),
  },
  { additionalProperties: false, description: 'RepositoryImportSpecCollection' },
);

export const RepositoriesExportSpec = strict({
  ids: Type.Optional(Type.Array(Type.String({ format: 'uuid' }))),
  types: Type.Optional(Type.Array(stringEnum(REPOSITORY_TYPES))),
  names: Type.Optional(Type.Array(Type.String({ maxLength: 256 }))),
});
