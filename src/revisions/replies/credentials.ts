import type { ShapeByDocument } from '../shapes.js';

/** CredentialsModel, built in the 1.3 spelling; 1.3 added `authenticationType`, 1.2 renamed tag and autoElevated. */
export const CREDENTIALS: ShapeByDocument = {
  '1.1-rev0': { omit: ['authenticationType'], rename: { uniqueId: 'tag', elevateToRoot: 'autoElevated' } },
  '1.2-rev1': { omit: ['authenticationType'] },
  '1.3-rev0': {},
};
