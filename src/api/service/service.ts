import { hostname } from 'node:os';
import { sql } from 'kysely';
import type { Store } from '../../store/database.js';
import { formatInstant } from '../../http/dates.js';
import type { CertificateDescription } from '../../pki/describe.js';
import { migrationNames } from '../../store/migrations.js';
import { PRODUCT_VERSION } from '../../version.js';

/** The VBR build each revision shipped with; clients read buildVersion to decide what a server can do. */
const BUILD_FOR_REVISION: Record<string, string> = {
  '1.0-rev1': '11.0.0.837',
  '1.0-rev2': '11.0.1.1261',
  '1.1-rev0': '12.0.0.1420',
  '1.1-rev1': '12.1.0.2131',
  '1.1-rev2': '12.2.0.334',
  '1.2-rev0': '12.3.0.310',
  '1.2-rev1': '12.3.1.1139',
  '1.3-rev0': '13.0.0.4967',
  '1.3-rev1': '13.0.1.180',
  '1.3-rev2': '13.0.1.1071',
};

export function serverTime(now = new Date()) {
  const offset = formatInstant(now)!.slice(-6);
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
  return { serverTime: formatInstant(now)!, timeZone: `(UTC${offset}) ${zone}` };
}

export function certificateModel(description: CertificateDescription) {
  return {
    thumbprint: description.thumbprint,
    // As .NET (and so Veeam) shows it: the DER bytes, sign byte included (00CE24…).
    serialNumber: description.serialNumberAsEncoded,
    keyAlgorithm: description.keyAlgorithm,
    keySize: description.keySize,
    subject: description.subject,
    issuedTo: description.issuedTo,
    issuedBy: description.issuedBy,
    validFrom: formatInstant(description.validFrom)!,
    validBy: formatInstant(description.validBy)!,
    isTrusted: false,
  };
}

export async function serverInfo(store: Store, installationId: string, revision: string | undefined, certificate: { validBy: Date; expiresSoon: boolean }) {
  const version =
    store.kind === 'sqlite'
      ? (await sql<{ v: string }>`select sqlite_version() as v`.execute(store.db)).rows[0]?.v
      : (await sql<{ v: string }>`show server_version`.execute(store.db).catch(() => ({ rows: [{ v: '' }] }))).rows[0]?.v;
  return {
    vbrId: installationId,
    name: hostname(),
    buildVersion: BUILD_FOR_REVISION[revision ?? '1.1-rev0'] ?? BUILD_FOR_REVISION['1.1-rev0'],
    patches: [],
    databaseVendor: store.kind === 'sqlite' ? 'SQLite' : 'PostgreSql',
    sqlServerEdition: '',
    sqlServerVersion: version ?? '',
    databaseSchemaVersion: String(migrationNames.length),
    databaseContentVersion: String(migrationNames.length),
    // 1.3: Rampart is never registered on Veeam's My Account portal, and runs on Linux.
    veeamRegistration: { isRegistered: false },
    platform: process.platform === 'win32' ? 'Windows' : 'Linux',
    productName: 'Rampart',
    productVersion: PRODUCT_VERSION,
    certificateExpiresSoon: certificate.expiresSoon,
    certificateValidBy: formatInstant(certificate.validBy)!,
  };
}
