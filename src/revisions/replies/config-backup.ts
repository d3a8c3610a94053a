import type { ShapeByDocument } from '../shapes.js';
import { DAYS, DAYS_LOWER } from './jobs.js';

/**
 * ConfigBackupModel: the same fields in every document, but its schedule's EDayOfWeek is
 * lower case up to 1.3-rev0 and capitalised from 1.3-rev1 (daily `days`, monthly `dayOfWeek`).
 */
export const CONFIG_BACKUP: ShapeByDocument = {
  '1.1-rev0': { spellAtAnyDepth: { days: DAYS_LOWER, dayOfWeek: DAYS_LOWER } },
  '1.3-rev1': { spellAtAnyDepth: { days: DAYS, dayOfWeek: DAYS } },
};
