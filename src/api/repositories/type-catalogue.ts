import type { RepositoryType } from './schemas.js';

/** What a referenced id must point at. */
export type ReferenceTarget =
  | { section: 'managedServer'; types?: readonly string[]; role: string }
  | { section: 'credentials'; types?: readonly string[] }
  | { section: 'cloudCredentials'; types: readonly string[] };

export interface ReferenceRule {
  /** Dotted path; `[]` marks an array of ids. */
  path: string;
  target: ReferenceTarget;
}

export type StorageKind = 'LocalStorage' | 'NetworkStorage' | 'ObjectStorage';

export interface TypeDefinition {
  kind: StorageKind;
  /** The type-specific top-level fields the model carries (besides id, name, description, tag, type). */
  fields: readonly string[];
  /** Dotted paths that must be present (the documented `required` lists, per nested object). */
  required: readonly string[];
  enums: Readonly<Record<string, readonly string[]>>;
  references: readonly ReferenceRule[];
}

const AMAZON_REGION_TYPES = ['China', 'Global', 'Government'] as const;
const AZURE_REGION_TYPES = ['China', 'Germany', 'Global', 'Government'] as const;
const CONNECTION_TYPES = ['Direct', 'SelectedGateway'] as const;
const LIMIT_KINDS = ['TB', 'PB'] as const;
const CLEANUP_MODES = ['Disabled', 'ClearBackupFolder', 'ClearRepositoryFolder'] as const;

const mountServerRequired = ['mountServer', 'mountServer.mountServerId', 'mountServer.writeCacheFolder', 'mountServer.vPowerNFSEnabled'];
const mountServerRef: ReferenceRule = { path: 'mountServer.mountServerId', target: { section: 'managedServer', types: ['WindowsHost', 'LinuxHost'], role: 'mount server' } };
const gatewayRef = (path: string): ReferenceRule => ({ path, target: { section: 'managedServer', types: ['WindowsHost', 'LinuxHost'], role: 'gateway server' } });
const advancedEnums = { 'repository.advancedSettings.RotatedDriveCleanupMode': CLEANUP_MODES };

function local(hostTypes: readonly string[]): TypeDefinition {
  return {
    kind: 'LocalStorage',
    fields: ['hostId', 'repository', 'mountServer'],
    required: ['hostId', 'repository', 'repository.path', ...mountServerRequired],
    enums: advancedEnums,
    references: [{ path: 'hostId', target: { section: 'managedServer', types: hostTypes, role: 'repository host' } }, mountServerRef],
  };
}

function share(withCredentials: boolean): TypeDefinition {
  return {
    kind: 'NetworkStorage',
    fields: ['share', 'repository', 'mountServer'],
    required: ['share', 'share.sharePath', ...(withCredentials ? ['share.credentialsId'] : []), 'share.gatewayServer?.autoSelect', 'repository', ...mountServerRequired],
    enums: advancedEnums,
    references: [
      ...(withCredentials ? [{ path: 'share.credentialsId', target: { section: 'credentials', types: ['Standard'] } } as ReferenceRule] : []),
      gatewayRef('share.gatewayServer.gatewayServerIds[]'),
      mountServerRef,
    ],
  };
}

const connectionEnums = { 'account.connectionSettings.connectionType': CONNECTION_TYPES };
const limitEnums = { 'bucket.storageConsumptionLimit.consumptionLimitKind': LIMIT_KINDS };
const s3Bucket = ['bucket', 'bucket.bucketName', 'bucket.folderName'];

function objectStorage(
  fields: readonly string[],
  required: readonly string[],
  cloudTypes: readonly string[],
  enums: Record<string, readonly string[]>,
  extra: ReferenceRule[] = [],
): TypeDefinition {
  return {
    kind: 'ObjectStorage',
    fields,
    required: [...required, 'account.connectionSettings?.connectionType'],
    enums: { ...connectionEnums, ...enums },
    references: [
      { path: 'account.credentialsId', target: { section: 'cloudCredentials', types: cloudTypes } },
      gatewayRef('account.connectionSettings.gatewayServerIds[]'),
      ...(fields.includes('mountServer') ? [mountServerRef] : []),
      ...extra,
    ],
  };
}

const s3ProxyRef: ReferenceRule = { path: 'proxyAppliance.managedServerId', target: { section: 'managedServer', types: ['LinuxHost', 'WindowsHost'], role: 'proxy appliance' } };
const taskFields = ['enableTaskLimit', 'maxTaskCount'];

