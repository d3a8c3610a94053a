import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { CertificateKeyPair } from './certificate-key-pair.js';
import { CertificateInputError, inputError, openSslReason } from './errors.js';
import { keyBelongsToCertificate } from './key-match.js';
import { certificateDers } from './pem-text.js';
import { certificateValidity } from './validity.js';

/**
 * The last gate before a pair is stored or put on the listener: the key
 * belongs to the leaf, the leaf is valid now, and Node's TLS accepts the
 * two (which also enforces OpenSSL's security level, e.g. no RSA-1024).
 */
export function checkServingPair(pair: CertificateKeyPair, now: Date = new Date()): void {
  const [leafDer] = certificateDers(pair.certificatePem);
  if (leafDer === undefined) throw inputError('NoCertificate');
  const leaf = readLeaf(leafDer);
  const privateKey = readKey(pair.privateKeyPem);
  if (!keyBelongsToCertificate(privateKey, leaf)) throw inputError('KeyMismatch');

  const { validFrom, validBy } = certificateValidity(leafDer);
  if (now.getTime() < validFrom.getTime()) {
    throw new CertificateInputError('NotYetValid', `The certificate is not valid before ${rfc3339(validFrom)}.`);
  }
  if (now.getTime() > validBy.getTime()) {
    throw new CertificateInputError('Expired', `The certificate expired on ${rfc3339(validBy)}.`);
  }

  try {
    createSecureContext({ cert: pair.certificatePem, key: pair.privateKeyPem });
  } catch (error) {
    throw new CertificateInputError('UnsupportedKey', `TLS cannot use this certificate and key (${openSslReason(error)}).`);
  }
}

function readLeaf(der: Buffer): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    throw new CertificateInputError('NotPem', 'The certificate cannot be read.');
  }
}

function readKey(privateKeyPem: string): KeyObject {
  if (privateKeyPem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || privateKeyPem.includes('Proc-Type: 4,ENCRYPTED')) {
    throw new CertificateInputError('UnsupportedKey', 'The private key must be given unencrypted.');
  }
  try {
    return createPrivateKey(privateKeyPem);
  } catch (error) {
    throw new CertificateInputError('UnsupportedKey', `The private key cannot be read (${openSslReason(error)}).`);
  }
}

/** Whole seconds, UTC: X.509 validity has no finer grain. */
function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
