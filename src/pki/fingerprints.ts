import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Digests of certificates (DER) and SSH host keys (wire blob), printed the
 * ways people meet them: Windows thumbprints, OpenSSL colon hex, OpenSSH
 * `SHA256:` base64. And the reverse: reading a fingerprint an administrator
 * pasted, in any of those forms, to pin a host.
 */

export type FingerprintAlgorithm = 'SHA256' | 'SHA1' | 'MD5';

const nodeDigestName: Record<FingerprintAlgorithm, string> = { SHA256: 'sha256', SHA1: 'sha1', MD5: 'md5' };
const digestLength: Record<FingerprintAlgorithm, number> = { SHA256: 32, SHA1: 20, MD5: 16 };

export function digest(algorithm: FingerprintAlgorithm, material: Uint8Array): Buffer {
  return createHash(nodeDigestName[algorithm]).update(material).digest();
}

/** `AA:BB:...`, the way OpenSSL and Node's X509Certificate print fingerprints. */
export function colonHex(bytes: Uint8Array): string {
  return Buffer.from(bytes)
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');
}

/** SHA-1 of the DER, 40 uppercase hex digits: the thumbprint Windows (and Veeam) shows. */
export function sha1Thumbprint(der: Uint8Array): string {
  return digest('SHA1', der).toString('hex').toUpperCase();
}

export function sha1ColonHex(der: Uint8Array): string {
  return colonHex(digest('SHA1', der));
}

export function sha256ColonHex(der: Uint8Array): string {
  return colonHex(digest('SHA256', der));
}

export function sha256Hex(der: Uint8Array): string {
  return digest('SHA256', der).toString('hex');
}

/** Unpadded base64 of the SHA-256, as OpenSSH prints after `SHA256:`. */
export function sha256Base64(material: Uint8Array): string {
  return digest('SHA256', material).toString('base64').replace(/=+$/, '');
}

/** `SHA256:<unpadded base64>`, OpenSSH's default host key fingerprint. */
export function opensshSha256Fingerprint(material: Uint8Array): string {
  return `SHA256:${sha256Base64(material)}`;
}

export interface NormalizedFingerprint {
  algorithm: FingerprintAlgorithm;
  bytes: Buffer;
}

const hexPattern = /^[0-9a-f]+$/i;
// Pairs of hex digits separated by colons, spaces or dashes (Windows certmgr uses spaces).
const separatedHexPattern = /^[0-9a-f]{2}([:\- ][0-9a-f]{2})+$/i;
const base64Pattern = /^[A-Za-z0-9+/_-]+={0,2}$/;

function algorithmForHexLength(length: number): FingerprintAlgorithm | null {
  if (length === 64) return 'SHA256';
  if (length === 40) return 'SHA1';
  if (length === 32) return 'MD5';
  return null;
}

function readHex(text: string): Buffer | null {
  if (separatedHexPattern.test(text)) return Buffer.from(text.replace(/[:\- ]/g, ''), 'hex');
  if (hexPattern.test(text) && text.length % 2 === 0) return Buffer.from(text, 'hex');
  return null;
}

function readBase64(text: string): Buffer | null {
  if (!base64Pattern.test(text)) return null;
  // Accept base64url too: some tools print it, and the bytes are the same.
  const standard = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (standard.length % 4 === 1) return null;
  const bytes = Buffer.from(standard, 'base64');
  // Buffer.from ignores junk silently; round-trip to be sure every character counted.
  if (bytes.toString('base64').replace(/=+$/, '') !== standard) return null;
  return bytes;
}

/**
 * Reads a fingerprint in any form an administrator is likely to paste:
 * - `SHA256:<base64>` (OpenSSH; padded or not), `SHA1:<...>`, `MD5:aa:bb:...`
 *   (the prefix names the algorithm; the body may be hex or base64);
 * - bare hex, with or without `:`/space/`-` separators, any case:
 *   64 digits are SHA-256, 40 SHA-1, 32 MD5;
 * - bare base64 of 32 bytes (SHA-256).
 * Returns null when the text is none of these, or the length does not fit
 * the algorithm.
 */
export function normalizeFingerprint(input: string): NormalizedFingerprint | null {
  const text = input.trim();
  const prefixed = /^(SHA-?256|SHA-?1|MD5):(.+)$/i.exec(text);
  if (prefixed) {
    const name = prefixed[1].toUpperCase().replace('-', '');
    const algorithm: FingerprintAlgorithm = name === 'SHA256' ? 'SHA256' : name === 'SHA1' ? 'SHA1' : 'MD5';
    const body = prefixed[2].trim();
    const hex = readHex(body);
    const bytes = hex !== null && hex.length === digestLength[algorithm] ? hex : readBase64(body);
    return bytes !== null && bytes.length === digestLength[algorithm] ? { algorithm, bytes } : null;
  }
  const hex = readHex(text);
  if (hex !== null) {
    const algorithm = algorithmForHexLength(hex.length * 2);
    if (algorithm !== null) return { algorithm, bytes: hex };
  }
  const base64 = readBase64(text);
  if (base64 !== null && base64.length === digestLength.SHA256) return { algorithm: 'SHA256', bytes: base64 };
  return null;
}

/**
 * Whether `given` (any form `normalizeFingerprint` reads) is the fingerprint
 * of `material` (a DER certificate or an SSH host key blob). The digest is
 * taken with the algorithm the given fingerprint is in, and compared in
 * constant time. An unreadable fingerprint matches nothing.
 */
export function fingerprintMatches(given: string, material: Uint8Array): boolean {
  const expected = normalizeFingerprint(given);
  if (expected === null) return false;
  const actual = digest(expected.algorithm, material);
  return actual.length === expected.bytes.length && timingSafeEqual(actual, expected.bytes);
}
