import type { ShapeByDocument } from '../shapes.js';

/**
 * SessionModel, built in the 1.2 spelling: 1.1-rev0 calls `jobId` `activityId`, knows
 * the job session type as `Job`, has no platform fields, and no session types for
 * background work (certificate changes) or rescans, which it reports as Infrastructure,
 * and no backup deletion (1.2 added it), which it reports as InfrastructureItemDeletion.
 * The on-demand health check (FileBackupHealthCheck, 1.3) is Infrastructure to 1.1 and 1.2.
 */
export const SESSION: ShapeByDocument = {
  '1.1-rev0': {
    rename: { jobId: 'activityId' },
    spell: {
      sessionType: {
        BackupJob: 'Job',
        BackgroundOperation: 'Infrastructure',
        ConfigurationResynchronize: 'Infrastructure',
        DeleteBackup: 'InfrastructureItemDeletion',
        FileBackupHealthCheck: 'Infrastructure',
      },
    },
    omit: ['platformName', 'platformId'],
  },
  '1.2-rev1': { spell: { sessionType: { FileBackupHealthCheck: 'Infrastructure' } } },
  '1.3-rev0': {},
};
