import { Type } from 'typebox';
import { CertificateModel as ServiceCertificateModel } from '../service/schemas.js';
import { stringEnum } from '../../http/paging.js';
import { optionalText } from '../../http/nullable.js';

export const MANAGED_SERVER_TYPES = ['WindowsHost', 'LinuxHost', 'ViHost'] as const;
export type ManagedServerType = (typeof MANAGED_SERVER_TYPES)[number];

export const CREDENTIALS_STORAGE_TYPES = ['Permanent', 'SingleUse'] as const;

const Port = Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 1, maximum: 65535, description: 'Port used to communicate with the server.' });

/** LinuxCredentialsSpec (1.2 single-use credentials), both spellings of renamed fields; checked by the service. */
export const LinuxCredentialsSpec = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 256 }),
    password: optionalText({ maxLength: 1024 }),
    description: optionalText({ maxLength: 1024 }),
    type: optionalText({ maxLength: 32 }),
    tag: optionalText({ maxLength: 256 }),
    uniqueId: optionalText({ maxLength: 256 }),
    SSHPort: Type.Optional(Port),
    autoElevated: Type.Optional(Type.Unsafe<boolean | null>({ type: ['boolean', 'null'] })),
    elevateToRoot: Type.Optional(Type.Unsafe<boolean | null>({ type: ['boolean', 'null'] })),
    addToSudoers: Type.Optional(Type.Unsafe<boolean | null>({ type: ['boolean', 'null'] })),
    useSu: Type.Optional(Type.Unsafe<boolean | null>({ type: ['boolean', 'null'] })),
    privateKey: optionalText({ maxLength: 64 * 1024 }),
    passphrase: optionalText({ maxLength: 1024 }),
    rootPassword: optionalText({ maxLength: 1024 }),
  },
  { additionalProperties: true },
);

/** HostConnectionSpec of 1.1 and 1.2 in one: credentialsId, or (1.2) single-use credentials. */
export const HostConnectionSpec = Type.Object(
  {
    serverName: Type.String({ minLength: 1, maxLength: 255, description: 'Full DNS name or IP address of the server.' }),
    credentialsId: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], format: 'uuid' })),
    credentialsStorageType: Type.Optional(stringEnum(CREDENTIALS_STORAGE_TYPES)),
    singleUseCredentials: Type.Optional(Type.Unsafe<Record<string, unknown> | null>({ ...LinuxCredentialsSpec, type: ['object', 'null'] })),
    type: stringEnum(MANAGED_SERVER_TYPES, 'Type of the server.'),
    port: Type.Optional(Port),
  },
  { additionalProperties: true },
);

/** The documented CertificateModel; `isTrusted` only for 1.3+ clients, whose parsers require it. */
const { isTrusted: _always, ...certificateFields } = ServiceCertificateModel.properties;
export const CertificateModel = Type.Object({
  ...certificateFields,
  isTrusted: Type.Optional(Type.Boolean({ description: '1.3 and later: the certificate chains to a CA this server trusts and names the host.' })),
});

export const ConnectionCertificateModel = Type.Object({
  fingerprint: Type.Unsafe<string | null>({ type: ['string', 'null'], description: 'SSH host key fingerprint (OpenSSH SHA256:…); null for TLS.' }),
  certificate: Type.Unsafe<Record<string, unknown> | null>({ ...CertificateModel, type: ['object', 'null'] }),
});

export const MAX_BATCH_TARGETS = 500;

export const BatchProbeSpec = Type.Object(
  {
    targets: Type.Array(
      Type.Object(
        {
          serverName: Type.String({ minLength: 1, maxLength: 255 }),
          type: stringEnum(MANAGED_SERVER_TYPES),
          port: Type.Optional(Port),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_BATCH_TARGETS },
    ),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, description: 'Probes at a time (default 64).' })),
    deadlineMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 60_000, description: 'The whole batch ends by then (default 15000).' })),
  },
  { additionalProperties: false },
);

export const BatchProbeResult = Type.Object({
  elapsedMs: Type.Number(),
  succeeded: Type.Integer(),
  failed: Type.Integer(),
  results: Type.Array(
    Type.Object({
      serverName: Type.String(),
      type: Type.String(),
      port: Type.Integer(),
      fingerprint: Type.Unsafe<string | null>({ type: ['string', 'null'] }),
      hostKeyAlgorithm: Type.Unsafe<string | null>({ type: ['string', 'null'] }),
      certificate: Type.Unsafe<Record<string, unknown> | null>({ ...CertificateModel, type: ['object', 'null'] }),
      elapsedMs: Type.Number(),
      error: Type.Unsafe<{ kind: string; message: string } | null>({
        type: ['object', 'null'],
        properties: { kind: { type: 'string' }, message: { type: 'string' } },
      }),
    }),
  ),
});
