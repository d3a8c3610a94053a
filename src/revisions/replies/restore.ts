import type { ShapeByDocument } from '../shapes.js';

/**
 * InstantViVMRecoveryMount, built in the 1.3 spelling: 1.1-rev0 and 1.2-rev1 have
 * neither `jobName`, `restorePointDate` nor `hostName` (1.3-rev0 made them required).
 */
export const INSTANT_VM_RECOVERY_MOUNT: ShapeByDocument = {
  '1.1-rev0': {
    omit: ['jobName', 'restorePointDate', 'hostName'],
    fields: {
      // The spec is kept in the 1.2+ spelling and echoed in the reader's: 1.1 says objectRestorePointId and redirectIsEnabled.
      spec: {
        '1.1-rev0': { rename: { restorePointId: 'objectRestorePointId' }, fields: { datastore: { '1.1-rev0': { rename: { redirectEnabled: 'redirectIsEnabled' } } } } },
        '1.2-rev1': {},
      },
    },
  },
  '1.2-rev1': { omit: ['jobName', 'restorePointDate', 'hostName'] },
  '1.3-rev0': {},
};

/** VmwareFcdInstantRecoveryMount: the spec's point is `objectRestorePointId` in 1.1-rev0; `reason` is in the spec from 1.3-rev1 only. */
export const FCD_INSTANT_RECOVERY_MOUNT: ShapeByDocument = {
  '1.1-rev0': {
    fields: {
      spec: {
        '1.1-rev0': {
          rename: { restorePointId: 'objectRestorePointId' },
          omit: ['reason'],
          // VmwareObjectModel has no `platform` (1.2's InventoryObjectModel requires it).
          fields: {
            destinationCluster: { '1.1-rev0': { omit: ['platform'] } },
            writeCache: { '1.1-rev0': { fields: { cacheDatastore: { '1.1-rev0': { omit: ['platform'] } }, storagePolicy: { '1.1-rev0': { omit: ['platform'] } } } } },
          },
        },
        '1.2-rev1': { omit: ['reason'] },
        '1.3-rev1': {},
      },
    },
  },
  '1.2-rev1': { fields: { spec: { '1.2-rev1': { omit: ['reason'] }, '1.3-rev1': {} } } },
};
