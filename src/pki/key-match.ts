import type { KeyObject, X509Certificate } from 'node:crypto';
import { createPublicKey } from 'node:crypto';

/**
 * Whether a private key is the one a certificate was issued for. Both
 * public keys are exported by OpenSSL as SubjectPublicKeyInfo DER, so
 * encodings that differ only in form (a compressed EC point in the
 * certificate, say) still compare equal.
 */
export function keyBelongsToCertificate(privateKey: KeyObject, certificate: X509Certificate): boolean {
  const fromKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const fromCertificate = certificate.publicKey.export({ type: 'spki', format: 'der' });
  return fromKey.equals(fromCertificate);
}
