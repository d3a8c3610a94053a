import { modelOrList, type ShapeByDocument } from '../shapes.js';

/** RepositoryStateModel, built in the 1.3 shape: 1.2 added `isOnline`, 1.3 requires `isOutOfDate`. */
export const REPOSITORY_STATE: ShapeByDocument = {
  '1.1-rev0': { omit: ['isOnline', 'isOutOfDate'] },
  '1.2-rev1': { omit: ['isOutOfDate'] },
  '1.3-rev0': {},
};

/** ScaleOutRepositoryModel: 1.3 sends each performance extent's `status` as an array of statuses. */
export const SCALE_OUT_REPOSITORY: ShapeByDocument = {
  '1.1-rev0': {},
  '1.3-rev0': { fields: { performanceTier: { '1.3-rev0': { fields: { performanceExtents: { '1.3-rev0': { asArray: ['status'] } } } } } } },
};

export const REPOSITORY_STATES_REPLY = modelOrList(REPOSITORY_STATE);
export const SCALE_OUT_REPOSITORY_REPLY = modelOrList(SCALE_OUT_REPOSITORY);

/**
 * RepositoryModel: 1.3 keeps mount server settings per operating system. Rampart keeps one
 * mount server per repository and files it under `windows`, the only kind earlier
 * revisions had (a choice documented in the README).
 */
export const REPOSITORY: ShapeByDocument = {
  '1.1-rev0': {},
  '1.3-rev0': { nest: { mountServer: { discriminator: 'mountServerSettingsType', value: 'windows', key: 'windows' } } },
  '1.3-rev1': { nest: { mountServer: { discriminator: 'mountServerSettingsType', value: 'Windows', key: 'windows' } } },
};

export const REPOSITORY_REPLY = modelOrList(REPOSITORY);
