import { withExtrasEverywhere, type ShapeByDocument } from '../shapes.js';

/** Rampart's own serverInfo fields (the console shows them): only for clients that ask (see `extras`). */
const SERVER_INFO_EXTRAS = ['productName', 'productVersion', 'certificateExpiresSoon', 'certificateValidBy'];

/** ServerInfoModel, built in the 1.3 shape: 1.2 adds the database fields, 1.3 the registration and platform. */
export const SERVER_INFO: ShapeByDocument = withExtrasEverywhere(SERVER_INFO_EXTRAS, {
  '1.1-rev0': { omit: ['databaseVendor', 'sqlServerEdition', 'sqlServerVersion', 'databaseSchemaVersion', 'databaseContentVersion', 'veeamRegistration', 'platform'] },
  '1.2-rev1': { omit: ['veeamRegistration', 'platform'] },
  '1.3-rev0': {},
});

/** CertificateModel, built in the 1.3 shape: `isTrusted` is new in 1.3-rev0. */
export const CERTIFICATE: ShapeByDocument = { '1.1-rev0': { omit: ['isTrusted'] }, '1.3-rev0': {} };
