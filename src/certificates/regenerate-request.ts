import { isIP } from 'node:net';
import { defaultServerIdentity } from '../pki/generate.js';
import { isKeyAlgorithmName, keyAlgorithmNames, type KeyAlgorithmName } from '../pki/key-algorithms.js';

export class CertificateRequestError extends Error {}

export interface RegenerateRequest {
  validBy: Date;
  keyAlgorithm: KeyAlgorithmName;
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
}

const DAY_MS = 86_400_000;
const DOCUMENTED_FORM = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const DNS_NAME = /^(\*\.)?(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * `validBy` as Veeam documents it (`YYYY-MM-DDT00:00:00`, read as UTC) or as RFC 3339
 * with a zone and any fraction (the public Go SDK sends nanoseconds).
 */
export function parseValidBy(value: unknown, now = new Date()): Date {
  if (value === undefined || value === null || value === '') {
    throw new CertificateRequestError('validBy is required, e.g. {"validBy": "2030-01-01T00:00:00"}.');
  }
  if (typeof value !== 'string') throw new CertificateRequestError('validBy must be a string such as "2030-01-01T00:00:00".');
  let ms = Number.NaN;
  if (DOCUMENTED_FORM.test(value)) ms = Date.parse(`${value}Z`);
  else if (RFC3339.test(value)) {
    // Date.parse keeps milliseconds only; nanoseconds are cut, not rounded.
    ms = Date.parse(value.replace(/(\.\d{3})\d+/, '$1').replace(' ', 'T'));
  }
  if (Number.isNaN(ms) || !sameCalendarDate(value, ms)) {
    throw new CertificateRequestError(`validBy "${value.slice(0, 64)}" cannot be read as a date; use YYYY-MM-DDT00:00:00 or RFC 3339 such as 2030-01-01T00:00:00Z.`);
  }
  const validBy = new Date(ms);
  if (ms <= now.getTime()) throw new CertificateRequestError(`validBy ${validBy.toISOString()} is in the past.`);
  if (ms - now.getTime() < DAY_MS) throw new CertificateRequestError(`validBy ${validBy.toISOString()} is less than one day from now; choose a later date.`);
  const limit = new Date(now);
  limit.setUTCFullYear(limit.getUTCFullYear() + 100);
  if (ms > limit.getTime()) throw new CertificateRequestError(`validBy ${validBy.toISOString()} is more than 100 years from now; choose an earlier date.`);
  return validBy;
}

/** Rejects dates JavaScript would silently roll over, such as 2030-02-31. */
function sameCalendarDate(text: string, ms: number): boolean {
  if (!/[+-]\d{2}:\d{2}$|[Zz]$/.test(text) && !DOCUMENTED_FORM.test(text)) return true;
  const [y, m, d] = text.slice(0, 10).split('-').map(Number);
  const probe = new Date(Date.UTC(y, m - 1, d));
  return probe.getUTCFullYear() === y && probe.getUTCMonth() === m - 1 && probe.getUTCDate() === d && !Number.isNaN(ms);
}

export function parseKeyAlgorithm(value: unknown): KeyAlgorithmName {
  if (value === undefined || value === null || value === '') return 'ECDSA-P256';
  if (typeof value === 'string' && isKeyAlgorithmName(value)) return value;
  throw new CertificateRequestError(`keyAlgorithm "${String(value).slice(0, 40)}" is not supported; use one of: ${keyAlgorithmNames.join(', ')}.`);
}

/**
 * Subject alternative names: DNS names (wildcards allowed) and IPv4/IPv6 addresses,
 * optionally written `DNS:name` / `IP:address` as OpenSSL does. Without any, the
 * server's own names are used.
 */
export function parseIdentity(commonName: unknown, subjectAlternativeNames: unknown): Pick<RegenerateRequest, 'commonName' | 'dnsNames' | 'ipAddresses'> {
  const defaults = defaultServerIdentity();
  if (commonName !== undefined && (typeof commonName !== 'string' || commonName.trim() === '' || commonName.length > 64 || /\p{Cc}/u.test(commonName))) {
    throw new CertificateRequestError('commonName must be 1-64 printable characters.');
  }
  const cn = typeof commonName === 'string' ? commonName.trim() : defaults.commonName;
  if (subjectAlternativeNames === undefined || subjectAlternativeNames === null) {
    const dnsNames = [...defaults.dnsNames];
    if (DNS_NAME.test(cn) && !isIP(cn) && !dnsNames.includes(cn)) dnsNames.push(cn);
    return { commonName: cn, dnsNames, ipAddresses: defaults.ipAddresses };
  }
  if (!Array.isArray(subjectAlternativeNames) || subjectAlternativeNames.length === 0 || subjectAlternativeNames.length > 100) {
    throw new CertificateRequestError('subjectAlternativeNames must be a list of 1-100 DNS names or IP addresses.');
  }
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const raw of subjectAlternativeNames) {
    if (typeof raw !== 'string') throw new CertificateRequestError('subjectAlternativeNames must contain only strings.');
    const entry = raw.trim().replace(/^(DNS|IP):/i, '');
    const ipText = entry.replace(/^\[(.*)\]$/, '$1');
    if (isIP(ipText)) ipAddresses.push(ipText);
    else if (!/^IP:/i.test(raw.trim()) && DNS_NAME.test(entry)) dnsNames.push(entry.replace(/\.$/, '').toLowerCase());
    else throw new CertificateRequestError(`"${raw.slice(0, 80)}" in subjectAlternativeNames is neither a DNS name nor an IP address.`);
  }
  return { commonName: cn, dnsNames: [...new Set(dnsNames)], ipAddresses: [...new Set(ipAddresses)] };
}
