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

const SessionResultModel = Type.Object({
  result: Type.String(),
  message: Type.Union([Type.String(), Type.Null()]),
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
  endTime: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  state: Type.String(),
  progressPercent: Type.Integer(),
  result: Type.Union([SessionResultModel, Type.Null()]),
  resourceId: Type.Union([Type.String(), Type.Null()]),
  resourceReference: Type.Union([Type.String(), Type.Null()]),
  parentSessionId: Type.Union([Type.String(), Type.Null()]),
  usn: Type.Integer(),
  platformName: Type.String(),
  platformId: Type.String(),
});

export const SessionsResult = Type.Object({ data: Type.Array(SessionModel), pagination: PaginationSchema });

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
