import { Type } from 'typebox';
import { PaginationSchema, StringOrList, listQuerySchema, stringEnum } from '../../http/paging.js';
import { optionalText } from '../../http/nullable.js';
import { AZURE_REGIONS } from '../../azure/endpoints.js';

export const CLOUD_CREDENTIALS_TYPES = ['AzureStorage', 'AzureCompute', 'Amazon', 'Google'] as const;
export type CloudCredentialsType = (typeof CLOUD_CREDENTIALS_TYPES)[number];
export const CREATION_MODES = ['NewAccount', 'ExistingAccount'] as const;
export const DEPLOYMENT_TYPES = ['MicrosoftAzure', 'MicrosoftAzureStack'] as const;

export const CLOUD_CREDENTIALS_ORDER_COLUMNS = { Name: 'name_key', Description: 'description_key' } as const;

export const CloudCredentialsQuery = listQuerySchema(Object.keys(CLOUD_CREDENTIALS_ORDER_COLUMNS) as (keyof typeof CLOUD_CREDENTIALS_ORDER_COLUMNS)[], {
  typeFilter: Type.Optional(StringOrList),
});

const TEXT = 1024;
const SECRET = 8 * 1024;
/** A PFX in base64: generous, well under the body limit. */
const CERTIFICATE = 1024 * 1024;

export const CertificateUploadSpec = Type.Object(
  {
    certificate: Type.String({ minLength: 1, maxLength: CERTIFICATE, description: 'Base64 of a PFX (PKCS#12) file.' }),
    formatType: stringEnum(['pfx'] as const),
    password: optionalText({ maxLength: TEXT }),
  },
  { additionalProperties: true },
);

const Deployment = Type.Object(
  { deploymentType: stringEnum(DEPLOYMENT_TYPES), region: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], enum: [...AZURE_REGIONS, null] })) },
  { additionalProperties: true },
);

const SubscriptionSpec = Type.Object(
  {
    tenantId: Type.String({ minLength: 1, maxLength: 256 }),
    applicationId: Type.String({ minLength: 1, maxLength: 256 }),
    secret: optionalText({ maxLength: SECRET }),
    certificate: Type.Optional(Type.Union([CertificateUploadSpec, Type.Null()])),
  },
  { additionalProperties: true },
);

/** Every type's CloudCredentialsSpec in one flat object; the service checks what each type needs. */
export const CloudCredentialsSpec = Type.Object(
  {
    type: stringEnum(CLOUD_CREDENTIALS_TYPES, 'Cloud credentials type.'),
    description: optionalText({ maxLength: TEXT }),
    tag: optionalText({ maxLength: 256 }),
    uniqueId: optionalText({ maxLength: 256 }),
    accessKey: optionalText({ maxLength: 512 }),
    secretKey: optionalText({ maxLength: SECRET }),
    account: optionalText({ maxLength: 512 }),
    sharedKey: optionalText({ maxLength: SECRET }),
    connectionName: optionalText({ maxLength: 512 }),
    creationMode: Type.Optional(stringEnum(CREATION_MODES)),
    existingAccount: Type.Optional(Type.Union([Type.Object({ deployment: Deployment, subscription: SubscriptionSpec }, { additionalProperties: true }), Type.Null()])),
    newAccount: Type.Optional(
      Type.Union([
        Type.Object({ region: stringEnum(AZURE_REGIONS), verificationCode: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: true }),
        Type.Null(),
      ]),
    ),
  },
  { additionalProperties: true },
);

/** PUT takes the model: non-secret fields only; a secret sent here is ignored. */
export const CloudCredentialsEdit = Type.Object(
  {
    type: stringEnum(CLOUD_CREDENTIALS_TYPES),
    id: Type.Optional(Type.String({ format: 'uuid' })),
    description: optionalText({ maxLength: TEXT }),
    tag: optionalText({ maxLength: 256 }),
    uniqueId: optionalText({ maxLength: 256 }),
    accessKey: optionalText({ maxLength: 512 }),
    account: optionalText({ maxLength: 512 }),
    connectionName: optionalText({ maxLength: 512 }),
    deployment: Type.Optional(Deployment),
    subscription: Type.Optional(
      Type.Object({ tenantId: Type.String({ minLength: 1, maxLength: 256 }), applicationId: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: true }),
    ),
  },
  { additionalProperties: true },
);

export const CloudCredentialsModel = Type.Object({
  id: Type.String({ format: 'uuid' }),
  type: stringEnum(CLOUD_CREDENTIALS_TYPES),
  description: Type.String(),
  tag: Type.Optional(Type.String({ description: '1.1-rev0 spelling of uniqueId.' })),
  uniqueId: Type.Optional(Type.String({ description: '1.2-rev1 and later.' })),
  accessKey: Type.Optional(Type.String()),
  account: Type.Optional(Type.String()),
  connectionName: Type.Optional(Type.String()),
  deployment: Type.Optional(Type.Object({ deploymentType: Type.String(), region: Type.Optional(Type.String()) })),
  subscription: Type.Optional(
    Type.Object({
      tenantId: Type.String(),
      applicationId: Type.String(),
      subscriptions: Type.Array(Type.Object({ id: Type.String(), azureSubscriptionId: Type.String(), azureSubscriptionName: Type.Optional(Type.String()) })),
    }),
  ),
});

export const CloudCredentialsResult = Type.Object({ data: Type.Array(CloudCredentialsModel), pagination: PaginationSchema });

export const SecretKeyChangeSpec = Type.Object({ newSecretKey: Type.String({ minLength: 1, maxLength: SECRET }) }, { additionalProperties: true });

export const DeviceCodeSpec = Type.Object({ type: stringEnum(['AzureCompute'] as const), region: stringEnum(AZURE_REGIONS) }, { additionalProperties: true });

export const DeviceCodeModel = Type.Object({
  type: Type.String(),
  url: Type.String(),
  verificationCode: Type.String(),
  expirationTime: Type.String({ format: 'date-time' }),
});

export const VerificationCodeParams = Type.Object({ verificationCode: Type.String({ minLength: 1, maxLength: 256 }) });

/** The one reply that carries a secret, as Veeam documents: the new application's client secret, shown once. */
export const NativeApplicationModel = Type.Object({
  type: Type.String(),
  applicationId: Type.String(),
  secret: Type.String(),
  tenantId: Type.String(),
});
