import { Type } from 'typebox';
import { PaginationSchema, StringOrList, listQuerySchema, stringEnum } from '../../http/paging.js';
import { optionalFlag, optionalText } from '../../http/nullable.js';

export const CREDENTIALS_TYPES = ['Standard', 'Linux'] as const;
export type CredentialsType = (typeof CREDENTIALS_TYPES)[number];

export const CREDENTIALS_ORDER_COLUMNS = { Username: 'username_key', Description: 'description_key' } as const;

export const CredentialsQuery = listQuerySchema(Object.keys(CREDENTIALS_ORDER_COLUMNS) as (keyof typeof CREDENTIALS_ORDER_COLUMNS)[], {
  typeFilter: Type.Optional(StringOrList),
  createdAfterFilter: Type.Optional(Type.String({ maxLength: 64 })),
  createdBeforeFilter: Type.Optional(Type.String({ maxLength: 64 })),
  includeDefaultApplianceCreds: Type.Optional(
    Type.Boolean({ description: '1.3: include the default credentials of Veeam appliances. Rampart deploys no appliances, so there are none to include.' }),
  ),
});

const TEXT = 1024;
const KEY_TEXT = 64 * 1024;

/**
 * CredentialsSpec of every revision in one flat object: both spellings of the
 * renamed fields (tag/uniqueId, autoElevated/elevateToRoot). The fields each type
 * needs are checked by the service, which can say which type needs what.
 */
const commonFields = {
  type: stringEnum(CREDENTIALS_TYPES, 'Credentials type.'),
  username: Type.String({ minLength: 1, maxLength: 256 }),
  description: optionalText({ maxLength: TEXT }),
  tag: optionalText({ maxLength: 256, description: 'Tag (1.1 name of uniqueId).' }),
  uniqueId: optionalText({ maxLength: 256, description: 'Unique ID (1.2 name of tag).' }),
  SSHPort: Type.Optional(Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 1, maximum: 65535 })),
  autoElevated: optionalFlag('1.1 name of elevateToRoot.'),
  elevateToRoot: optionalFlag('1.2 name of autoElevated.'),
  addToSudoers: optionalFlag(),
  useSu: optionalFlag(),
};

export const CredentialsSpec = Type.Object(
  {
    ...commonFields,
    password: optionalText({ maxLength: TEXT }),
    privateKey: optionalText({ maxLength: KEY_TEXT }),
    passphrase: optionalText({ maxLength: TEXT }),
    rootPassword: optionalText({ maxLength: TEXT }),
  },
  { additionalProperties: true },
);

/** PUT takes the model; secret fields in it are ignored (they change through the change* calls). */
export const CredentialsEdit = Type.Object(
  {
    ...commonFields,
    id: Type.Optional(Type.String({ format: 'uuid' })),
    creationTime: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true },
);

export const CredentialsModel = Type.Object({
  id: Type.String({ format: 'uuid' }),
  username: Type.String(),
  description: Type.String(),
  type: stringEnum(CREDENTIALS_TYPES),
  creationTime: Type.String({ format: 'date-time' }),
  tag: Type.Optional(Type.String({ description: '1.1-rev0 spelling of uniqueId.' })),
  uniqueId: Type.Optional(Type.String({ description: '1.2-rev1 and later.' })),
  SSHPort: Type.Optional(Type.Integer()),
  autoElevated: Type.Optional(Type.Boolean({ description: '1.1-rev0 spelling of elevateToRoot.' })),
  elevateToRoot: Type.Optional(Type.Boolean({ description: '1.2-rev1 and later.' })),
  addToSudoers: Type.Optional(Type.Boolean()),
  useSu: Type.Optional(Type.Boolean()),
  authenticationType: Type.Optional(Type.String({ enum: ['SshKey', 'Password'], description: '1.3-rev0 and later.' })),
});

export const CredentialsResult = Type.Object({ data: Type.Array(CredentialsModel), pagination: PaginationSchema });

export const PasswordChangeSpec = Type.Object({ password: Type.String({ minLength: 1, maxLength: TEXT }) }, { additionalProperties: true });

export const PrivateKeyChangeSpec = Type.Object(
  { privateKey: Type.String({ minLength: 1, maxLength: KEY_TEXT }), passphrase: optionalText({ maxLength: TEXT }) },
  { additionalProperties: true },
);
