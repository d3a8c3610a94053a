import type { Selectable } from 'kysely';
import type { SessionsTable, SessionLogsTable } from '../store/schema.js';
import type { LogStatus, SessionLogRecord, SessionRecord, SessionResult, SessionState } from './model.js';

export function toSessionRecord(row: Selectable<SessionsTable>): SessionRecord {
  return {
    id: row.id,
    name: row.name,
    activityId: row.activity_id,
    sessionType: row.session_type,
    state: row.state as SessionState,
    creationTime: row.creation_time,
    endTime: row.end_time,
    progressPercent: Number(row.progress_percent),
    result: row.result as SessionResult,
    resultMessage: row.result_message,
    isCanceled: Number(row.is_canceled) === 1,
    resourceId: row.resource_id,
    resourceReference: row.resource_reference,
    parentSessionId: row.parent_session_id,
    usn: Number(row.usn),
    createdBy: row.created_by,
  };
}

export function toLogRecord(row: Selectable<SessionLogsTable>): SessionLogRecord {
  return {
    id: Number(row.record_id),
    status: row.status as LogStatus,
    startTime: row.start_time,
    updateTime: row.update_time,
    title: row.title,
    description: row.description,
  };
}
