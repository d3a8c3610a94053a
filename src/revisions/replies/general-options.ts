import type { ShapeByDocument } from '../shapes.js';

/** GeneralOptionsModel: 1.1 has the email switch inside emailSettings and no SIEM part; 1.3 moves the switch to the top. */
export const GENERAL_OPTIONS: ShapeByDocument = {
  '1.1-rev0': { omit: ['notificationEnabled', 'siemIntegration'] },
  '1.2-rev1': { omit: ['notificationEnabled'] },
  '1.3-rev0': { fields: { emailSettings: { '1.3-rev0': { omit: ['isEnabled'] } } } },
};
