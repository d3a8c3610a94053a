import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import { assemblePair } from './assemble-pair.js';
import type { CertificateKeyPair } from './certificate-key-pair.js';
import { CertificateInputError, inputError, openSslReason } from './errors.js';
import { pemBlocks, privateKeyLabels, type PemBlock } from './pem-text.js';

/**
 * Opens a certificate chain and private key given as PEM, the way Linux
 * administrators usually hold them (cert.pem + key.pem, or both in one
 * file). Keys may be PKCS#8, PKCS#1 RSA or SEC1 EC, encrypted (PKCS#8 or
 * the old OpenSSL `Proc-Type: 4,ENCRYPTED` form) when a passphrase is
 * given. The result's key is unencrypted PKCS#8, the chain leaf first.
 *
 * Pass the whole text as `certificatePem` and leave `privateKeyPem` empty
 * when both are in one file; the two texts are simply read together.
 */
export function openPemBundle(certificatePem: string, privateKeyPem = '', passphrase?: string): CertificateKeyPair {
  const blocks = pemBlocks(`${certificatePem}\n${privateKeyPem}`);
  if (blocks.length === 0) throw inputError('NotPem');
  const privateKeys = blocks.filter((block) => privateKeyLabels.has(block.label)).map((block) => readPrivateKey(block, passphrase));
  const certificates = blocks.filter((block) => block.label === 'CERTIFICATE').map(readCertificate);
  return assemblePair(certificates, privateKeys);
}

function readCertificate(block: PemBlock): X509Certificate {
  try {
    return new X509Certificate(block.der);
  } catch {
    throw new CertificateInputError('NotPem', 'A certificate in the text cannot be read.');
  }
}

function readPrivateKey(block: PemBlock, passphrase: string | undefined): KeyObject {
  // Checked up front: Node 20 reports a missing passphrase as
  // ERR_MISSING_PASSPHRASE for some key forms and as an OpenSSL
  // "interrupted or cancelled" for others.
  if (isEncrypted(block) && passphrase === undefined) {
    throw new CertificateInputError('WrongPassword', 'The private key is encrypted; give its passphrase.');
  }
  try {
    return createPrivateKey({ key: block.text, format: 'pem', passphrase });
  } catch (error) {
    if (isEncrypted(block)) {
      // OpenSSL reports a wrong passphrase as "bad decrypt" or as a decoding failure of the garbage.
      throw new CertificateInputError('WrongPassword', 'The private key passphrase is wrong.');
    }
    throw new CertificateInputError('UnsupportedKey', `The private key cannot be read (${openSslReason(error)}).`);
  }
}

function isEncrypted(block: PemBlock): boolean {
  return block.label === 'ENCRYPTED PRIVATE KEY' || block.text.includes('Proc-Type: 4,ENCRYPTED');
}
