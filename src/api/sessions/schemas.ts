import { Type } from 'typebox';
import { PaginationSchema, StringOrList, listQuerySchema } from '../../http/paging.js';

export const SESSION_ORDER_COLUMNS = {
  Name: 'name',
  SessionType: 'session_type',
  CreationTime: 'creation_time',
  EndTime: 'end_time',
  State: 'state',
  Result: 'result',
} as const;

export const SessionsQuery = listQuerySchema(Object.keys(SESSION_ORDER_COLUMNS) as (keyof typeof SESSION_ORDER_COLUMNS)[], {
  createdAfterFilter: Type.Optional(Type.String({ maxLength: 64 })),
  createdBeforeFilter: Type.Optional(Type.String({ maxLength: 64 })),
  endedAfterFilter: Type.Optional(Type.String({ maxLength: 64 })),
  endedBeforeFilter: Type.Optional(Type.String({ maxLength: 64 })),
  typeFilter: Type.Optional(StringOrList),
  stateFilter: Type.Optional(StringOrList),
  resultFilter: Type.Optional(StringOrList),
  jobIdFilter: Type.Optional(Type.String({ format: 'uuid' })),
});

/**
 * Nullable as `type: [T, 'null']`, not anyOf: the response serializer would otherwise
 * run a validator on every value to choose a branch (measured: most of a list's cost).
 */
const nullableString = (options: Record<string, unknown> = {}) => Type.Unsafe<string | null>({ type: ['string', 'null'], ...options });

const SessionResultModel = Type.Object({
  result: Type.String(),
  message: nullableString(),
  isCanceled: Type.Boolean(),
});

/** SessionModel with both spellings of the activity id (1.1 `activityId`, 1.2 `jobId`). */
export const SessionModel = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  activityId: Type.String({ format: 'uuid' }),
  jobId: Type.String({ format: 'uuid' }),
  sessionType: Type.String(),
  creationTime: Type.String({ format: 'date-time' }),
  endTime: nullableString({ format: 'date-time' }),
  state: Type.String(),
  progressPercent: Type.Integer(),
  result: Type.Unsafe<{ result: string; message: string | null; isCanceled: boolean } | null>({ ...SessionResultModel, type: ['object', 'null'] }),
  resourceId: nullableString(),
  resourceReference: nullableString(),
  parentSessionId: nullableString(),
  usn: Type.Integer(),
  platformName: Type.Optional(Type.String({ description: '1.2-rev0 and later.' })),
  platformId: Type.Optional(Type.String({ description: '1.2-rev0 and later.' })),
});

export const SessionsResult = Type.Object({ data: Type.Array(SessionModel), pagination: PaginationSchema });

/** 1.3: `statusFilter` takes ETaskLogRecordStatus values (sessions/model.ts LOG_STATUSES). */
export const SessionLogsQuery = Type.Object({ statusFilter: Type.Optional(StringOrList) });

export const SessionLogResult = Type.Object({
  totalRecords: Type.Integer(),
  records: Type.Array(
    Type.Object({
      id: Type.Integer(),
      status: Type.String(),
      startTime: Type.String({ format: 'date-time' }),
      updateTime: Type.String({ format: 'date-time' }),
      title: Type.String(),
      description: Type.String(),
    }),
  ),
});
