import { Type, type Static } from 'typebox';

const ServiceType = Type.Union(
  ['AzureBlob', 'AzureDataBox', 'AmazonS3', 'AmazonEC2', 'S3Compatible', 'AmazonSnowballEdge', 'GoogleCloud', 'IBMCloud', 'AzureCompute', 'WasabiCloud'].map((v) =>
    Type.Literal(v),
  ),
);
const Text = Type.String({ maxLength: 1024 });
const Id = Type.String({ format: 'uuid' });

/** CloudBrowserSpec with the fields of every documented variant (the service checks which its type needs). */
export const CloudBrowserSpec = Type.Object({
  credentialsId: Id,
  serviceType: ServiceType,
  regionType: Type.Optional(Type.Union([Type.Literal('China'), Type.Literal('Germany'), Type.Literal('Global'), Type.Literal('Government')])),
  regionId: Type.Optional(Text),
  servicePoint: Type.Optional(Text),
  gatewayServerId: Type.Optional(Id),
  folderType: Type.Optional(Type.Union([Type.Literal('backup'), Type.Literal('archive')])),
  filters: Type.Optional(Type.Object({ regionId: Type.Optional(Text), bucketName: Type.Optional(Text) })),
});
export type CloudBrowserSpec = Static<typeof CloudBrowserSpec>;

export const CloudBrowserQuery = Type.Object({ resetCache: Type.Optional(Type.Boolean({ description: '1.3: Rampart keeps no cache; every request lists anew.' })) });

const Bucket = Type.Object({ name: Type.String(), folders: Type.Array(Type.String()) });
const Region = Type.Object({ id: Type.String(), name: Type.String(), buckets: Type.Array(Bucket) });

/** CloudBrowserModel for the object-storage variants Rampart browses (S3Compatible, AmazonS3, WasabiCloud). */
export const CloudBrowserModel = Type.Object({
  credentialsId: Type.String(),
  serviceType: Type.String(),
  hostId: Type.String(),
  regionType: Type.Optional(Type.String()),
  connectionPoint: Type.Optional(Type.String()),
  regions: Type.Array(Region),
});

/** CloudBrowserNewFolderSpec with the fields of every documented variant. */
export const CloudBrowserNewFolderSpec = Type.Object({
  credentialsId: Id,
  serviceType: ServiceType,
  newFolderName: Type.String({ minLength: 1, maxLength: 512 }),
  hostId: Type.Optional(Id),
  regionType: Type.Optional(Type.Union([Type.Literal('China'), Type.Literal('Germany'), Type.Literal('Global'), Type.Literal('Government')])),
  regionId: Type.Optional(Text),
  connectionPoint: Type.Optional(Text),
  servicePoint: Type.Optional(Text),
  bucketName: Type.Optional(Text),
  containerName: Type.Optional(Text),
  folderType: Type.Optional(Type.Union([Type.Literal('backup'), Type.Literal('archive')])),
});
export type CloudBrowserNewFolderSpec = Static<typeof CloudBrowserNewFolderSpec>;
