import { Type } from 'typebox';
import { PaginationSchema, listQuerySchema } from '../../http/paging.js';
import { optionalText } from '../../http/nullable.js';

/** The documented order columns; Type, Host and Path are the same for every scale-out repository, so they fall back to the name. */
export const SOBR_ORDER_COLUMNS = { Name: 'name_key', Description: 'description_key', Type: 'name_key', Host: 'name_key', Path: 'name_key' } as const;
export const ScaleOutQuery = listQuerySchema(Object.keys(SOBR_ORDER_COLUMNS) as (keyof typeof SOBR_ORDER_COLUMNS)[]);
export const RemoveQuery = Type.Object({ deleteBackups: Type.Optional(Type.Boolean()) });

export const ScaleOutSpec = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256 }),
    description: optionalText({ maxLength: 1024 }),
    tag: optionalText({ maxLength: 256 }),
    uniqueId: optionalText({ maxLength: 256 }),
    performanceTier: Type.Object(
      { performanceExtents: Type.Array(Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: true }), { maxItems: 1000 }) },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: true },
);
export const ScaleOutEdit = Type.Object({ ...ScaleOutSpec.properties, id: Type.Optional(Type.String({ format: 'uuid' })) }, { additionalProperties: true });

export const ScaleOutModel = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    description: Type.String(),
    tag: Type.Optional(Type.String({ description: '1.1-rev0 spelling of uniqueId.' })),
    uniqueId: Type.Optional(Type.String({ description: '1.2-rev1 and later.' })),
    performanceTier: Type.Object({}, { additionalProperties: true }),
  },
  { additionalProperties: true },
);
export const ScaleOutResult = Type.Object({ data: Type.Array(ScaleOutModel), pagination: PaginationSchema });

export const ExtentMaintenanceSpec = Type.Object({ repositoryIds: Type.Array(Type.String({ format: 'uuid' }), { minItems: 1, maxItems: 1000 }) }, { additionalProperties: true });

const Figures = { capacityGB: Type.Number(), freeGB: Type.Number(), usedSpaceGB: Type.Number() };
export const ScaleOutStateModel = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    ...Figures,
    isOnline: Type.Boolean(),
    extents: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), tier: Type.String(), status: Type.String(), isOnline: Type.Boolean(), ...Figures })),
  },
  { description: 'Rampart extension: the performance tier capacity is the sum of its extents.' },
);
