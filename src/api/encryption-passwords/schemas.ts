import { Type } from 'typebox';
import { PaginationSchema, listQuerySchema } from '../../http/paging.js';
import { optionalText } from '../../http/nullable.js';

export const ENCRYPTION_PASSWORD_ORDER_COLUMNS = { Hint: 'hint_key', ModificationTime: 'modification_time' } as const;

/** The documented list has no nameFilter; 1.3 adds hintFilter. */
export const EncryptionPasswordsQuery = listQuerySchema(
  Object.keys(ENCRYPTION_PASSWORD_ORDER_COLUMNS) as (keyof typeof ENCRYPTION_PASSWORD_ORDER_COLUMNS)[],
  { hintFilter: Type.Optional(Type.String({ maxLength: 1024, description: '1.3: hint pattern; * is the wildcard.' })) },
  false,
);

const PASSWORD = Type.String({ minLength: 1, maxLength: 1024, description: 'Write-only: kept as a salted verifier and a sealed value.' });
const HINT = Type.String({ minLength: 1, maxLength: 1024 });

export const EncryptionPasswordSpec = Type.Object(
  { password: PASSWORD, hint: HINT, tag: optionalText({ maxLength: 256 }), uniqueId: optionalText({ maxLength: 256 }) },
  { additionalProperties: true },
);

/** PUT: hint and tag only. */
export const EncryptionPasswordEdit = Type.Object(
  { id: Type.Optional(Type.String({ format: 'uuid' })), hint: HINT, tag: optionalText({ maxLength: 256 }), uniqueId: optionalText({ maxLength: 256 }) },
  { additionalProperties: true },
);

/** 1.2: POST /api/v1/encryptionPasswords/{id}/changepassword. */
export const EncryptionPasswordChangeSpec = Type.Object({ password: PASSWORD, hint: HINT }, { additionalProperties: true });

export const EncryptionPasswordModel = Type.Object({
  id: Type.String({ format: 'uuid' }),
  hint: Type.String(),
  modificationTime: Type.String({ format: 'date-time' }),
  tag: Type.Optional(Type.String({ description: '1.1-rev0 spelling of uniqueId.' })),
  uniqueId: Type.Optional(Type.String({ description: '1.2-rev1 and later.' })),
});

export const EncryptionPasswordsResult = Type.Object({ data: Type.Array(EncryptionPasswordModel), pagination: PaginationSchema });
