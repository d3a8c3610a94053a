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
  message: Type.Optional(Type.String()),
  isCanceled: Type.Optional(Type.Boolean()),
});

/**
 * SessionModel in every document's spelling (revisions/replies/sessions.ts): 1.1-rev0's
 * `activityId`, 1.2's `jobId` and platform fields; absent fields are left out.
 */
export const SessionModel = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  activityId: Type.Optional(Type.String({ format: 'uuid', description: '1.1-rev0 spelling of jobId.' })),
  jobId: Type.Optional(Type.String({ format: 'uuid', description: '1.2-rev1 and later.' })),
  sessionType: Type.String(),
  creationTime: Type.String({ format: 'date-time' }),
  endTime: Type.Optional(Type.String({ format: 'date-time' })),
  state: Type.String(),
  progressPercent: Type.Integer(),
  result: Type.Optional(SessionResultModel),
  resourceId: Type.Optional(Type.String()),
  resourceReference: Type.Optional(Type.String()),
  parentSessionId: Type.Optional(Type.String()),
  usn: Type.Integer(),
  platformName: Type.Optional(Type.String({ description: '1.2-rev1 and later.' })),
  platformId: Type.Optional(Type.String({ description: '1.2-rev1 and later.' })),
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
