import { Type } from 'typebox';
import { DEFAULT_LIMIT, MAX_LIMIT, PaginationSchema, stringEnum } from '../../http/paging.js';

/** EComputerRecoveryTokenFiltersOrderColumn → column. */
export const RECOVERY_TOKEN_ORDER_COLUMNS = { Name: 'name_key', ExpirationDate: 'expiration_date' } as const;

/** The documented list parameters plus ComputerRecoveryTokenFilters' date bounds. */
export const RecoveryTokensQuery = Type.Object({
  skip: Type.Optional(Type.Integer({ minimum: 0, description: 'Number of items to skip.' })),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_LIMIT, description: `Maximum number of items to return (default ${DEFAULT_LIMIT}).` })),
  orderColumn: Type.Optional(stringEnum(Object.keys(RECOVERY_TOKEN_ORDER_COLUMNS) as (keyof typeof RECOVERY_TOKEN_ORDER_COLUMNS)[], 'Sorts by this column.')),
  orderAsc: Type.Optional(Type.Boolean()),
  nameFilter: Type.Optional(Type.String({ maxLength: 512, description: 'Name pattern; * is the wildcard.' })),
  expirationDateBefore: Type.Optional(Type.String({ maxLength: 64, description: 'Tokens expiring at or before this date-time.' })),
  expirationDateAfter: Type.Optional(Type.String({ maxLength: 64, description: 'Tokens expiring at or after this date-time.' })),
});

/** ComputerRecoveryTokenSpec; `name` is Rampart's addition (the document has none, so Rampart names the token after its backups). */
export const RecoveryTokenSpec = Type.Object(
  {
    backupIds: Type.Array(Type.String({ format: 'uuid' }), { minItems: 1, maxItems: 1000, description: 'Backups whose restore points the token may read.' }),
    expirationDate: Type.String({ format: 'date-time', description: 'When the token stops working.' }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: true },
);

/** PUT body: ComputerRecoveryTokenModel. Only `name` and `expirationDate` change; the token itself never does. */
export const RecoveryTokenEdit = Type.Object(
  {
    id: Type.Optional(Type.String({ format: 'uuid' })),
    name: Type.String({ minLength: 1, maxLength: 256 }),
    expirationDate: Type.String({ format: 'date-time' }),
    recoveryToken: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: true },
);

export const RecoveryTokenModel = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  recoveryToken: Type.Optional(Type.String({ description: 'Only in the reply that creates the token: Rampart keeps a digest, not the token.' })),
  expirationDate: Type.String({ format: 'date-time' }),
});

export const RecoveryTokensResult = Type.Object({ data: Type.Array(RecoveryTokenModel), pagination: PaginationSchema });

/** Rampart's own: what a token holder sees of the restore points the token opens. */
export const TokenRestorePointModel = Type.Object({
  id: Type.String({ format: 'uuid' }),
  backupId: Type.String({ format: 'uuid' }),
  name: Type.String(),
  creationTime: Type.String({ format: 'date-time' }),
  type: Type.String(),
});

export const TokenRestorePointsResult = Type.Object({ data: Type.Array(TokenRestorePointModel), pagination: PaginationSchema });
