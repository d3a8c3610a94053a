import { Type, type TSchema } from 'typebox';
import { stringEnum } from '../../http/paging.js';
import { MANAGED_SERVER_TYPES } from '../connection/schemas.js';
import { VI_HOST_TYPES } from '../managed-servers/schemas.js';
import { PROXY_TYPES, proxySettingsFields } from '../proxies/schemas.js';
import { SealSchema } from './schemas.js';

/**
 * Automation collections of the infrastructure (managed servers, proxies) as
 * 1.1-rev0 documents them, strict like the vault kinds' (schemas.ts): an unknown
 * key or bad enum is a 400 before anything is imported.
 */
const strict = <T extends Record<string, TSchema>>(properties: T, description?: string) =>
  Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });
const optText = (max = 1024) => Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: max }));
const optPort = () => Type.Optional(Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 1, maximum: 65535 }));
const looseObject = (description: string) => Type.Optional(Type.Unsafe<Record<string, unknown> | null>({ type: ['object', 'null'], additionalProperties: true, description }));
const collection = <T extends Record<string, TSchema>>(items: T, description: string) => strict({ ...items, rampartSeal: Type.Optional(SealSchema) }, description);
const uuids = () => Type.Optional(Type.Array(Type.String({ format: 'uuid' })));
const names = () => Type.Optional(Type.Array(Type.String({ maxLength: 256 })));

/** CredentialsImportModel: a credentials record referenced by user name and tag, never by id. */
export const CredentialsReference = strict({
  credentialsName: Type.String({ minLength: 1, maxLength: 256 }),
  credentialsTag: optText(256),
});

const serverBase = (type: string) => ({
  name: Type.String({ minLength: 1, maxLength: 255 }),
  description: Type.String({ maxLength: 1024 }),
  type: Type.Literal(type),
});

export const ManagedServersImportSpecCollection = collection(
  {
    windowsHosts: Type.Optional(
      Type.Array(
        strict({
          ...serverBase('WindowsHost'),
          credentials: Type.Optional(CredentialsReference),
          networkSettings: looseObject('WindowsHostPortsModel.'),
          // Rampart extensions: the TLS port checked and the pinned certificate travel with the server.
          port: optPort(),
          certificateThumbprint: optText(256),
        }),
      ),
    ),
    linuxHosts: Type.Optional(
      Type.Array(
        strict({
          ...serverBase('LinuxHost'),
          credentials: CredentialsReference,
          sshSettings: looseObject('LinuxHostSSHSettingsModel.'),
          sshFingerprint: Type.String({ minLength: 1, maxLength: 256 }),
        }),
      ),
    ),
    viHosts: Type.Optional(
      Type.Array(
        strict({ ...serverBase('ViHost'), viHostType: stringEnum(VI_HOST_TYPES), credentials: CredentialsReference, port: optPort(), certificateThumbprint: optText(256) }),
      ),
    ),
  },
  'ManageServerImportSpecCollection',
);
export const ManagedServersExportSpec = strict({ ids: uuids(), types: Type.Optional(Type.Array(stringEnum(MANAGED_SERVER_TYPES))), names: names() });

export const ProxiesImportSpecCollection = collection(
  {
    proxies: Type.Array(
      strict({
        description: Type.String({ maxLength: 1024 }),
        type: stringEnum(PROXY_TYPES),
        server: strict({
          hostName: Type.String({ minLength: 1, maxLength: 255 }),
          hostTag: optText(256),
          hostUniqueId: optText(256),
          ...proxySettingsFields,
        }),
      }),
    ),
  },
  'ProxyImportSpecCollection',
);
export const ProxiesExportSpec = strict({ ids: uuids(), types: Type.Optional(Type.Array(stringEnum(PROXY_TYPES))), names: names() });
