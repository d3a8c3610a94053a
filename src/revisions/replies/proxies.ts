import { modelOrList, type ShapeByDocument } from '../shapes.js';

const DATASTORE_1_1: ShapeByDocument = { '1.1-rev0': { omit: ['platform'] }, '1.2-rev1': {} };

/**
 * ProxyModel, built with the stored (1.1) transport mode spelling and both spellings of
 * autoSelect: 1.1-rev0 keeps `autoSelect` and datastores without `platform`; 1.2 names it
 * `autoSelectEnabled`; 1.3-rev1 capitalizes the transport modes.
 */
const connectedDatastores = (omit: string): ShapeByDocument => ({
  '1.1-rev0': { omit: [omit], fields: { datastores: { '1.1-rev0': { fields: { datastore: DATASTORE_1_1 } } } } },
  '1.2-rev1': { omit: [omit] },
});
const TRANSPORT_MODE_1_3_REV1 = { auto: 'Auto', directAccess: 'DirectAccess', virtualAppliance: 'VirtualAppliance', network: 'Network' };

export const PROXY: ShapeByDocument = {
  '1.1-rev0': { fields: { server: { '1.1-rev0': { fields: { connectedDatastores: connectedDatastores('autoSelectEnabled') } } } } },
  '1.2-rev1': { fields: { server: { '1.2-rev1': { fields: { connectedDatastores: connectedDatastores('autoSelect') } } } } },
  '1.3-rev1': {
    fields: { server: { '1.3-rev1': { spell: { transportMode: TRANSPORT_MODE_1_3_REV1 }, fields: { connectedDatastores: connectedDatastores('autoSelect') } } } },
  },
};

export const PROXY_REPLY = modelOrList(PROXY);
