import { Type } from 'typebox';
import { keyAlgorithmNames } from '../../pki/key-algorithms.js';
import { stringEnum } from '../../http/paging.js';
import { CertificateModel } from '../service/schemas.js';

/** Backup for AWS `Certificate`: Backup & Replication's CertificateModel (without 1.3's isTrusted) plus automaticallyGenerated. */
const { isTrusted: _notInThisApi, ...certificateFields } = CertificateModel.properties;
const AWS_DATE = '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d$';
export const Certificate = Type.Object({
  ...certificateFields,
  // Veeam's Backup for AWS SDK parses these as YYYY-MM-DDTHH:MM:SS only (UTC here).
  validFrom: Type.String({ pattern: AWS_DATE, description: 'YYYY-MM-DDTHH:MM:SS, UTC.' }),
  validBy: Type.String({ pattern: AWS_DATE, description: 'YYYY-MM-DDTHH:MM:SS, UTC.' }),
  automaticallyGenerated: Type.Boolean(),
});

export const Certificates = Type.Object({ data: Type.Array(Certificate) });

/**
 * `CertificateRegenerateSpec` plus Rampart's extensions. The schema checks shapes;
 * the service checks values (dates, names) with a message for each.
 */
export const CertificateRegenerateSpec = Type.Object(
  {
    validBy: Type.Optional(Type.String({ maxLength: 64, description: 'Expiry: YYYY-MM-DDT00:00:00 (UTC) or RFC 3339 with a zone.' })),
    keyAlgorithm: Type.Optional(stringEnum(keyAlgorithmNames, 'Rampart extension; default ECDSA-P256.')),
    commonName: Type.Optional(Type.String({ maxLength: 64, description: 'Rampart extension; default: the host name.' })),
    subjectAlternativeNames: Type.Optional(
      Type.Array(Type.String({ maxLength: 260 }), {
        maxItems: 100,
        description: 'Rampart extension: DNS names and IP addresses; default: localhost, the host name, 127.0.0.1, ::1.',
      }),
    ),
  },
  { additionalProperties: false },
);

const ReplacedCertificate = Type.Object({
  thumbprint: Type.String(),
  sha256Fingerprint: Type.String(),
  subject: Type.String(),
  validBy: Type.String({ format: 'date-time' }),
  replacedAt: Type.String({ format: 'date-time' }),
});

/** Rampart extension: every fingerprint people compare by hand, the names, and expiry state. */
export const CertificateDetails = Type.Object({
  thumbprint: Type.String({ description: 'SHA-1, uppercase hex, as Windows shows it.' }),
  sha1Fingerprint: Type.String({ description: 'SHA-1, colon hex.' }),
  sha256Fingerprint: Type.String({ description: 'SHA-256, colon hex, as openssl x509 -fingerprint -sha256 prints it.' }),
  sha256Hex: Type.String({ description: 'SHA-256, plain lowercase hex.' }),
  sha256Base64: Type.String({ description: 'SHA-256, unpadded base64.' }),
  serialNumber: Type.String(),
  subject: Type.String(),
  issuer: Type.String(),
  subjectAlternativeNames: Type.Object({ dnsNames: Type.Array(Type.String()), ipAddresses: Type.Array(Type.String()) }),
  keyType: Type.String(),
  keyBits: Type.Integer(),
  keyAlgorithm: Type.String(),
  validFrom: Type.String({ format: 'date-time' }),
  validBy: Type.String({ format: 'date-time' }),
  daysUntilExpiry: Type.Integer(),
  expiresSoon: Type.Boolean(),
  expiryWarningDays: Type.Integer(),
  automaticallyGenerated: Type.Boolean(),
  installedAt: Type.String({ format: 'date-time' }),
  previousCertificates: Type.Array(ReplacedCertificate, { description: 'Certificates replaced within the rotation grace period, newest first.' }),
});
