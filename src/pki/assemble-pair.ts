import type { KeyObject, X509Certificate } from 'node:crypto';
import type { CertificateKeyPair } from './certificate-key-pair.js';
import { leafFirstChain } from './chain-order.js';
import { inputError } from './errors.js';
import { keyBelongsToCertificate } from './key-match.js';
import { certificatesToPem } from './pem-text.js';

/**
 * Turns the certificates and private keys found in an uploaded bundle (PFX
 * or PEM) into a serving pair: the leaf is the certificate whose public key
 * matches a private key, the rest of the chain follows it, and the key is
 * written as unencrypted PKCS#8.
 */
export function assemblePair(certificates: readonly X509Certificate[], privateKeys: readonly KeyObject[]): CertificateKeyPair {
  if (privateKeys.length === 0) throw inputError('NoPrivateKey');
  if (certificates.length === 0) throw inputError('NoCertificate');
  for (const privateKey of privateKeys) {
    const leaf = certificates.find((certificate) => keyBelongsToCertificate(privateKey, certificate));
    if (leaf === undefined) continue;
    const others = certificates.filter((certificate) => certificate !== leaf);
    return {
      certificatePem: certificatesToPem(leafFirstChain(leaf, others).map((certificate) => certificate.raw)),
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  }
  throw inputError('KeyMismatch');
}
