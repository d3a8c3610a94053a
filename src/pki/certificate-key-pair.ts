/**
 * A certificate chain with its private key, both as PEM text: the form the
 * TLS listener (`tls.createSecureContext({ cert, key })`) and the pair file
 * take, and what every import path (generate, PFX, PEM) produces.
 */
export interface CertificateKeyPair {
  /** The leaf certificate first, then any chain certificates. */
  certificatePem: string;
  /** Unencrypted PKCS#8 (`-----BEGIN PRIVATE KEY-----`). */
  privateKeyPem: string;
}
