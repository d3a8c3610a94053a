import { modelOrList, type ShapeByDocument } from '../shapes.js';

/**
 * ProxyModel, built with the stored (1.1) transport mode spelling, both spellings of
 * autoSelect and datastores on the `VMware` platform:
 * - 1.1-rev0 keeps `autoSelect`, and its datastores (VmwareObjectModel) have no platform;
 * - 1.2-rev1 names it `autoSelectEnabled`;
 * - 1.3-rev0 calls the datastores' platform `VSphere` (EInventoryPlatformType);
 * - 1.3-rev1 capitalizes the transport modes (`Auto`).
 */
const TRANSPORT_MODES_1_3_REV1 = { auto: 'Auto', directAccess: 'DirectAccess', virtualAppliance: 'VirtualAppliance', network: 'Network' };

const DATASTORE: ShapeByDocument = { '1.1-rev0': { omit: ['platform'] }, '1.2-rev1': {}, '1.3-rev0': { spell: { platform: { VMware: 'VSphere' } } } };
const CONNECTED_DATASTORES: ShapeByDocument = {
  '1.1-rev0': { omit: ['autoSelectEnabled'], fields: { datastores: { '1.1-rev0': { fields: { datastore: DATASTORE } } } } },
  '1.2-rev1': { omit: ['autoSelect'], fields: { datastores: { '1.1-rev0': { fields: { datastore: DATASTORE } } } } },
};
const SERVER: ShapeByDocument = {
  '1.1-rev0': { fields: { connectedDatastores: CONNECTED_DATASTORES } },
  '1.3-rev1': { spell: { transportMode: TRANSPORT_MODES_1_3_REV1 }, fields: { connectedDatastores: CONNECTED_DATASTORES } },
};

export const PROXY: ShapeByDocument = { '1.1-rev0': { fields: { server: SERVER } } };

export const PROXY_REPLY = modelOrList(PROXY);
