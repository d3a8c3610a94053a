import type { ShapeByDocument } from '../shapes.js';

/** ServerInfoModel, built in the 1.3 shape: 1.2 adds the database fields, 1.3 the registration and platform. */
export const SERVER_INFO: ShapeByDocument = {
  '1.1-rev0': { omit: ['databaseVendor', 'sqlServerEdition', 'sqlServerVersion', 'databaseSchemaVersion', 'databaseContentVersion', 'veeamRegistration', 'platform'] },
  '1.2-rev1': { omit: ['veeamRegistration', 'platform'] },
  '1.3-rev0': {},
};
