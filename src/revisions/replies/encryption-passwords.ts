import { modelOrList, type ShapeByDocument } from '../shapes.js';

/** EncryptionPasswordModel, built with both spellings: `tag` in 1.1-rev0, `uniqueId` from 1.2-rev1. */
export const ENCRYPTION_PASSWORD: ShapeByDocument = {
  '1.1-rev0': { omit: ['uniqueId'] },
  '1.2-rev1': { omit: ['tag'] },
};

export const ENCRYPTION_PASSWORD_REPLY = modelOrList(ENCRYPTION_PASSWORD);
