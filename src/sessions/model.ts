/** Session vocabulary, as the Backup & Replication API names it. */
export const SESSION_STATES = [
  'Stopped',
  'Starting',
  'Stopping',
  'Working',
  'Pausing',
  'Resuming',
  'WaitingTape',
  'Idle',
  'Postprocessing',
  'WaitingRepository',
  'WaitingSlot',
] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export const SESSION_RESULTS = ['None', 'Success', 'Warning', 'Failed'] as const;
export type SessionResult = (typeof SESSION_RESULTS)[number];

/** 1.1-rev0 types plus the 1.2 additions, so filters from either revision are accepted. */
export const SESSION_TYPES = [
  'Infrastructure',
  'Job',
  'Automation',
  'ConfigurationBackup',
  'RepositoryMaintenance',
  'RepositoryEvacuate',
  'InfrastructureItemDeletion',
  'RestoreVm',
  'InstantRecovery',
  'FirstClassDiskInstantRestore',
  'AzureApplianceDeploy',
  'QuickMigration',
  'BackupJob',
  'ConfigurationResynchronize',
  'BackgroundOperation',
  /** 1.2: DELETE /api/v1/backups/{id}. */
  'DeleteBackup',
  /** 1.3-rev1: POST /api/v1/backups/runHealthcheck. */
  'FileBackupHealthCheck',
] as const;
export type SessionType = (typeof SESSION_TYPES)[number];

export const LOG_STATUSES = ['None', 'Succeeded', 'Warning', 'Failed'] as const;
export type LogStatus = (typeof LOG_STATUSES)[number];

export interface SessionRecord {
  id: string;
  name: string;
  activityId: string;
  sessionType: string;
  state: SessionState;
  creationTime: string;
  endTime: string | null;
  progressPercent: number;
  result: SessionResult;
  resultMessage: string | null;
  isCanceled: boolean;
  resourceId: string | null;
  resourceReference: string | null;
  parentSessionId: string | null;
  usn: number;
  createdBy: string | null;
}

export interface SessionLogRecord {
  id: number;
  status: LogStatus;
  startTime: string;
  updateTime: string;
  title: string;
  description: string;
}
