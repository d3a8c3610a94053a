import { Type, type TSchema } from 'typebox';
import { stringEnum } from '../../http/paging.js';
import { CREDENTIALS_TYPES } from '../credentials/schemas.js';
import { CLOUD_CREDENTIALS_TYPES, DEPLOYMENT_TYPES } from '../cloud-credentials/schemas.js';
import { AZURE_REGIONS } from '../../azure/endpoints.js';

/**
 * Automation collections as 1.1-rev0 documents them, strict: an unknown key or a
 * bad enum is a 400 before anything is imported. Renamed fields are accepted in
 * both spellings (tag/uniqueId, autoElevated/elevateToRoot) and exported in both.
 * `uniqueItems` from the document is left out: it is quadratic on 10,000 items.
 */
const strict = <T extends Record<string, TSchema>>(properties: T, description?: string) =>
  Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });
const text = (max = 1024) => Type.String({ maxLength: max });
const optText = (max = 1024) => Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: max }));
const optFlag = () => Type.Optional(Type.Unsafe<boolean | null>({ type: ['boolean', 'null'] }));
const optInt = (min = 0, max = 2_147_483_647) => Type.Optional(Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: min, maximum: max }));
const SECRET = 64 * 1024;
const TAGS = { tag: optText(256), uniqueId: optText(256) };

/** Rampart's sealed-export extension (docs/automation.md): present only in sealed exports. */
export const SealSchema = strict(
  {
    format: Type.Literal('rampart-sealed-export-v1'),
    kdf: strict({
      algorithm: Type.Literal('argon2id'),
      memoryKiB: Type.Integer(),
      iterations: Type.Integer(),
      parallelism: Type.Integer(),
      salt: Type.String({ maxLength: 128 }),
    }),
    cipher: Type.Literal('aes-256-gcm'),
    check: Type.String({ maxLength: 256 }),
    secrets: Type.Record(Type.String({ maxLength: 512 }), Type.String({ maxLength: SECRET * 2 })),
  },
  'Secrets of a sealed export, encrypted under the passphrase given with the export.',
);

const collection = <T extends Record<string, TSchema>>(items: T, description: string) => strict({ ...items, rampartSeal: Type.Optional(SealSchema) }, description);

// ---- credentials
export const CredentialsImportSpec = strict({
  username: Type.String({ minLength: 1, maxLength: 256 }),
  password: optText(SECRET),
  description: optText(),
  ...TAGS,
  type: stringEnum(CREDENTIALS_TYPES),
  linuxAdditionalSettings: Type.Optional(
    Type.Union([
      strict({
        SSHPort: optInt(1, 65535),
        autoElevated: optFlag(),
        elevateToRoot: optFlag(),
        addToSudoers: optFlag(),
        useSu: optFlag(),
        privateKey: optText(SECRET),
        passphrase: optText(SECRET),
        rootPassword: optText(SECRET),
      }),
      Type.Null(),
    ]),
  ),
});
export const CredentialsImportSpecCollection = collection({ credentials: Type.Array(CredentialsImportSpec) }, 'CredentialsImportSpecCollection');
export const CredentialsExportSpec = strict({
  showHiddenCreds: optFlag(),
  ids: Type.Optional(Type.Array(Type.String({ format: 'uuid' }))),
  types: Type.Optional(Type.Array(stringEnum(CREDENTIALS_TYPES))),
  names: Type.Optional(Type.Array(text(256))),
});

// ---- cloud credentials
const cloudBase = (type: string) => ({ type: Type.Literal(type), description: optText(), ...TAGS });
const AccessKeySpec = (type: string) => strict({ ...cloudBase(type), accessKey: Type.String({ minLength: 1, maxLength: 512 }), secretKey: optText(SECRET) });
export const CloudCredentialsImportSpecCollection = collection(
  {
    azureStorage: Type.Optional(Type.Array(strict({ ...cloudBase('AzureStorage'), account: Type.String({ minLength: 1, maxLength: 512 }), sharedKey: optText(SECRET) }))),
    azureCompute: Type.Optional(
      Type.Array(
        strict({
          ...cloudBase('AzureCompute'),
          connectionName: Type.String({ minLength: 1, maxLength: 512 }),
          existingAccount: strict({
            deployment: strict({
              deploymentType: stringEnum(DEPLOYMENT_TYPES),
              region: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], enum: [...AZURE_REGIONS, null] })),
            }),
            subscription: strict({
              tenantId: Type.String({ minLength: 1, maxLength: 256 }),
              applicationId: Type.String({ minLength: 1, maxLength: 256 }),
              secret: optText(SECRET),
              certificate: Type.Optional(
                Type.Union([strict({ certificate: text(1024 * 1024), formatType: stringEnum(['pfx'] as const), password: optText(SECRET) }), Type.Null()]),
              ),
            }),
          }),
        }),
      ),
    ),
    amazon: Type.Optional(Type.Array(AccessKeySpec('Amazon'))),
    google: Type.Optional(Type.Array(AccessKeySpec('Google'))),
  },
  'CloudCredentialsImportSpecCollection',
);
export const CloudCredentialsExportSpec = strict({
  ids: Type.Optional(Type.Array(Type.String({ format: 'uuid' }))),
  types: Type.Optional(Type.Array(stringEnum(CLOUD_CREDENTIALS_TYPES))),
  names: Type.Optional(Type.Array(text(512))),
});

// ---- encryption passwords
export const EncryptionPasswordImportSpecCollection = collection(
  {
    encryptionPasswords: Type.Optional(
      Type.Array(strict({ password: Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: 1024 }), hint: Type.String({ minLength: 1, maxLength: 1024 }), ...TAGS })),
    ),
  },
  'EncryptionPasswordImportSpecCollection',
);
export const EncryptionPasswordExportSpec = strict({
  modificationTimeFrom: Type.Optional(Type.String({ format: 'date-time' })),
  ids: Type.Optional(Type.Array(Type.String({ format: 'uuid' }))),
  hints: Type.Optional(Type.Array(text())),
  tags: Type.Optional(Type.Array(text(256))),
});

// ---- import options (Rampart's, undocumented by Veeam)
export const CONFLICT_MODES = ['skip', 'overwrite', 'fail'] as const;
export type ConflictMode = (typeof CONFLICT_MODES)[number];

export const ImportQuery = Type.Object({
  onConflict: Type.Optional(stringEnum(CONFLICT_MODES, 'What to do with an object whose name/tag already exists (default skip).')),
  dryRun: Type.Optional(Type.Boolean({ description: 'Log what would be created, overwritten or skipped; change nothing.' })),
});
export const ExportQuery = Type.Object({
  seal: Type.Optional(Type.Boolean({ description: 'Keep the secrets, encrypted under the passphrase in the x-rampart-seal-passphrase header.' })),
});

export const SEAL_PASSPHRASE_HEADER = 'x-rampart-seal-passphrase';
