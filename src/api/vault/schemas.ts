import { Type } from 'typebox';

export const VaultStatusModel = Type.Object({
  currentMasterKeyId: Type.String(),
  masterKeySource: Type.String({ description: '`file` (<dataDir>/master.key) or `environment` (RAMPART_MASTER_KEY).' }),
  masterKeyIds: Type.Array(Type.String(), { description: 'Every key this server holds: the current one, and previous ones not yet retired.' }),
  sealedValues: Type.Array(Type.Object({ masterKeyId: Type.String(), count: Type.Integer() })),
  rotationRunning: Type.Boolean(),
});
