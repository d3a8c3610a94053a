import type { ShapeByDocument } from '../shapes.js';

const CAPITALISED: Record<string, string> = {
  monday: 'Monday',
  tuesday: 'Tuesday',
  wednesday: 'Wednesday',
  thursday: 'Thursday',
  friday: 'Friday',
  saturday: 'Saturday',
  sunday: 'Sunday',
};

/**
 * GlobalNetworkTrafficRulesModel: the same fields in every document; EDayOfWeek is
 * lower case up to 1.3-rev0 and capitalised from 1.3-rev1 on (the rule's window days).
 */
export const TRAFFIC_RULES: ShapeByDocument = {
  '1.1-rev0': {},
  '1.3-rev1': {
    fields: {
      trafficRules: { '1.3-rev1': { fields: { throttlingWindowOptions: { '1.3-rev1': { fields: { days: { '1.3-rev1': { spell: { day: CAPITALISED } } } } } } } } },
    },
  },
};