/** Every type the 1.1-rev0 document gives a specification for, with its documented fields. */
export const TYPE_CATALOGUE: Partial<Record<RepositoryType, TypeDefinition>> = {
  WinLocal: local(['WindowsHost']),
  LinuxLocal: local(['LinuxHost']),
  LinuxHardened: {
    ...local(['LinuxHost']),
    required: [...local(['LinuxHost']).required],
  },
  Smb: share(true),
  Nfs: share(false),
  AmazonS3: objectStorage(
    [...taskFields, 'account', 'bucket', 'mountServer', 'proxyAppliance'],
    ['account', 'account.credentialsId', 'account.regionType', ...s3Bucket, 'bucket.regionId', ...mountServerRequired],
    ['Amazon'],
    { 'account.regionType': AMAZON_REGION_TYPES, ...limitEnums },
  ),
  S3Compatible: objectStorage(
    [...taskFields, 'account', 'bucket', 'mountServer', 'proxyAppliance'],
    ['account', 'account.servicePoint', 'account.regionId', 'account.credentialsId', ...s3Bucket, ...mountServerRequired, 'proxyAppliance?.managedServerId'],
    ['Amazon'],
    limitEnums,
    [s3ProxyRef],
  ),
  IBMCloud: objectStorage(
    [...taskFields, 'account', 'bucket', 'mountServer', 'proxyAppliance'],
    [
      'account',
      'account.servicePoint',
      'account.regionId',
      'account.credentialsId',
      'account.connectionSettings',
      ...s3Bucket,
      ...mountServerRequired,
      'proxyAppliance?.managedServerId',
    ],
    ['Amazon'],
    limitEnums,
    [s3ProxyRef],
  ),
  WasabiCloud: objectStorage(
    [...taskFields, 'account', 'bucket', 'mountServer', 'proxyAppliance'],
    ['account', 'account.regionId', 'account.credentialsId', 'account.connectionSettings', ...s3Bucket, ...mountServerRequired, 'proxyAppliance?.managedServerId'],
    ['Amazon'],
    limitEnums,
    [s3ProxyRef],
  ),
  GoogleCloud: objectStorage(
    [...taskFields, 'account', 'bucket', 'mountServer'],
    ['account', 'account.credentialsId', 'account.regionId', 'account.connectionSettings', ...s3Bucket, ...mountServerRequired],
    ['Google'],
    limitEnums,
  ),
  AmazonSnowballEdge: objectStorage(
    [...taskFields, 'account', 'bucket', 'mountServer'],
    ['account', 'account.servicePoint', 'account.regionId', 'account.credentialsId', ...s3Bucket, ...mountServerRequired],
    ['Amazon'],
    limitEnums,
  ),
  AmazonS3Glacier: objectStorage(['account', 'bucket', 'proxyAppliance'], ['account', 'account.credentialsId', 'account.regionType', ...s3Bucket, 'bucket.regionId'], ['Amazon'], {
    'account.regionType': AMAZON_REGION_TYPES,
  }),
  AzureBlob: objectStorage(
    [...taskFields, 'account', 'container', 'proxyAppliance', 'mountServer'],
    [
      'account',
      'account.credentialsId',
      'account.regionType',
      'account.connectionSettings',
      'container',
      'container.containerName',
      'container.folderName',
      ...mountServerRequired,
      'proxyAppliance?.subscriptionId',
    ],
    ['AzureStorage'],
    { 'account.regionType': AZURE_REGION_TYPES, 'container.storageConsumptionLimit.consumptionLimitKind': LIMIT_KINDS },
  ),
  AzureArchive: objectStorage(
    ['account', 'container', 'proxyAppliance'],
    [
      'account',
      'account.credentialsId',
      'account.regionType',
      'account.connectionSettings',
      'container',
      'container.containerName',
      'container.folderName',
      'proxyAppliance',
      'proxyAppliance.subscriptionId',
    ],
    ['AzureStorage'],
    { 'account.regionType': AZURE_REGION_TYPES },
  ),
  AzureDataBox: objectStorage([...taskFields, 'account', 'container'], ['account', 'account.serviceEndpoint', 'account.credentialsId', 'container'], ['AzureStorage'], {}),
};

/** Types checked over the S3 protocol by Rampart itself. */
export const S3_TYPES: readonly RepositoryType[] = ['AmazonS3', 'S3Compatible', 'IBMCloud', 'WasabiCloud', 'GoogleCloud', 'AmazonSnowballEdge'];
/** Object storage that may serve as a capacity tier extent; Glacier and Azure Archive serve the archive tier. */
export const CAPACITY_TIER_TYPES: readonly RepositoryType[] = [
  'AmazonS3',
  'S3Compatible',
  'IBMCloud',
  'WasabiCloud',
  'GoogleCloud',
  'AzureBlob',
  'AzureDataBox',
  'AmazonSnowballEdge',
];
export const ARCHIVE_TIER_TYPES: readonly RepositoryType[] = ['AmazonS3Glacier', 'AzureArchive'];
