import { modelOrList, type ReplyShape, type ShapeByDocument } from '../shapes.js';

/**
 * CloudCredentialsModel, built in the 1.2 spelling; 1.1-rev0 calls uniqueId `tag`;
 * 1.3-rev2 types uniqueId as a uuid, so a free-text or empty one is left out there.
 */
export const CLOUD_CREDENTIALS: ShapeByDocument = {
  '1.1-rev0': { rename: { uniqueId: 'tag' } },
  '1.2-rev1': {},
  '1.3-rev2': { uuidOnly: ['uniqueId'] },
};

/** POST …/{id}/changeSecretKey: 201 until 1.2-rev1, 200 from 1.3-rev0. */
export const CHANGE_SECRET_KEY: ReplyShape = { body: modelOrList(CLOUD_CREDENTIALS), status: { '1.1-rev0': 201, '1.3-rev0': 200 } };

/** POST …/{id}/changeCertificate: 201 in 1.1-rev0, 204 (no body) in 1.2-rev1 and 1.3-rev0, 200 from 1.3-rev1. */
export const CHANGE_CERTIFICATE: ReplyShape = { body: modelOrList(CLOUD_CREDENTIALS), status: { '1.1-rev0': 201, '1.2-rev1': 204, '1.3-rev1': 200 } };
