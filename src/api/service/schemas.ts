import { Type } from 'typebox';

export const ServerTimeModel = Type.Object({
  serverTime: Type.String({ format: 'date-time' }),
  timeZone: Type.String(),
});

/** CertificateModel: every field required, keySize is a string (API-NOTES §3.1). */
export const CertificateModel = Type.Object({
  thumbprint: Type.String({ description: 'SHA-1 of the DER certificate, uppercase hex.' }),
  serialNumber: Type.String(),
  keyAlgorithm: Type.String(),
  keySize: Type.String(),
  subject: Type.String(),
  issuedTo: Type.String(),
  issuedBy: Type.String(),
  validFrom: Type.String({ format: 'date-time' }),
  validBy: Type.String({ format: 'date-time' }),
  isTrusted: Type.Optional(Type.Boolean({ description: '1.3-rev0 and later (required there). A self-signed certificate is not trusted by any public authority.' })),
});

export const ServerInfoModel = Type.Object({
  vbrId: Type.String(),
  name: Type.String(),
  buildVersion: Type.String(),
  patches: Type.Array(Type.String()),
  databaseVendor: Type.Optional(Type.String({ description: '1.2-rev1 and later.' })),
  sqlServerEdition: Type.Optional(Type.String({ description: '1.2-rev1 and later.' })),
  sqlServerVersion: Type.Optional(Type.String({ description: '1.2-rev1 and later.' })),
  databaseSchemaVersion: Type.Optional(Type.String({ description: '1.2-rev1 and later.' })),
  databaseContentVersion: Type.Optional(Type.String({ description: '1.2-rev1 and later.' })),
  veeamRegistration: Type.Optional(Type.Object({ isRegistered: Type.Boolean() }, { description: '1.3-rev0 and later.' })),
  platform: Type.Optional(Type.String({ enum: ['Linux', 'Windows'], description: '1.3-rev0 and later.' })),
  productName: Type.Optional(Type.String({ description: 'Rampart extension (sent with x-rampart-extras: true).' })),
  productVersion: Type.Optional(Type.String({ description: 'Rampart extension (sent with x-rampart-extras: true).' })),
  certificateExpiresSoon: Type.Optional(
    Type.Boolean({ description: 'Rampart extension (sent with x-rampart-extras: true): the serving certificate is within the warning window of its validBy date.' }),
  ),
  certificateValidBy: Type.Optional(Type.String({ format: 'date-time', description: 'Rampart extension (sent with x-rampart-extras: true).' })),
});
