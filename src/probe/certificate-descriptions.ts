import { createHash } from 'node:crypto';
import { describeCertificateDer, type CertificateDescription } from '../pki/describe.js';

/**
 * Describing a certificate (pkijs and @peculiar/x509 parse it in full) costs
 * 10–20 ms, several times the TLS handshake itself on a LAN. A host shows the
 * same certificate to the probe, to the add session right after it and to every
 * rescan, so descriptions are kept by the SHA-256 of the DER: a pure function of
 * those bytes, safe to reuse. Bounded, oldest out first.
 */
const LIMIT = 1024;
const known = new Map<string, CertificateDescription>();

export function describeProbedCertificate(der: Buffer): CertificateDescription {
  const key = createHash('sha256').update(der).digest('base64');
  const cached = known.get(key);
  if (cached) return cached;
  const description = describeCertificateDer(der);
  if (known.size >= LIMIT) known.delete(known.keys().next().value!);
  known.set(key, description);
  return description;
}
