import type { X509Certificate } from 'node:crypto';

/**
 * Puts a leaf and the other certificates of a bundle in the order a TLS
 * server sends them: the leaf, its issuer, that one's issuer, and so on.
 * Duplicates are dropped. Certificates that are not on the leaf's path
 * (a PFX may carry unrelated CA certificates) follow in their original
 * order rather than being thrown away, so nothing the administrator
 * supplied silently disappears.
 */
export function leafFirstChain(leaf: X509Certificate, others: readonly X509Certificate[]): X509Certificate[] {
  const remaining = uniqueExcept(others, leaf);
  const chain = [leaf];
  let current = leaf;
  for (;;) {
    // A self-signed certificate is the top of its path.
    if (current.subject === current.issuer) break;
    const issuer = remaining.find((candidate) => current.checkIssued(candidate) && current.verify(candidate.publicKey));
    if (issuer === undefined) break;
    chain.push(issuer);
    remaining.splice(remaining.indexOf(issuer), 1);
    current = issuer;
  }
  return [...chain, ...remaining];
}

function uniqueExcept(certificates: readonly X509Certificate[], leaf: X509Certificate): X509Certificate[] {
  const seen = new Set<string>([leaf.fingerprint256]);
  const unique: X509Certificate[] = [];
  for (const certificate of certificates) {
    if (seen.has(certificate.fingerprint256)) continue;
    seen.add(certificate.fingerprint256);
    unique.push(certificate);
  }
  return unique;
}
