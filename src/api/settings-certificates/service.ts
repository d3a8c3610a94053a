import { formatAwsTokenDate, formatInstant } from '../../http/dates.js';
import { ApiError, badRequest } from '../../http/errors.js';
import { CertificateInputError } from '../../pki/errors.js';
import { openPkcs12 } from '../../pki/pkcs12.js';
import { openPemBundle } from '../../pki/pem.js';
import { checkServingPair } from '../../pki/validate.js';
import type { CertificateKeyPair } from '../../pki/certificate-key-pair.js';
import type { ServingCertificate } from '../../certificates/serving-certificate.js';
import type { CertificateRotation } from '../../certificates/rotation.js';
import { CertificateRequestError, parseIdentity, parseKeyAlgorithm, parseValidBy } from '../../certificates/regenerate-request.js';
import { certificateModel } from '../service/service.js';
import type { SessionRecord } from '../../sessions/model.js';

export interface CertificateUpload {
  certificateFile: Buffer;
  certificatePassword: string;
  /** A separate PEM key, when the certificate file is a PEM chain without one. */
  privateKeyFile?: Buffer;
}

export interface CertificateSettingsOptions {
  expiryWarningDays: number;
  rotationGraceMs: number;
}

const DAY_MS = 86_400_000;

/** The Backup for AWS certificate settings, over Rampart's serving certificate. */
export class CertificateSettingsService {
  constructor(
    private readonly serving: ServingCertificate,
    private readonly rotation: CertificateRotation,
    private readonly options: CertificateSettingsOptions,
  ) {}

  list() {
    const { description, automaticallyGenerated } = this.serving.current;
    // Veeam's Backup for AWS SDK reads these two as YYYY-MM-DDTHH:MM:SS (UTC) and panics on anything else.
    const model = { ...withoutTrust(certificateModel(description)), validFrom: formatAwsTokenDate(description.validFrom), validBy: formatAwsTokenDate(description.validBy) };
    return { data: [{ ...model, automaticallyGenerated }] };
  }

  details(now = Date.now()) {
    const { description: d, automaticallyGenerated, installedAt } = this.serving.current;
    const msLeft = d.validBy.getTime() - now;
    return {
      thumbprint: d.thumbprint,
      sha1Fingerprint: d.sha1Fingerprint,
      sha256Fingerprint: d.sha256Fingerprint,
      sha256Hex: d.sha256Hex,
      sha256Base64: d.sha256Base64,
      serialNumber: d.serialNumberAsEncoded,
      subject: d.subject,
      issuer: d.issuer,
      subjectAlternativeNames: d.subjectAlternativeNames,
      keyType: d.keyType,
      keyBits: d.keyBits,
      keyAlgorithm: d.keyAlgorithm,
      validFrom: formatInstant(d.validFrom)!,
      validBy: formatInstant(d.validBy)!,
      daysUntilExpiry: Math.floor(msLeft / DAY_MS),
      expiresSoon: msLeft < this.options.expiryWarningDays * DAY_MS,
      expiryWarningDays: this.options.expiryWarningDays,
      automaticallyGenerated,
      installedAt: formatInstant(installedAt)!,
      previousCertificates: this.serving.recentlyReplaced(this.options.rotationGraceMs, now).map((r) => ({
        ...r,
        validBy: formatInstant(r.validBy)!,
        replacedAt: formatInstant(r.replacedAt)!,
      })),
    };
  }

  async regenerate(body: Record<string, unknown> | undefined, actor: string): Promise<SessionRecord> {
    const spec = body ?? {};
    let request;
    try {
      request = { validBy: parseValidBy(spec.validBy), keyAlgorithm: parseKeyAlgorithm(spec.keyAlgorithm), ...parseIdentity(spec.commonName, spec.subjectAlternativeNames) };
    } catch (err) {
      if (err instanceof CertificateRequestError) throw badRequest(err.message);
      throw err;
    }
    return finished(await this.rotation.regenerate(request, actor));
  }

  async upload(upload: CertificateUpload, actor: string): Promise<SessionRecord> {
    let pair: CertificateKeyPair;
    let source: string;
    try {
      if (looksLikePem(upload.certificateFile)) {
        pair = openPemBundle(upload.certificateFile.toString('utf8'), upload.privateKeyFile?.toString('utf8') ?? '', upload.certificatePassword || undefined);
        source = 'an uploaded PEM bundle';
      } else {
        pair = await openPkcs12(upload.certificateFile, upload.certificatePassword);
        source = 'an uploaded PKCS#12 file';
      }
      checkServingPair(pair);
    } catch (err) {
      if (err instanceof CertificateInputError) throw badRequest(err.message);
      throw err;
    }
    return finished(await this.rotation.install(pair, actor, source));
  }
}

function looksLikePem(file: Buffer): boolean {
  return file.subarray(0, 4096).toString('latin1').includes('-----BEGIN ');
}

/** The Backup for AWS model has no isTrusted (that is a 1.3 Backup & Replication field). */
function withoutTrust<T extends { isTrusted?: boolean }>(model: T): Omit<T, 'isTrusted'> {
  const { isTrusted: _unused, ...rest } = model;
  return rest;
}

function finished(session: SessionRecord): SessionRecord {
  if (session.result !== 'Success') {
    throw new ApiError(500, 'UnknownError', `The certificate was not replaced: ${session.resultMessage ?? 'unknown error'} (session ${session.id}).`);
  }
  return session;
}
